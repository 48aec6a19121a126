"""bench_conv_torch.py: PyTorch's figures for benchmarks/bench_conv.c, same
shapes, same FLOP counts, same output format (tab-separated "shape fwd bwd"
in GFLOP/s). Forward is F.conv2d with bias under no_grad; backward is
aten.convolution_backward for the input and weight gradients (no bias), the
kernels autograd runs. Run with /usr/bin/python3; threads from argv[1]
(default 2); BENCH_CPUTIME=1 times CPU instead of wall time."""
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# Wall time, or with BENCH_CPUTIME set the process's CPU time (as bench_conv.c).
now = time.process_time if os.environ.get("BENCH_CPUTIME") else time.perf_counter

BATCH, REPS = 128, 7
SHAPES = [(1, 32, 28, 1), (32, 32, 28, 1), (32, 32, 14, 1), (32, 32, 7, 1), (32, 1, 28, 1),
          (1, 32, 28, 2), (32, 32, 28, 2), (32, 32, 14, 2)]


def bench(fn, flops):
    fn()
    t0 = now()
    fn()
    one = now() - t0
    batch = 1 if one > 0.05 else int(0.05 / (one + 1e-9)) + 1
    gf = []
    for _ in range(REPS):
        t0 = now()
        for _ in range(batch):
            fn()
        gf.append(flops / ((now() - t0) / batch) * 1e-9)
    return statistics.median(gf)


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    sys.stderr.write("PyTorch %s conv2d, float32, %d threads, mkldnn %s\n"
                     % (torch.__version__, torch.get_num_threads(), torch.backends.mkldnn.is_available()))
    torch.manual_seed(1)
    for c, o, hw, s in SHAPES:
        oh = (hw + 2 - 3) // s + 1
        x, w, b = torch.randn(BATCH, c, hw, hw), torch.randn(o, c, 3, 3), torch.randn(o)
        gy = torch.randn(BATCH, o, oh, oh)
        flops = 2.0 * BATCH * o * oh * oh * c * 9

        def fwd():
            with torch.no_grad():
                F.conv2d(x, w, b, stride=s, padding=1)

        def bwd():
            torch.ops.aten.convolution_backward(gy, x, w, None, [s, s], [1, 1], [1, 1], False, [0, 0], 1,
                                                [True, True, False])

        print("%dx%d %d->%d s%d\t%.1f\t%.1f" % (hw, hw, c, o, s, bench(fwd, flops), bench(bwd, 2 * flops)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
