#!/usr/bin/env bash
# ./scripts/bench.sh allreduce                  one host: 2 and 4 ranks side by side (shared memory)
# ./scripts/bench.sh allreduce --nodes N [--rate RATE] [--input PIXELS]
#                                               N simulated nodes (tests/multinode/bed.sh; root),
#                                               one rank each, over TCP on links shaped to RATE
#                                               (default 1gbit), with a bucket-size sweep; run
#                                               with Open MPI's allreduce choice and with
#                                               recursive doubling, side by side
# On one host the ranks compete with the communication for the same two cores, so overlap cannot
# show; on a link slower than the cores it can. The last line is one JSON object: the headline
# figures (reducer_vs_raw_busbw, hidden_comm_fraction; on the bed also the link rate and its
# measured alpha and beta) and each run's whole record.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$SEGTRAIN_ROOT"
export OMP_NUM_THREADS=1
nodes=0; rate=1gbit; input=32
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --input) input="$2"; shift 2 ;;
    *) echo "usage: $0 [--nodes N [--rate RATE] [--input PIXELS]]" >&2; exit 2 ;;
  esac
done

if [ "$nodes" = 0 ]; then
  declare -A json
  for n in 2 4; do
    echo "== $n ranks on one host =="
    out="$(mpirun --oversubscribe --bind-to none -np "$n" build/bench/bench_allreduce)"
    echo "$out" | sed '$d'
    json[$n]="$(echo "$out" | tail -n 1)"
  done
  python3 - "${json[2]}" "${json[4]}" <<'PY'
import json, sys
two, four = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "benchmark": "allreduce", "mode": "one_host",
    "reducer_vs_raw_busbw": two["reducer_vs_raw_busbw"],
    "hidden_comm_fraction": two["hidden_comm_fraction"],
    "reducer_vs_raw_busbw_4_ranks": four["reducer_vs_raw_busbw"],
    "hidden_comm_fraction_4_ranks": four["hidden_comm_fraction"],
    "ranks_2": two, "ranks_4": four}))
PY
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "$0: --nodes needs root (the bed's namespaces)" >&2; exit 2; }
T="$(mktemp -d)"
trap 'tests/multinode/bed.sh stop "$T/bed"; rm -rf "$T"' EXIT
tests/multinode/bed.sh start "$T/bed" "$nodes" "$rate"
for i in $(seq "$nodes"); do echo "node$i slots=1"; done >"$T/hostfile"
# Open MPI's own choice of allreduce algorithm, and recursive doubling (tuned algorithm 3) beside it.
declare -A runs
for variant in default recursive_doubling; do
  mca=()
  [ "$variant" = default ] || mca=(--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 3)
  echo "== $nodes nodes, one rank each, links shaped to $rate (tc tbf); Open MPI allreduce: $variant =="
  out="$(SEGTRAIN_BED="$T/bed" OMPI_MCA_plm_rsh_agent="$PWD/tests/multinode/rsh_agent.sh" \
    tests/multinode/bed.sh exec "$T/bed" node1 mpirun --hostfile "$T/hostfile" -np "$nodes" --map-by ppr:1:node \
    --bind-to none -x OMP_NUM_THREADS "${mca[@]}" build/bench/bench_allreduce --input "$input" --sweep 2,5,10,25)"
  echo "$out" | sed '$d'
  runs[$variant]="$(echo "$out" | tail -n 1)"
done
python3 - "${runs[default]}" "${runs[recursive_doubling]}" "$nodes" "$rate" <<'PY'
import json, sys
default, rd = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(json.dumps({
    "benchmark": "allreduce", "mode": "multinode", "nodes": int(sys.argv[3]), "link_rate": sys.argv[4],
    "link_alpha_us": default["link_alpha_us"], "link_beta_gbs": default["link_beta_gbs"],
    "reducer_vs_raw_busbw": default["reducer_vs_raw_busbw"],
    "reducer_vs_raw_bucket_busbw": default["reducer_vs_raw_bucket_busbw"],
    "hidden_comm_fraction": default["hidden_comm_fraction"],
    "reducer_vs_raw_busbw_recursive_doubling": rd["reducer_vs_raw_busbw"],
    "reducer_vs_raw_bucket_busbw_recursive_doubling": rd["reducer_vs_raw_bucket_busbw"],
    "hidden_comm_fraction_recursive_doubling": rd["hidden_comm_fraction"],
    "fp16_compress_time_ratio": default["fp16_compress_time_ratio"],
    "fp16_compress_time_ratio_recursive_doubling": rd["fp16_compress_time_ratio"],
    "default": default, "recursive_doubling": rd}))
PY
