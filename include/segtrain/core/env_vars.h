#pragma once
// Every environment variable segtrain reads, in one place (as Horovod keeps them).

namespace segtrain::env {

// Set by the launchers for each process before MPI starts: used only to know who should
// print an error that happens before MPI is initialized.
inline constexpr const char* kOmpiRank = "OMPI_COMM_WORLD_RANK";  // mpirun (Open MPI)
inline constexpr const char* kPmixRank = "PMIX_RANK";             // srun --mpi=pmix
inline constexpr const char* kSlurmRank = "SLURM_PROCID";         // srun

// This process's rank as the launcher announced it, or 0 when started alone.
int launcher_rank();

}  // namespace segtrain::env
