# Helpers for the shell tests: checks that count, and the closing "N passed, N failed" line.
PASSED=0
FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $1"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
# expect_exit CODE WHAT -- command...: runs it, keeps stdout/stderr in $OUT/$ERR.
expect_exit() {
  local want="$1" what="$2"; shift 3
  OUT="$(mktemp)"; ERR="$(mktemp)"
  "$@" >"$OUT" 2>"$ERR"
  local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else fail "$what: exit $got, wanted $want; stderr: $(head -c 600 "$ERR")"; fi
}
contains() { grep -qF -- "$2" "$1"; }
finish() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" = 0 ]; }
