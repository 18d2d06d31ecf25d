#include "segtrain/eval/seg_metrics.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "segtrain/dist/communicator.h"

namespace segtrain::eval {

SegHistogram::SegHistogram(int64_t num_classes, int64_t ignore_index)
    : num_classes_(num_classes), ignore_index_(ignore_index), areas_(at::zeros({4, num_classes}, at::kDouble)) {}

void SegHistogram::add(const at::Tensor& pred_in, const at::Tensor& label_in) {
  TORCH_CHECK(pred_in.sizes() == label_in.sizes(), "prediction ", pred_in.sizes(), " vs label ", label_in.sizes());
  at::Tensor pred = pred_in.to(at::kCPU, at::kLong).flatten(), label = label_in.to(at::kCPU, at::kLong).flatten();
  at::Tensor keep = label != ignore_index_;
  pred = pred.masked_select(keep);
  label = label.masked_select(keep);
  auto hist = [&](const at::Tensor& v) { return at::bincount(v, {}, num_classes_).narrow(0, 0, num_classes_).to(at::kDouble); };
  at::Tensor intersect = hist(pred.masked_select(pred == label));
  at::Tensor area_pred = hist(pred), area_label = hist(label);
  areas_[0] += intersect;
  areas_[1] += area_pred + area_label - intersect;
  areas_[2] += area_pred;
  areas_[3] += area_label;
}

void SegHistogram::reduce(dist::Communicator& comm) {
  if (comm.size() == 1) return;
  at::Tensor buffer = areas_.to(comm.device());
  comm.allreduce(buffer, dist::ReduceOp::Sum);
  areas_ = buffer.cpu();
}

SegMetrics SegHistogram::metrics() const {
  SegMetrics m;
  const auto a = areas_.accessor<double, 2>();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  double total_intersect = 0, total_label = 0, iou_sum = 0, acc_sum = 0;
  int iou_n = 0, acc_n = 0;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const double iou = a[1][c] > 0 ? a[0][c] / a[1][c] : nan;
    const double acc = a[3][c] > 0 ? a[0][c] / a[3][c] : nan;
    m.iou.push_back(iou);
    m.acc.push_back(acc);
    if (!std::isnan(iou)) iou_sum += iou, ++iou_n;
    if (!std::isnan(acc)) acc_sum += acc, ++acc_n;
    total_intersect += a[0][c];
    total_label += a[3][c];
  }
  m.aAcc = total_label > 0 ? total_intersect / total_label : nan;
  m.mIoU = iou_n ? iou_sum / iou_n : nan;
  m.mAcc = acc_n ? acc_sum / acc_n : nan;
  return m;
}

}  // namespace segtrain::eval
