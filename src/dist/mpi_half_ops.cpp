#include "mpi_half_ops.h"

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>

#include "segtrain/core/error.h"

namespace segtrain::dist {
namespace {

template <typename Half, bool kMax>
void reduce(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const Half*>(in);
  auto* b = static_cast<Half*>(inout);
  for (int i = 0; i < *len; ++i) {
    const float x = static_cast<float>(a[i]), y = static_cast<float>(b[i]);
    // The larger one, or NaN if either is (the same answer whichever rank's value comes first).
    b[i] = Half(kMax ? (std::isnan(x) || x > y ? x : y) : x + y);
  }
}

MPI_Op create(MPI_User_function* fn) {
  MPI_Op op;
  if (MPI_Op_create(fn, /*commute=*/1, &op) != MPI_SUCCESS) throw runtime_error("MPI", "MPI_Op_create failed");
  return op;
}

}  // namespace

MPI_Op half_precision_op(at::ScalarType dtype, bool max) {
  static const MPI_Op half_sum = create(reduce<c10::Half, false>), half_max = create(reduce<c10::Half, true>),
                      bf16_sum = create(reduce<c10::BFloat16, false>), bf16_max = create(reduce<c10::BFloat16, true>);
  if (dtype == at::kHalf) return max ? half_max : half_sum;
  if (dtype == at::kBFloat16) return max ? bf16_max : bf16_sum;
  throw runtime_error("MPI", std::string("no half-precision reduction for ") + c10::toString(dtype));
}

}  // namespace segtrain::dist
