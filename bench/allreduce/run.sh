#!/usr/bin/env bash
# ./scripts/bench.sh allreduce: the allreduce benchmark with 2 and 4 ranks, side by side in one
# run; the last line is one JSON object (the 2-rank figures are the headline ones).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
export OMP_NUM_THREADS=1
declare -A json
for n in 2 4; do
  echo "== $n ranks =="
  out="$(mpirun --oversubscribe --bind-to none -np "$n" build/bench/bench_allreduce)"
  echo "$out" | sed '$d'
  json[$n]="$(echo "$out" | tail -n 1)"
done
python3 - "${json[2]}" "${json[4]}" <<'PY'
import json, sys
two, four = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "benchmark": "allreduce",
    "reducer_vs_raw_busbw": two["reducer_vs_raw_busbw"],
    "hidden_comm_fraction": two["hidden_comm_fraction"],
    "reducer_vs_raw_busbw_4_ranks": four["reducer_vs_raw_busbw"],
    "hidden_comm_fraction_4_ranks": four["hidden_comm_fraction"],
    "ranks_2": two, "ranks_4": four}))
PY
