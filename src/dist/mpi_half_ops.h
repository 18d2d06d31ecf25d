#pragma once
// MPI reductions on 16-bit floats (float16, bfloat16), which MPI has no arithmetic for: user
// operations on the raw 16-bit words that add (or take the larger of) each pair in float32 and
// round the result back. The data then travels at 2 bytes per element, which is what
// compressing gradients to half precision is for; each partial sum is rounded to 16 bits, as in
// NCCL's own half-precision allreduce. For dist/'s own files (MPI types stay out of public headers).
#include <ATen/core/Tensor.h>
#include <mpi.h>

namespace segtrain::dist {

// The MPI_Op that sums (max = false) or takes the maximum (max = true) of `dtype` (kHalf or
// kBFloat16) elements sent as MPI_UINT16_T. Created once per process, after MPI_Init.
MPI_Op half_precision_op(at::ScalarType dtype, bool max);

}  // namespace segtrain::dist
