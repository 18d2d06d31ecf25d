#!/usr/bin/env python3
"""The scaling model of docs/scaling.md: step time of data-parallel training from the link's
latency (alpha) and bandwidth (beta), the compute time of a step and the gradient buckets.

  python3 bench/allreduce/scaling_model.py predict     the PSPNet R50-D8 tables (8, 64, 256 GPUs)
  python3 bench/allreduce/scaling_model.py check J...  the model against bed runs: J are the final
                                                       JSON lines of bench/allreduce/run.sh --nodes N

Model (one step, per rank):
  - allreduce of S bytes on n ranks over links of latency a and bandwidth B (bytes/s):
      ring:                2(n-1)/n * S/B + 2(n-1) a          (nccl-tests' bus-bandwidth bound,
                                                               plus one latency per ring step)
      recursive doubling:  log2(n) * (S/B + a)                 (what the bed's Open MPI runs)
    with 8 GPUs per node (NCCL's hierarchy): a reduce-scatter and an all-gather on NVLink inside
    the node, 2 * 7/8 * S/B_nvlink + 14 a_nvlink, and a ring between the nodes over each node's
    network link on the node's share of the bytes.
  - gradients come out of backward evenly over the backward time (2/3 of the step's compute, the
    rest being forward); a bucket of b bytes is reduced once its gradients are all there, buckets
    one after another on one communication stream; the step ends when compute and the last
    bucket are done. Efficiency: compute / step time (1.0: communication fully hidden).
"""
import json
import math
import sys

GBIT = 1e9 / 8  # bytes per second in one Gbit/s
MIB = 1 << 20
BACKWARD_SHARE = 2 / 3


def ring(size, n, alpha, bandwidth):
    return 0.0 if n <= 1 else 2 * (n - 1) / n * size / bandwidth + 2 * (n - 1) * alpha


def recursive_doubling(size, n, alpha, bandwidth):
    return 0.0 if n <= 1 else math.log2(n) * (size / bandwidth + alpha)


def hierarchical(size, gpus, per_node, net_alpha, net_bandwidth, nvlink_alpha, nvlink_bandwidth):
    """NCCL-like: inside the node over NVLink, between the nodes a ring over each node's link."""
    nodes = max(1, gpus // per_node)
    inside = ring(size, min(gpus, per_node), nvlink_alpha, nvlink_bandwidth)
    return inside + ring(size, nodes, net_alpha, net_bandwidth)


def buckets_of(tensor_bytes, bucket_bytes, first_bucket_bytes=MIB):
    """The reducer's buckets (src/dist/reducer.cpp's build_buckets): tensors in backward order,
    whole; a bucket takes tensors until it holds at least its cap (1 MiB for the first, then
    bucket_bytes), so the tensor that crosses the cap is still in it."""
    buckets, current = [], 0
    for size in tensor_bytes:
        cap = first_bucket_bytes if not buckets else bucket_bytes
        if current >= cap:
            buckets.append(current)
            current = 0
        current += size
    return buckets + [current] if current else buckets


def step_time(compute, buckets, allreduce):
    """Compute and the buckets' pipeline: each bucket starts when its gradients are ready (backward
    makes them at an even rate) and the bucket before it is done."""
    forward = compute * (1 - BACKWARD_SHARE)
    backward = compute * BACKWARD_SHARE
    total, produced, done = sum(buckets), 0, 0.0
    for size in buckets:
        produced += size
        done = max(forward + backward * produced / total, done) + allreduce(size)
    return max(compute, done)


def even_tensors(total_bytes, count=300):
    """A model's gradient as `count` equal tensors (where the real sizes are not at hand)."""
    return [total_bytes / count] * count


def predict():
    # PSPNet R50-D8: 48.98 M parameters (MMSeg's config; segtrain counts the same), fp32 or fp16
    # gradients. The compute time of one step (forward + backward, batch 2 of 512x1024 per GPU) is
    # an input: no GPU of ours has measured it yet (issue 14's bench/gpu_step will), so the table
    # gives three values below MMSeg's published 0.83 s/iter of PSPNet R101-D8 on 8 V100s (a
    # smaller model on newer GPUs computes faster, which leaves less time to hide communication).
    params = 48.98e6
    links_gbit = [100, 200, 400]
    gpus_list = [8, 64, 256]
    computes = [0.1, 0.2, 0.4]
    nvlink = dict(nvlink_alpha=5e-6, nvlink_bandwidth=300e9)  # assumed: H100/H200-class NVLink busbw
    net_alpha = 5e-6                                        # assumed: InfiniBand/RoCE latency
    buckets_mib = [1, 2, 5, 10, 25, 50, 100]
    rows = []
    for precision, width in (("fp32", 4), ("fp16", 2)):
        grad = params * width
        for link in links_gbit:
            for gpus in gpus_list:
                def allreduce(size, gpus=gpus, link=link):
                    return hierarchical(size, gpus, 8, net_alpha, link * GBIT, **nvlink)
                row = dict(precision=precision, link_gbit=link, gpus=gpus, comm_alone_ms=allreduce(grad) * 1e3)
                for compute in computes:
                    def step(bucket_mib, compute=compute, grad=grad, allreduce=allreduce):
                        return step_time(compute, buckets_of(even_tensors(grad), bucket_mib * MIB), allreduce)
                    best = min(buckets_mib, key=step)
                    row[f"compute_{compute}s"] = dict(best_bucket_mib=best, step_ms=step(best) * 1e3,
                                                      efficiency=compute / step(best),
                                                      efficiency_25mib=compute / step(25))
                rows.append(row)
    head = "".join(f" | {'T_c ' + str(c) + ' s: bucket, eff., eff. 25MiB':>34}" for c in computes)
    print(f"{'grads':5} {'link':>9} {'GPUs':>5} {'comm alone':>11}{head}")
    for r in rows:
        cells = "".join(f" | {r[f'compute_{c}s']['best_bucket_mib']:>12d} MiB {r[f'compute_{c}s']['efficiency']:7.3f} "
                        f"{r[f'compute_{c}s']['efficiency_25mib']:9.3f}" for c in computes)
        print(f"{r['precision']:5} {r['link_gbit']:5d}Gb/s {r['gpus']:5d} {r['comm_alone_ms']:9.1f}ms{cells}")
    print(json.dumps({"model": "scaling", "rows": rows}))


def check(paths):
    """The bed: one rank per node, one link per node (alpha, beta measured by the run's
    ping-pong); the runs' recursive-doubling variant, whose algorithm the model knows."""
    # The benchmark's ResNet-50-sized gradient, and its conv net's tensors in backward order
    # (last layer first): per layer SyncBN's bias and weight, the conv's bias and weight (3 input
    # channels in the first layer, 256 in the others), 4 bytes each.
    r50_bytes = 25_599_923 * 4
    conv = []
    for layer in reversed(range(16)):
        conv += [256 * 4, 256 * 4, 256 * 4, 256 * (3 if layer == 0 else 256) * 9 * 4]
    out = []
    for path in paths:
        with open(path) as f:
            run = json.loads([line for line in f if line.startswith("{")][-1])
        nodes = run["nodes"]
        rd = run["recursive_doubling"]
        alpha, beta = rd["link_alpha_us"] * 1e-6, rd["link_beta_gbs"] * 1e9

        def allreduce(size):
            return recursive_doubling(size, nodes, alpha, beta)
        print(f"== {nodes} nodes, link {run['link_rate']}: alpha {alpha * 1e6:.1f} us, beta {beta / 1e9:.3f} GB/s")
        pred_raw, meas_raw = allreduce(r50_bytes) * 1e3, rd["raw_whole_ms"]
        print(f"ResNet-50-sized allreduce: model {pred_raw:.0f} ms, measured {meas_raw:.0f} ms "
              f"({meas_raw / pred_raw:.2f}x)")
        entry = {"nodes": nodes, "alpha_us": alpha * 1e6, "beta_gbs": beta / 1e9,
                 "r50_allreduce_model_ms": pred_raw, "r50_allreduce_measured_ms": meas_raw, "steps": []}
        compute = rd["step_compute_ms"] / 1e3
        for s in rd["bucket_sweep"]:
            pred = step_time(compute, buckets_of(conv, s["bucket_mb"] * MIB), allreduce) * 1e3
            meas = s["step_with_reducer_ms"]
            print(f"  conv net step, {s['bucket_mb']:g} MiB buckets: model {pred:.0f} ms, measured {meas:.0f} ms "
                  f"({meas / pred:.2f}x)")
            entry["steps"].append({"bucket_mb": s["bucket_mb"], "model_ms": pred, "measured_ms": meas})
        out.append(entry)
    print(json.dumps({"model": "scaling_check", "runs": out}))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "predict":
        predict()
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
