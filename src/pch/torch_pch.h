// Precompiled for every TU of the torch-using library: torch/torch.h costs ~15 s and ~1 GB per
// TU on its own. Only headers that change never (third-party) belong here.
#include <torch/torch.h>
#include <mpi.h>
