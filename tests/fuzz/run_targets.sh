#!/usr/bin/env bash
# run_targets.sh DIR SECONDS [TARGET...]: runs the libFuzzer targets built in DIR (the sanitizer
# build's tests/fuzz) for SECONDS each, one after another, over their seeds (make_seed_corpus.py,
# made from the test data, cached in DIR/seeds) and the inputs kept from fixed crashes
# (regressions/TARGET/). New inputs accumulate in DIR/corpus/TARGET; a crashing input is saved as
# DIR/crashes/TARGET/crash-*. Prints a line per target and, last, one JSON object; exits 1 if
# any target crashed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../../scripts/env.sh"
source "$here/../sanitizers/options.sh"
[ $# -ge 2 ] || { echo "usage: run_targets.sh DIR SECONDS [TARGET...]" >&2; exit 2; }
dir="$(realpath "$1")"; seconds="$2"; shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config override chunk checkpoint)
export OMP_NUM_THREADS=1

seeds="$dir/seeds"
stamp="$(sha256sum "$here/make_seed_corpus.py" "$here"/../data/make_test_shards.py | sha256sum | cut -c1-16)"
if [ "$(cat "$seeds/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$seeds"
  "$SEGTRAIN_VENV/bin/python" "$here/make_seed_corpus.py" "$seeds"
  echo "$stamp" > "$seeds/.stamp"
fi

results=()
failed=0
for t in "${targets[@]}"; do
  exe="$dir/fuzz_$t"
  [ -x "$exe" ] || { echo "run_targets.sh: no fuzz target $exe (build with scripts/sanitize.sh)" >&2; exit 2; }
  corpus="$dir/corpus/$t"; crashes="$dir/crashes/$t"; log="$dir/fuzz_$t.log"
  mkdir -p "$corpus" "$crashes"
  before=$(ls "$crashes" | wc -l)
  extra=()
  case "$t" in config|override) extra+=(-dict="$here/config.dict") ;; esac
  [ -d "$here/regressions/$t" ] && regressions=("$here/regressions/$t") || regressions=()
  start=$SECONDS
  set +e
  "$exe" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "${extra[@]}" "$corpus" "$seeds/$t" "${regressions[@]}" >"$log" 2>&1
  rc=$?
  set -e
  elapsed=$(( SECONDS - start ))
  # The final stats, else (a run that ended while replaying its corpus) the last status line.
  execs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -ao '^#[0-9]*' "$log" | tr -d '#' | tail -n 1)
  cov=$(grep -ao 'cov: [0-9]*' "$log" | awk '{print $2}' | tail -n 1)
  found=$(( $(ls "$crashes" | wc -l) - before ))
  if [ "$rc" != 0 ] && [ "$found" = 0 ]; then found=1; fi  # a failure that saved no input still counts
  [ "$found" = 0 ] || { failed=1; echo "--- fuzz_$t failed (rc $rc); its log, $log, ends:"; tail -n 40 "$log" | cut -c1-300; }
  printf '%-11s %10s executions in %ss, coverage %s, corpus %s, crashes %s\n' \
    "$t" "${execs:-0}" "$elapsed" "${cov:-0}" "$(ls "$corpus" | wc -l)" "$found"
  results+=("\"$t\": {\"executions\": ${execs:-0}, \"seconds\": $elapsed, \"coverage\": ${cov:-0}, \"corpus\": $(ls "$corpus" | wc -l), \"crashes\": $found}")
done
joined=$(IFS=,; echo "${results[*]}")
total=0
for r in "${results[@]}"; do total=$(( total + $(echo "$r" | grep -o '"crashes": [0-9]*' | awk '{print $2}') )); done
echo "{\"benchmark\": \"fuzz\", \"seconds_per_target\": $seconds, \"crashes\": $total, \"targets\": {$joined}}"
exit "$failed"
