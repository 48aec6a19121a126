#!/usr/bin/python3
"""bench_train_step_torch.py: the PyTorch side of bench_train_step.c.

The same two autoencoders, float32 on the CPU, torch.set_num_threads:
  ae784: 784-256-64-256-784, ReLU hidden layers, sigmoid output, batch 128
         of uniform [0,1) data;
  tiny:  2-8-2-8-2, tanh hidden layers, linear output, batch 64.
MSE (mean), torch.optim.Adam(lr=1e-3), nn.Linear's default init. A step is
zero_grad, forward, backward, optimiser step on a fixed batch. Median and
mean milliseconds per step after 20 warm-up steps; first and last loss.

Run with Debian's interpreter, which has torch:
  /usr/bin/python3 bench_train_step_torch.py [threads [steps_784 [steps_tiny]]]
(defaults 2, 200, 2000). Output, one tab-separated line per model:
  model  median_ms  mean_ms  loss_first  loss_last  steps  cpu_ms
(cpu_ms: process CPU time per timed step, all threads.)
"""
import statistics
import sys
import time

import torch
from torch import nn

WARMUP = 20


def make(dims, hidden, last, batch):
    layers = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        act = hidden if i < len(dims) - 2 else last
        if act is not None:
            layers.append(act())
    model = nn.Sequential(*layers)
    x = torch.rand(batch, dims[0], dtype=torch.float32)
    return model, x


def run(name, dims, hidden, last, batch, steps):
    torch.manual_seed(1234)
    model, x = make(dims, hidden, last, batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()
        return loss.item()

    first = step()
    for _ in range(WARMUP - 1):
        step()
    times = []
    last_loss = first
    cpu0 = time.process_time()
    for _ in range(steps):
        t0 = time.perf_counter()
        last_loss = step()
        times.append((time.perf_counter() - t0) * 1e3)
    cpu_ms = (time.process_time() - cpu0) * 1e3 / steps
    print(f"{name}\t{statistics.median(times):.6f}\t{statistics.fmean(times):.6f}\t"
          f"{first:.6f}\t{last_loss:.6f}\t{steps + WARMUP}\t{cpu_ms:.6f}", flush=True)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    steps_big = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    steps_tiny = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    torch.set_num_threads(threads)
    run("ae784", [784, 256, 64, 256, 784], nn.ReLU, nn.Sigmoid, 128, steps_big)
    run("tiny", [2, 8, 2, 8, 2], nn.Tanh, None, 64, steps_tiny)


if __name__ == "__main__":
    main()
