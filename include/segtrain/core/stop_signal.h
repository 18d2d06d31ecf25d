#pragma once
// Preemption notices. Clusters announce the end of a job with a signal: Slurm sends SIGTERM at
// the time limit or on preemption (then SIGKILL after KillWait), and `sbatch --signal=USR1@120`
// sends SIGUSR1 ahead of it. The handler only records which signal came; the runner turns that
// into a checkpoint at the next iteration boundary (engine/hooks/preemption_hook.h).
namespace segtrain {

// Installs the handler for SIGTERM and SIGUSR1 (SA_RESTART: blocking I/O and MPI go on).
void install_stop_signal_handlers();
// The signal received since installation, or 0.
int stop_signal();
// "SIGTERM", "SIGUSR1", or "a signal".
const char* signal_name(int signal);

}  // namespace segtrain
