#!/usr/bin/env bash
# End to end: 2-rank training for a few iterations on a tiny synthetic set produces MMSeg's log
# lines, JSON lines, evaluation results and checkpoints that load in Python; --load-from starts
# at 0; resume and auto-resume; segtest evaluates a checkpoint and writes coloured predictions.
# Usage: test_train.sh SEGTRAIN SEGTEST
set -u
SEGTRAIN="$(realpath "$1")"
SEGTEST="$(realpath "$2")"
cd "$(dirname "$0")/../.."
source tests/e2e/e2e_lib.sh
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
tiny_shards "$T"
RUN=(--options "data.train.data_root=$T/shards" "data.val.data_root=$T/shards" "data.test.data_root=$T/shards"
     runner.max_iters=12 log_config.interval=4 checkpoint_config.interval=6 evaluation.interval=6
     data.samples_per_gpu=2 "data.train.pipeline.2.img_scale=[48,40]" "data.val.pipeline.1.img_scale=[48,40]")

expect_exit 0 "2-rank training" -- mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --work-dir "$T/wd" --seed 3 "${RUN[@]}" evaluation.save_best=mIoU
LOG=$(ls "$T"/wd/*.log); JSON=$(ls "$T"/wd/*.log.json)
check "three train log lines" test "$(grep -c 'Iter \[[0-9]*/12\]' "$LOG")" = 3
check "MMSeg's train line" grep -qE 'Iter \[12/12\]	lr: [0-9.e+-]+, eta: [0-9:]+, time: [0-9.]+, data_time: [0-9.]+, memory: [0-9]+, decode.loss_ce: [0-9.]+, decode.acc_seg: [0-9.]+, aux.loss_ce: [0-9.]+, aux.acc_seg: [0-9.]+, loss: [0-9.]+$' "$LOG"
check "evaluation table and summary" grep -q '|  aAcc |  mIoU |  mAcc |' "$LOG"
check "two evaluations" test "$(grep -c 'Iter(val) \[' "$LOG")" = 2
check "checkpoints" test -f "$T/wd/iter_6.pth" -a -f "$T/wd/iter_12.pth" -a -f "$T/wd/latest.pth"
check "JSON log: meta, 3 train lines, 2 val lines" ./scripts/py -c "
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert 'config' in lines[0] and lines[0]['world_size'] == 2 and lines[0]['seed'] == 3, lines[0].keys()
train = [l for l in lines if l.get('mode') == 'train']
val = [l for l in lines if l.get('mode') == 'val']
assert [l['iter'] for l in train] == [4, 8, 12], train
assert all(k in train[0] for k in ('lr', 'time', 'data_time', 'memory', 'decode.loss_ce', 'aux.acc_seg', 'loss'))
assert [l['iter'] for l in val] == [6, 12] and all(0 <= l['mIoU'] <= 1 for l in val)
assert 'IoU.class_0' in val[0] and 'Acc.class_7' in val[0] and 'aAcc' in val[0]
" "$JSON"
check "latest.pth loads in Python with MMSeg's layout" ./scripts/py -c "
import sys, torch
c = torch.load(sys.argv[1], weights_only=False)
assert c['meta']['iter'] == 12 and c['meta']['seed'] == 3 and len(c['meta']['CLASSES']) == 8
assert 'backbone.stem.0.weight' in c['state_dict'] and 'decode_head.conv_seg.weight' in c['state_dict']
assert 'auxiliary_head.convs.0.conv.weight' in c['state_dict']
" "$T/wd/latest.pth"
check "latest equals iter_12" cmp -s "$T/wd/latest.pth" "$T/wd/iter_12.pth"
check "save_best keeps one best_mIoU_iter_N.pth, N the best evaluation's" ./scripts/py -c "
import glob, json, sys, torch
val = [l for l in map(json.loads, open(sys.argv[1])) if l.get('mode') == 'val']
best = max(val, key=lambda l: (l['mIoU'], -l['iter']))
files = glob.glob(sys.argv[2] + '/best_mIoU_iter_*.pth')
assert files == [sys.argv[2] + '/best_mIoU_iter_%d.pth' % best['iter']], (files, best['iter'])
c = torch.load(files[0], weights_only=False)
assert c['meta']['iter'] == best['iter'] and abs(c['meta']['hook_msgs']['best_score'] - best['mIoU']) < 1e-12
" "$JSON" "$T/wd"

# segtest on 2 ranks: the same figures as the training's last evaluation (same weights, same
# val split), one PNG per sample, the metrics as JSON in --work-dir.
TEST_DATA=(--options "data.test.data_root=$T/shards" "data.val.data_root=$T/shards" "data.train.data_root=$T/shards"
           "data.test.pipeline.1.img_scale=[48,40]")
expect_exit 0 "segtest on 2 ranks" -- mpirun --oversubscribe --bind-to none -np 2 "$SEGTEST" "$DEMO" "$T/wd/latest.pth" \
  --eval mIoU --show-dir "$T/show" --work-dir "$T/testwd" "${TEST_DATA[@]}"
check "segtest logs the summary table" contains "$OUT" "|  aAcc |  mIoU |  mAcc |"
check "segtest's metrics equal the training's last evaluation" ./scripts/py -c "
import json, sys
val = [l for l in map(json.loads, open(sys.argv[1])) if l.get('mode') == 'val'][-1]
test = json.load(open(sys.argv[2]))['metric']
assert all(abs(val[k] - test[k]) < 1e-9 for k in ('aAcc', 'mIoU', 'mAcc')), (val, test)
" "$JSON" "$(ls "$T"/testwd/eval_*.json 2>/dev/null | head -n 1)"
check "one PNG per val sample, at the image size" ./scripts/py -c "
import sys, glob
from PIL import Image
files = sorted(glob.glob(sys.argv[1] + '/*.png'))
assert len(files) == 4, files
assert all(Image.open(f).size == (48, 40) and Image.open(f).mode == 'RGB' for f in files)
" "$T/show"
expect_exit 0 "segtest --aug-test" -- "$SEGTEST" "$DEMO" "$T/wd/latest.pth" --eval mIoU --aug-test "${TEST_DATA[@]}"
check "aug-test logs the summary" contains "$OUT" "|  aAcc |  mIoU |  mAcc |"
expect_exit 2 "segtest with nothing to do" -- "$SEGTEST" "$DEMO" "$T/wd/latest.pth"
check "says what to give" contains "$ERR" "give --eval mIoU and/or --show-dir"
expect_exit 2 "segtest with an unknown metric" -- "$SEGTEST" "$DEMO" "$T/wd/latest.pth" --eval mDice
check "names the metric" contains "$ERR" "unsupported metric 'mDice'"
expect_exit 2 "segtest with a missing checkpoint" -- "$SEGTEST" "$DEMO" "$T/none.pth" --eval mIoU
check "names the file" contains "$ERR" "$T/none.pth: no such checkpoint file"

expect_exit 0 "--load-from starts at 0" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd2" --load-from "$T/wd/latest.pth" "${RUN[@]}" runner.max_iters=4 checkpoint_config.interval=4 evaluation.interval=4
check "load-from reports what it loaded" grep -q "load_from $T/wd/latest.pth: [0-9]* tensors loaded" "$T"/wd2/*.log
check "load-from trains from iteration 0" grep -q 'Iter \[4/4\]' "$T"/wd2/*.log
printf "_base_: $PWD/$DEMO\nmodel: {decode_head: {channels: 32}}\n" > "$T/other_width.yaml"
expect_exit 0 "--load-from into a model with other shapes" -- "$SEGTRAIN" "$T/other_width.yaml" --work-dir "$T/wd3" --load-from "$T/wd/latest.pth" "${RUN[@]}" runner.max_iters=2 evaluation.interval=100 checkpoint_config.interval=100
check "shape mismatches are reported and skipped" grep -q "size mismatch (skipped): decode_head.conv_seg.weight" "$T"/wd3/*.log
./scripts/py -c "import sys, torch; torch.save({'state_dict': {'backbone.foo': torch.zeros(2)}}, sys.argv[1])" "$T/foreign.pth"
expect_exit 2 "--load-from a file of which no tensor fits" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd6" --load-from "$T/foreign.pth" "${RUN[@]}"
check "says so, naming the file" contains "$ERR" "$T/foreign.pth: none of its tensors fits the model by name and shape (e.g. unexpected backbone.foo)"
printf "_base_: $PWD/$DEMO\nmodel: {decode_head: {num_classes: 5}}\n" > "$T/other_classes.yaml"
expect_exit 2 "num_classes unlike the dataset's" -- "$SEGTRAIN" "$T/other_classes.yaml" --work-dir "$T/wd5" "${RUN[@]}"
check "num_classes error names the key and the dataset" contains "$ERR" "key 'model.decode_head.num_classes': is 5 but the dataset"

# Resume: interrupted at 6 and resumed, the run ends bitwise where an uninterrupted one does.
MP=(mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --deterministic --seed 5)
RES=("${RUN[@]}" log_config.interval=2 evaluation.interval=100)
expect_exit 0 "uninterrupted deterministic run" -- "${MP[@]}" --work-dir "$T/full" "${RES[@]}"
expect_exit 0 "resume from iter_6" -- "${MP[@]}" --work-dir "$T/resumed" --resume-from "$T/full/iter_6.pth" "${RES[@]}"
check "resumed at iteration 6" grep -q "resumed from $T/full/iter_6.pth at iteration 6" "$T"/resumed/*.log
SAME_WEIGHTS='
import sys, torch
a = torch.load(sys.argv[1], weights_only=False); b = torch.load(sys.argv[2], weights_only=False)
assert a["state_dict"].keys() == b["state_dict"].keys()
bad = [k for k in a["state_dict"] if not torch.equal(a["state_dict"][k], b["state_dict"][k])]
assert not bad, bad[:5]
for k, s in a["optimizer"]["state"].items():
    assert torch.equal(s["momentum_buffer"], b["optimizer"]["state"][k]["momentum_buffer"]), k
assert a["sampler"] == b["sampler"] and torch.equal(a["rng"], b["rng"])
'
check "final weights, momentum, sampler and RNG are bitwise equal" ./scripts/py -c "$SAME_WEIGHTS" "$T/full/iter_12.pth" "$T/resumed/iter_12.pth"
check "the loss sequence after the resume is the same" ./scripts/py -c "
import json, sys
def losses(f):
    return {l['iter']: (l['loss'], l['decode.loss_ce']) for l in map(json.loads, open(f)) if l.get('mode') == 'train'}
a, b = losses(sys.argv[1]), losses(sys.argv[2])
assert sorted(b) == [8, 10, 12] and all(a[i] == b[i] for i in b), (a, b)
" "$(ls "$T"/full/*.log.json)" "$(ls "$T"/resumed/*.log.json)"

# dist_params.collectives_on_one_rank (the one-GPU check of the NCCL path): alone, SyncBN and the
# reducer still communicate, and the run is the one without them (the same losses to rounding
# for 4 iterations; later the demo's large lr grows the rounding differences).
ONE=("$SEGTRAIN" "$DEMO" --deterministic --seed 5 "${RUN[@]}" log_config.interval=1 evaluation.interval=100)
expect_exit 0 "one rank, no collectives" -- "${ONE[@]}" --work-dir "$T/alone"
expect_exit 0 "one rank, collectives on" -- "${ONE[@]}" dist_params.collectives_on_one_rank=true --work-dir "$T/forced"
check "the reducer is on with the option and off without" \
  test "$(grep -c 'gradients averaged over 1 rank(s) by mpi in [0-9]* bucket(s)' "$T"/forced/*.log)" = 1 -a \
       "$(grep -c 'gradients averaged over' "$T"/alone/*.log)" = 0
# losses_follow RUN N REL FLOOR ADD [decreasing]: RUN's 12 logged losses and the float32 run's
# ($T/alone) agree in the first N, each within REL x max(FLOOR, |float32's|) + ADD; with
# `decreasing`, RUN's last is below its first.
losses_follow() {
  ./scripts/py -c "
import json, sys
def losses(f):
    return [l['loss'] for l in map(json.loads, open(f)) if l.get('mode') == 'train']
a, b = losses(sys.argv[1]), losses(sys.argv[2])
n, rel, floor, add = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
close = all(abs(x - y) <= rel * max(floor, abs(x)) + add for x, y in zip(a[:n], b[:n]))
assert len(a) == len(b) == 12 and close, (a, b)
assert sys.argv[7:] != ['decreasing'] or b[-1] < b[0], b
" "$(ls "$T"/alone/*.log.json)" "$(ls "$T/$1"/*.log.json)" "${@:2}"
}
check "the same losses with and without" losses_follow forced 4 1e-4 1 0

# Precision and memory format on the CPU: bfloat16 autocast (fp16.dtype=bfloat16) and
# channels_last train as float32 does: each logged loss within 5% + 0.02 of float32's, and the
# last below the first. (bfloat16 keeps 8 bits of mantissa; channels_last draws the heads'
# dropout masks in memory order, so not to rounding: models/test_memory_format.cpp checks
# its exact parity without dropout.)
expect_exit 0 "one rank, bf16 autocast" -- "${ONE[@]}" fp16.dtype=bfloat16 --work-dir "$T/bf16"
check "the precision is logged" grep -q 'precision: bf16 autocast' "$T"/bf16/*.log
check "bf16 losses follow float32's" losses_follow bf16 12 0.05 0 0.02 decreasing
expect_exit 0 "one rank, channels_last" -- "${ONE[@]}" channels_last=True --work-dir "$T/nhwc"
check "channels_last losses follow float32's" losses_follow nhwc 12 0.05 0 0.02 decreasing
# Gradients sent in 16 bits (comm_hook, DDP's fp16_compress_hook) in 1 MiB buckets (bucket_cap_mb):
# more buckets than the default 25 MiB gives, and float16's rounding of the average only.
expect_exit 0 "one rank, collectives on, fp16_compress, 1 MiB buckets" -- "${ONE[@]}" \
  dist_params.collectives_on_one_rank=true comm_hook=fp16_compress bucket_cap_mb=1 --work-dir "$T/fp16_comm"
buckets_in() { sed -n 's/.*gradients averaged over 1 rank(s) by mpi in \([0-9]*\) bucket(s).*/\1/p' "$T"/$1/*.log; }
check "bucket_cap_mb=1 makes more buckets ($(buckets_in fp16_comm) vs $(buckets_in forced))" \
  test "$(buckets_in fp16_comm)" -gt "$(buckets_in forced)"
check "the log says the gradients travel in 16 bits" grep -q 'sent in 16 bits (comm_hook: fp16_compress)' "$T"/fp16_comm/*.log
check "fp16-compressed losses follow float32's" losses_follow fp16_comm 12 0.05 0 0.02 decreasing

# model.pretrained: the backbone starts from the file's backbone part (here a whole segtrain
# checkpoint, as MMCV takes an MMSeg one); with lr 0 its convolutions are still the file's after
# a step (BN statistics move in train mode).
expect_exit 0 "pretrained backbone" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/pre" "${RUN[@]}" runner.max_iters=1 \
  optimizer.lr=0 lr_config.min_lr=0 "model.pretrained=$T/wd/iter_12.pth"
check "the backbone load is logged" grep -q "backbone from $T/wd/iter_12.pth ([^)]*): [0-9]* tensors loaded" "$T"/pre/*.log
check "the backbone's convolutions are the file's" ./scripts/py -c "
import sys, torch
a = torch.load(sys.argv[1], weights_only=False)['state_dict']; b = torch.load(sys.argv[2], weights_only=False)['state_dict']
convs = [k for k in a if k.startswith('backbone.') and a[k].dim() == 4]
assert len(convs) > 10 and all(torch.equal(a[k], b[k]) for k in convs), convs[:3]
heads = [k for k in a if k.startswith('decode_head.') and a[k].dim() == 4]
assert heads and not all(torch.equal(a[k], b[k]) for k in heads)  # the heads were not loaded
" "$T/wd/iter_12.pth" "$T/pre/iter_1.pth"
expect_exit 2 "pretrained file missing" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/pre2" "${RUN[@]}" "model.pretrained=$T/none.pth"
check "names the key and the file" contains "$ERR" "key 'model.pretrained': '$T/none.pth': no such file"

# --auto-resume: a damaged latest.pth is reported and the newest intact checkpoint used.
mkdir -p "$T/auto"; cp "$T/full/iter_6.pth" "$T/auto/"; head -c 1000 "$T/full/latest.pth" > "$T/auto/latest.pth"
expect_exit 0 "auto-resume past a damaged latest.pth" -- "${MP[@]}" --work-dir "$T/auto" --auto-resume "${RES[@]}"
check "the damaged latest is reported" grep -q "latest.pth is damaged or incomplete" "$T"/auto/*.log
check "auto-resume ends where the uninterrupted run does" ./scripts/py -c "$SAME_WEIGHTS" "$T/full/iter_12.pth" "$T/auto/iter_12.pth"
expect_exit 0 "auto-resume in an empty work_dir starts fresh" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/fresh" --auto-resume "${RUN[@]}" runner.max_iters=2
check "fresh start is logged" grep -q "auto-resume: no checkpoint in the work_dir" "$T"/fresh/*.log
head -c 1000 "$T/full/latest.pth" > "$T/torn.pth"
# Into an existing work_dir: a mistake found before the run starts leaves it byte-identical.
before="$(cd "$T/wd2" && find . -type f | sort | xargs sha1sum)"
expect_exit 2 "--resume-from a torn checkpoint" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/wd2" --resume-from "$T/torn.pth" "${RUN[@]}"
check "names the file" contains "$ERR" "$T/torn.pth: cannot read the checkpoint"
check "the existing work_dir is untouched" test "$before" = "$(cd "$T/wd2" && find . -type f | sort | xargs sha1sum)"
# Resumed on fewer ranks (a requeued job on fewer nodes): a 2-rank run checkpointed at iteration 3
# (each rank took 6 samples of 8: epoch 1, 2 samples per rank, so global sample 4 of epoch 1) goes
# on on 1 rank at global sample 4 of epoch 1 (the epoch's permutation is the same for any number
# of ranks: samples 0-3 are not repeated, 4-7 are not skipped) and trains to the end: 6 more
# samples from there end at epoch 2, offset 2, which the last checkpoint must say.
expect_exit 0 "2 ranks, 3 iterations" -- mpirun --oversubscribe --bind-to none -np 2 "$SEGTRAIN" "$DEMO" --work-dir "$T/two" "${RUN[@]}" runner.max_iters=3 checkpoint_config.interval=3 evaluation.interval=100
expect_exit 0 "resumed on 1 rank" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/one" --resume-from "$T/two/iter_3.pth" "${RUN[@]}" runner.max_iters=6 checkpoint_config.interval=3 evaluation.interval=100
check "the change of ranks is logged, with the data position" grep -q "the checkpoint's run had 2 rank(s), this one has 1: the global batch is now 2 (was 4); the data order goes on at sample 4 of epoch 1, exactly" "$T"/one/*.log
check "trained to the end" grep -q 'Iter \[6/6\]' "$T"/one/*.log
check "the data position at the end is epoch 2, offset 2 of 1 rank" ./scripts/py -c "
import sys, torch
a = torch.load(sys.argv[1], weights_only=False)['sampler']; b = torch.load(sys.argv[2], weights_only=False)['sampler']
assert a == {'epoch': 1, 'offset': 2, 'world_size': 2}, a
assert b == {'epoch': 2, 'offset': 2, 'world_size': 1}, b
" "$T/two/iter_3.pth" "$T/one/iter_6.pth"

# checkpoint_config.save_optimizer=False: --auto-resume takes such a file (a fresh optimizer,
# logged), and max_keep_ckpts counts the iter_N.pth of the run before the resume.
NOOPT=("${RUN[@]}" checkpoint_config.interval=2 checkpoint_config.save_optimizer=False evaluation.interval=100)
expect_exit 0 "a run that saves no optimizer state" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/noopt" "${NOOPT[@]}" runner.max_iters=4
check "its checkpoints have no optimizer" ./scripts/py -c "
import sys, torch
c = torch.load(sys.argv[1], weights_only=False)
assert 'optimizer' not in c and c['meta']['iter'] == 4 and 'sampler' in c, sorted(c)
" "$T/noopt/latest.pth"
expect_exit 0 "--auto-resume from it" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/noopt" --auto-resume "${NOOPT[@]}" runner.max_iters=8 checkpoint_config.max_keep_ckpts=2
check "the fresh optimizer is logged" grep -q "no optimizer state in $T/noopt/latest.pth" "$T"/noopt/*.log
check "the run went on from iteration 4" grep -q "resumed from $T/noopt/latest.pth at iteration 4" "$T"/noopt/*.log
check "max_keep_ckpts=2 left iter_6 and iter_8 only" test "$(cd "$T/noopt" && ls iter_*.pth | sort | tr '\n' ' ')" = "iter_6.pth iter_8.pth "

# Malformed checkpoints: exit 2 and one line that names the file and the key.
./scripts/py -c "
import sys, torch
c = torch.load(sys.argv[1], weights_only=False)
def save(name, **change):
    d = dict(c); d.update(change); torch.save(d, sys.argv[2] + '/' + name)
save('meta_list.pth', meta=[1, 2])
save('no_offset.pth', sampler={'epoch': 0})
save('negative_iter.pth', meta=dict(c['meta'], iter=-3))
opt = {'type': 'SGD', 'state': dict(c['optimizer']['state'])}
name = sorted(opt['state'])[0]
opt['state'][name] = {'momentum_buffer': torch.zeros(3)}
save('bad_momentum.pth', optimizer=opt)
print(name)
" "$T/full/iter_6.pth" "$T" > "$T/bad_param"
for case in "meta_list:key 'meta': expected a dict" "no_offset:missing (no key 'sampler.offset')" \
            "negative_iter:key 'meta.iter': expected an integer >= 0" \
            "bad_momentum:key 'optimizer.state.$(cat "$T/bad_param").momentum_buffer': shape [3] unlike"; do
  f="$T/${case%%:*}.pth"
  expect_exit 2 "--resume-from ${case%%:*}.pth" -- "$SEGTRAIN" "$DEMO" --work-dir "$T/bad" --resume-from "$f" "${RUN[@]}"
  check "${case%%:*}: one line naming the file and key" test "$(grep -c . "$ERR")" = 1 -a -n "$(grep -F -- "$f: ${case#*:}" "$ERR")"
done
finish
