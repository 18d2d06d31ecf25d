#pragma once
// The MPI communicator of a World, for dist/'s own files: MPI types stay out of public headers.
#include <mpi.h>

#include "segtrain/dist/world.h"

namespace segtrain::dist {

inline MPI_Comm mpi_comm(const World&) { return MPI_COMM_WORLD; }

}  // namespace segtrain::dist
