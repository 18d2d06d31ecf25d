#!/usr/bin/env bash
# ./scripts/bench.sh data [IMAGES] [REPEATS]: the Cityscapes train pipeline (1024x2048 synthetic
# images -> 512x1024 crops) on one core: segtrain from shards with each compression, side by side
# with a Python pipeline doing MMSeg's steps the way MMSeg does (cv2/numpy, reading PNG files).
# Medians over REPEATS passes. The last line is one JSON object.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
IMAGES="${1:-16}"; REPEATS="${2:-3}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
./scripts/make_synthetic_dataset.py "$T/png" --train "$IMAGES" --val 0 --size 2048x1024 --num-classes 19 >/dev/null
png_bytes=$(du -sb "$T/png" | cut -f1)
declare -A ips bytes
for c in none gzip lz4 zstd; do
  ./scripts/convert_dataset.py cityscapes "$T/png" "$T/$c" --splits train --compression "$c" --workers 2 >/dev/null 2>&1
  bytes[$c]=$(du -sb --exclude='*.json' "$T/$c/train" | cut -f1)
  ips[$c]=$(OMP_NUM_THREADS=1 build/bench/bench_data "$T/$c/train" "$REPEATS" | python3 -c "import json,sys; print(json.load(sys.stdin)['images_per_s'])")
done
py_ips=$(OMP_NUM_THREADS=1 ./scripts/py bench/data/mmseg_pipeline.py "$T/png" "$REPEATS" | python3 -c "import json,sys; print(json.load(sys.stdin)['images_per_s'])")
python3 - "$png_bytes" "$py_ips" "${ips[none]}" "${ips[gzip]}" "${ips[lz4]}" "${ips[zstd]}" \
  "${bytes[none]}" "${bytes[gzip]}" "${bytes[lz4]}" "${bytes[zstd]}" "$IMAGES" <<'PY'
import json, sys
png, py = int(sys.argv[1]), float(sys.argv[2])
names = ["none", "gzip", "lz4", "zstd"]
ips = dict(zip(names, map(float, sys.argv[3:7])))
size = dict(zip(names, map(int, sys.argv[7:11])))
print(f"{int(sys.argv[11])} images 1024x2048 -> 512x1024 crops, one core, medians")
print(f"{'source':<22}{'img/s':>8}{'vs python':>11}{'bytes':>14}{'vs PNG':>8}")
print(f"{'python (cv2, PNG)':<22}{py:>8.2f}{1.0:>11.2f}{png:>14}{1.0:>8.2f}")
for n in names:
    print(f"{'segtrain (' + n + ')':<22}{ips[n]:>8.2f}{ips[n] / py:>11.2f}{size[n]:>14}{size[n] / png:>8.2f}")
print(json.dumps({"benchmark": "data", "speedup_vs_python": ips["lz4"] / py, "shard_bytes_vs_png": size["lz4"] / png,
                  "default_compression": "lz4", "python_images_per_s": py,
                  "segtrain_images_per_s": ips, "shard_bytes": size, "png_bytes": png}))
PY
