# What the Slurm tests share (source it from the repository root after tests/cli/lib.sh): polling,
# the log and job-state probes. The Slurm commands run through on_ctl, which a test on the
# multi-node bed redefines to run them on the controller's node.
on_ctl() { "$@"; }
# Polls COMMAND every half second for up to SECONDS; false when it never succeeded.
wait_until() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.5; done
}
# Whether a log in work_dir DIR (looked up at each call) has a line matching PATTERN.
logged_in() { grep -qs -- "$2" "$1"/*.log; }
job_field() { on_ctl scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# Whether JOB is over: in a final state, or gone from slurmctld's memory.
job_ended() {
  case "$(job_field "$1" JobState)" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | "") return 0 ;;
  esac
  return 1
}
job_requeued_or_ended() { [ "$(job_field "$1" Restarts)" = 1 ] || job_ended "$1"; }

