# Sourced by scripts/sanitize.sh: how the sanitizers report. Every report ends the process with
# an error (UBSan included), so a test cannot pass over one.
_sanitizers="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
# The fast unwinder at each allocation: full unwinding makes every malloc about 20 times slower
# (43 s against 2 s for the config tests). Tests that start MPI switch it back on
# (tests/meson.build: Open MPI unloads its plugins at finalize, and only a full stack still names
# a library that a suppression below can match).
export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Leaks inside the libraries we link (Open MPI, HDF5, torch's static registries) are theirs.
export LSAN_OPTIONS="suppressions=$_sanitizers/lsan.supp:print_suppressions=0"
