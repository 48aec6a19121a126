#!/usr/bin/python3
"""bench_rnn_torch.py: the PyTorch side of bench_rnn.c.

One unrolled torch.nn.LSTM / nn.GRU (batch_first, one layer, zero initial
state) forward + backward, float32 on the CPU, torch.set_num_threads, at
the sequence autoencoder's shapes: B=128, T=28, H=100; encoder input I=28
from constant data, decoder input I=30 a code vector (B,30) repeated over
T that needs a gradient. Loss sum(outputs * fixed weights); backward fills
the weights', biases' (and the code's) gradients. Median and mean ms after
5 warm-up runs.

Run with Debian's interpreter, which has torch:
  /usr/bin/python3 bench_rnn_torch.py [threads [reps]]   (defaults 2, 50)
Output, one tab-separated line per case: cell  layer  gates  median_ms  mean_ms
"""
import statistics
import sys
import time

import torch
from torch import nn

B, T, H, WARMUP = 128, 28, 100, 5


def run(cell, decoder, reps):
    torch.manual_seed(42)
    I = 30 if decoder else 28
    rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(I, H, batch_first=True)
    x0 = torch.rand(B, I) * 2 - 1 if decoder else torch.rand(B, T, I) * 2 - 1
    if decoder:
        x0.requires_grad_(True)
    gw = torch.rand(B, T, H) * 2 - 1

    def step():
        t0 = time.perf_counter()
        rnn.zero_grad(set_to_none=False)
        x = x0.unsqueeze(1).repeat(1, T, 1) if decoder else x0
        y, _ = rnn(x)
        (y * gw).sum().backward()
        return (time.perf_counter() - t0) * 1e3

    for _ in range(WARMUP):
        step()
    ms = [step() for _ in range(reps)]
    layer = "decoder" if decoder else "encoder"
    print(f"{cell}\t{layer} I={I}\ttorch\t{statistics.median(ms):.3f}\t{statistics.mean(ms):.3f}", flush=True)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    torch.set_num_threads(threads)
    print("cell\tlayer\tgates\tmedian_ms\tmean_ms")
    for cell in ("lstm", "gru"):
        for decoder in (False, True):
            run(cell, decoder, reps)


if __name__ == "__main__":
    main()
