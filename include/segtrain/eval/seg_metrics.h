#pragma once
// MMSeg's mIoU evaluation from per-class histograms. Each rank adds its samples'
// intersect / union / pred / label areas (at the stored label resolution, ignore 255 left out);
// the histograms are summed over ranks (one allreduce) and turned into metrics once:
//   IoU_c = intersect_c / union_c,  Acc_c = intersect_c / label_c,
//   aAcc = sum intersect / sum label,  mIoU / mAcc = mean over classes, NaN (a class absent from
//   both prediction and labels) left out as numpy's nanmean does.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace segtrain::dist { class Communicator; }

namespace segtrain::eval {

struct SegMetrics {
  double aAcc = 0, mIoU = 0, mAcc = 0;
  std::vector<double> iou, acc;  // per class, NaN where undefined
};

class SegHistogram {
 public:
  explicit SegHistogram(int64_t num_classes, int64_t ignore_index = 255);
  // pred, label: H x W (any integer dtype), same size.
  void add(const at::Tensor& pred, const at::Tensor& label);
  // Collective when `comm` has several ranks: sums every rank's histograms.
  void reduce(dist::Communicator& comm);
  SegMetrics metrics() const;
  // float64 [4, C]: intersect, union, pred, label areas.
  const at::Tensor& areas() const { return areas_; }

 private:
  int64_t num_classes_, ignore_index_;
  at::Tensor areas_;
};

}  // namespace segtrain::eval
