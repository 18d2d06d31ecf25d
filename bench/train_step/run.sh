#!/usr/bin/env bash
# ./scripts/bench.sh train_step [ITERS] [WARMUP] [ROUNDS]: seconds per training iteration of the
# demo model (configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml: FCN, ResNetV1c-18 D8, SyncBN,
# batch 4 x 64x64 per rank) on CPU, one thread per rank (OMP_NUM_THREADS=1), three ways:
#   segtrain      the real trainer, `mpirun -np 1|2 build/segtrain ... --no-validate`, on the
#                 synthetic shards; per iteration the `time` of its .log.json (logged every
#                 iteration, averaged over ranks: data wait + forward + backward with the gradient
#                 reducer + SGD step, as MMSeg's `time`).
#   python        bench/train_step/reference_train.py under `mpirun -np 1|2`: the same model in
#                 torch.nn, DDP over gloo, SyncBN with 2 ranks, same batch, crop and optimizer, the
#                 torch of the setup; one fixed random batch (no data loading is timed there).
#   compute-only  build/bench/bench_train_step: segtrain's model and optimizer in one process,
#                 no MPI, no reducer, no loader (the floor the trainer's overhead is measured on).
# Two rows explain the gaps and are no goal: "compute + reducer" (bench_train_step --reducer: the
# 1-rank communicator and gradient reducer added, no loader) and "python, BN" (2 ranks with plain
# BN per rank: DDP's gradient allreduce without SyncBN's collectives).
# Each figure is the median over ITERS iterations after WARMUP (defaults 30 and 10); with
# ROUNDS > 1 (default 2) every configuration runs ROUNDS times, interleaved, and the fastest
# round counts (least disturbed by other load on the machine).
# Ratios: segtrain_vs_python = segtrain / python at 2 ranks (goal <= 0.85; also given at 1 rank),
# segtrain_vs_compute_only = segtrain at 1 rank / compute-only (goal <= 1.03).
# Scaling efficiency (weak scaling, the per-rank batch fixed): time per iteration with 1 rank /
# time with 2 ranks; 1.0 = two ranks train twice the images per second of one.
# Other load on the machine distorts the figures (two ranks on two cores most), so the CPU time
# other processes took during the run is reported (JSON other_cpu_share: their share of all cores).
# The last line is one JSON object.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
ITERS="${1:-30}"; WARMUP="${2:-10}"; ROUNDS="${3:-2}"
CONFIG=configs/demo/fcn_r18-d8_64x64_2k_synthetic.yaml
export OMP_NUM_THREADS=1
MPIRUN=(mpirun --oversubscribe --bind-to none)
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT

# The demo's shards if scripts/demo.sh made them, else a small copy made here.
data_opts=()
if [ ! -d data/synthetic_shards/train ]; then
  ./scripts/make_synthetic_dataset.py "$T/png" --train 64 --val 0 --size 128x96 --num-classes 8 >/dev/null
  ./scripts/convert_dataset.py cityscapes "$T/png" "$T/shards" --splits train \
    --classes background,stripes_0,stripes_1,stripes_2,stripes_3,stripes_4,stripes_5,stripes_6 >/dev/null
  data_opts=("data.train.data_root=$T/shards" "data.val.data_root=$T/shards" "data.test.data_root=$T/shards")
fi
load_before="$(cut -d' ' -f1 /proc/loadavg)"
# Busy jiffies of the whole machine (user nice system irq softirq steal), to tell others' load.
busy_jiffies() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
busy_before="$(busy_jiffies)"; wall_before="$(date +%s.%N)"

# Median `time` of the iterations after WARMUP in a segtrain work_dir's JSON log.
log_median() {
  python3 - "$1" "$WARMUP" <<'PY'
import glob, json, statistics, sys
log = sorted(glob.glob(sys.argv[1] + "/*.log.json"))[-1]
rows = [json.loads(l) for l in open(log) if l.strip()]
rows = [r for r in rows if r.get("mode") == "train" and r["iter"] > int(sys.argv[2])]
print(json.dumps({"seconds_per_iter": statistics.median(r["time"] for r in rows),
                  "data_seconds": statistics.median(r["data_time"] for r in rows), "iters": len(rows)}))
PY
}

run_compute_only() {  # [--reducer]
  build/bench/bench_train_step "$@" "$CONFIG" "$WARMUP" "$ITERS" "${data_opts[@]}" | tail -n 1
}

run_segtrain() {  # RANKS ROUND
  local dir="$T/segtrain_$1_$2"
  if ! "${MPIRUN[@]}" -np "$1" build/segtrain "$CONFIG" --work-dir "$dir" --no-validate --seed 0 \
      --options runner.max_iters=$((WARMUP + ITERS)) log_config.interval=1 "${data_opts[@]}" >"$dir.out" 2>&1; then
    tail -n 20 "$dir.out" >&2
    echo "train_step: segtrain with $1 rank(s) failed" >&2
    exit 1
  fi
  log_median "$dir"
}

run_python() {  # RANKS BATCH CROP [--norm bn]
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${MPIRUN[@]}" -np "$1" -x MASTER_ADDR=127.0.0.1 -x MASTER_PORT="$port" ./scripts/py bench/train_step/reference_train.py \
    --arch fcn_r18 --device cpu --batch "$2" --crop "$3" --iters "$ITERS" --warmup "$WARMUP" --threads 1 "${@:4}" | tail -n 1
}

results="$T/results.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  compute="$(run_compute_only)"  # (assigned first: a failure then stops the script)
  echo "{\"kind\": \"compute_only\", \"ranks\": 1, \"result\": $compute}" >>"$results"
  batch="$(echo "$compute" | python3 -c 'import json, sys; print(json.load(sys.stdin)["batch"])')"
  crop="$(echo "$compute" | python3 -c 'import json, sys; print("x".join(map(str, json.load(sys.stdin)["crop"])))')"
  with_reducer="$(run_compute_only --reducer)"
  echo "{\"kind\": \"compute_with_reducer\", \"ranks\": 1, \"result\": $with_reducer}" >>"$results"
  for n in 1 2; do
    seg="$(run_segtrain "$n" "$round")"
    echo "{\"kind\": \"segtrain\", \"ranks\": $n, \"result\": $seg}" >>"$results"
    py="$(run_python "$n" "$batch" "$crop")"
    echo "{\"kind\": \"python\", \"ranks\": $n, \"result\": $py}" >>"$results"
  done
  py_bn="$(run_python 2 "$batch" "$crop" --norm bn)"
  echo "{\"kind\": \"python_bn\", \"ranks\": 2, \"result\": $py_bn}" >>"$results"
done

# CPU seconds of this script's own (waited-for) children: the second line of `times`.
times >"$T/times"  # (not in a pipeline: a subshell would report its own, empty, children)
own_cpu="$(tail -n 1 "$T/times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } print s }')"
other_cpu="$(python3 -c "import sys; b0, b1, hz, own = map(float, sys.argv[1:]); print(max(0.0, (b1 - b0) / hz - own))" \
  "$busy_before" "$(busy_jiffies)" "$(getconf CLK_TCK)" "$own_cpu")"
wall="$(python3 -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$wall_before")"

python3 - "$results" "$CONFIG" "$batch" "$crop" "$ITERS" "$WARMUP" "$ROUNDS" "$load_before" "$other_cpu" "$wall" "$(getconf _NPROCESSORS_ONLN)" <<'PY'
import json, sys
results, config, batch, crop, iters, warmup, rounds, load, other_cpu, wall, cores = sys.argv[1:]
other_share = float(other_cpu) / (float(wall) * int(cores))
best = {}  # (kind, ranks) -> the fastest round's result
for line in open(results):
    r = json.loads(line)
    key = (r["kind"], r["ranks"])
    if key not in best or r["result"]["seconds_per_iter"] < best[key]["seconds_per_iter"]:
        best[key] = r["result"]
t = {k: v["seconds_per_iter"] for k, v in best.items()}
seg1, seg2, py1, py2, comp = (t["segtrain", 1], t["segtrain", 2], t["python", 1], t["python", 2],
                              t["compute_only", 1])
red, py2_bn = t["compute_with_reducer", 1], t["python_bn", 2]
b = int(batch)
print(f"{config}: batch {batch} x {crop} per rank, 1 thread per rank, CPU; median s/iter over {iters} "
      f"iterations after {warmup}, best of {rounds} round(s); load average before: {load}")
print(f"{'':<24}{'ranks':>6}{'s/iter':>9}{'img/s':>8}{'vs python':>11}{'vs compute':>12}{'scaling':>9}")
rows = [("compute-only (C++)", 1, comp, None, 1.0, None),
        ("compute + reducer", 1, red, None, red / comp, None),
        ("segtrain", 1, seg1, seg1 / py1, seg1 / comp, None),
        ("segtrain", 2, seg2, seg2 / py2, None, seg1 / seg2),
        ("python DDP (gloo)", 1, py1, 1.0, py1 / comp, None),
        ("python DDP (gloo)", 2, py2, 1.0, None, py1 / py2),
        ("python DDP, BN", 2, py2_bn, None, None, py1 / py2_bn)]
fmt = lambda v, w: f"{v:>{w}.3f}" if v is not None else " " * w
for name, n, s, vs_py, vs_comp, scaling in rows:
    print(f"{name:<24}{n:>6}{s:>9.3f}{n * b / s:>8.1f}{fmt(vs_py, 11)}{fmt(vs_comp, 12)}{fmt(scaling, 9)}")
print(f"segtrain data wait per iteration (median): {best['segtrain', 1]['data_seconds']:.4f} s (1 rank), "
      f"{best['segtrain', 2]['data_seconds']:.4f} s (2 ranks)")
print(f"other processes took {float(other_cpu):.0f} CPU s during the {float(wall):.0f} s run "
      f"({100 * other_share:.0f}% of {cores} cores){'; the figures are disturbed' if other_share > 0.05 else ''}")
print(f"goals: segtrain/python (2 ranks) <= 0.85: {seg2 / py2:.3f}; segtrain/compute-only (1 rank) <= 1.03: "
      f"{seg1 / comp:.3f}")
print(json.dumps({
    "benchmark": "train_step", "config": config, "batch_per_rank": b, "crop": crop, "threads_per_rank": 1,
    "iters": int(iters), "warmup": int(warmup), "rounds": int(rounds), "load_average_before": float(load),
    "other_cpu_share": other_share,
    "segtrain_vs_python": seg2 / py2, "segtrain_vs_python_1_rank": seg1 / py1,
    "segtrain_vs_compute_only": seg1 / comp, "scaling_segtrain": seg1 / seg2, "scaling_python": py1 / py2,
    "compute_with_reducer_vs_compute_only": red / comp, "scaling_python_bn": py1 / py2_bn,
    "seconds_per_iter": {"segtrain_1": seg1, "segtrain_2": seg2, "python_1": py1, "python_2": py2,
                         "compute_only": comp, "compute_with_reducer": red, "python_bn_2": py2_bn},
    "segtrain_data_seconds": {"1": best["segtrain", 1]["data_seconds"], "2": best["segtrain", 2]["data_seconds"]},
    "python": {"1": best["python", 1], "2": best["python", 2]}, "compute_only": best["compute_only", 1]}))
PY
