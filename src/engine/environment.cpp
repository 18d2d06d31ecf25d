#include "segtrain/engine/environment.h"

#include <hdf5.h>
#include <mpi.h>
#include <torch/version.h>

#include "segtrain_build_config.h"
#if SEGTRAIN_WITH_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>
#endif

namespace segtrain::engine {

std::vector<std::pair<std::string, std::string>> versions() {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("segtrain", SEGTRAIN_VERSION);
  out.emplace_back("torch", TORCH_VERSION);

  char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(mpi, &len);
  std::string mpi_text(mpi, len);
  out.emplace_back("MPI", mpi_text.substr(0, mpi_text.find_first_of(",\n")));

  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  out.emplace_back("HDF5", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));

#if SEGTRAIN_WITH_CUDA
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);  // compile-time value: needs no GPU
  out.emplace_back("CUDA runtime", std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10));
  int nccl = 0;
  ncclGetVersion(&nccl);
  out.emplace_back("NCCL", std::to_string(nccl / 10000) + "." + std::to_string(nccl / 100 % 100) + "." +
                               std::to_string(nccl % 100));
#else
  out.emplace_back("CUDA", "not built");
#endif
  return out;
}

}  // namespace segtrain::engine
