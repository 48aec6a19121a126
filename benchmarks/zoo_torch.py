#!/usr/bin/python3
"""zoo_torch.py: the PyTorch side of benchmarks/zoo_vs_torch.sh: each of the
16 zoo models (zoo/*.c, at the defaults of `aezoo list`) written again as a
torch.nn.Module with the same layer sizes, activations, initialisation
distribution, losses and reductions, penalty scalings, probe counts, noise
and inner steps, trained with torch.optim.Adam(lr=1e-3) at the same batch
size on the same Fashion-MNIST images. What matches and what differs
deliberately is written above each model. DIR below holds train.npy and
test.npy, made by zoo_data.py.

  zoo_torch.py bench MODEL --data DIR --steps N [--warmup W] [--threads T]
                     [--batch-size B] [--seed S]
      W warm-up steps, then N timed steps, as the CLI trains: a shuffled
      permutation per epoch, each batch gathered from the training set, zero
      grads, loss and its terms (read with .item(), as aezoo writes them to
      train.csv), backward, Adam step, the model's after-step projection.
      Prints one tab-separated line:
        model threads steps ms_per_step cpu_ms_per_step rss_base_kib
        rss_peak_kib loss_first loss_last gflop_per_step minflt_per_step
      ms_per_step: wall time of the N timed steps / N; cpu_ms_per_step:
      process CPU time (user + system, all threads) over the same steps / N;
      rss_base_kib: peak RSS (ru_maxrss) before the first step, after the
      data, the model and the optimiser exist; rss_peak_kib: peak RSS after
      the last step. gflop_per_step: the floating-point operations of one
      more step's matrix products (aten::mm, addmm, bmm, baddbmm), as
      torch.autograd.profiler counts them (with_flops), taken after the
      timing and the RSS, plus the convolutions' forward and backward counted
      from their shapes (conv_flop: PyTorch 1.13's profiler counts a
      convolution's forward but not its backward). minflt_per_step: the
      process's minor page faults (ru_minflt) over the N timed steps / N.
  zoo_torch.py check MODEL --data DIR --ckpt RUNDIR [--batch-size B]
      Loads RUNDIR/model.safetensors (aezoo's parameter names and layouts),
      computes the loss and its terms on the first B training images and
      prints them with RUNDIR/train.csv's first row (aezoo's loss on the same
      batch at the same weights when aezoo ran with --lr 0 --no-shuffle).

Run with Debian's interpreter, which has torch: /usr/bin/python3."""
import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- data


def load_train(d):
    return torch.from_numpy(np.load(os.path.join(d, "train.npy")))


# ---------------------------------------------------------------- shared pieces
# zoo/layers.c initialises every dense and convolution layer as torch's
# defaults do (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases), so
# the modules below keep torch's default initialisation.

ACT = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def mlp(sizes, hidden, last):
    """nn.Sequential of Linear layers with `hidden` between and `last` after
    the last (None: linear): indices 0, 2, 4, ... as zoo/layers.c names them."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        act = hidden if i + 2 < len(sizes) else last
        if act is not None:
            layers.append(ACT[act]())
        elif i + 2 < len(sizes):
            layers.append(nn.Identity())
    return nn.Sequential(*layers)


def flat(x):
    return x.reshape(x.shape[0], -1)


def mse_of_logits(logits, x):
    """zoo ae_zoo_recon_loss, loss=mse: mean over every pixel of (sigmoid(z) - x)^2."""
    return F.mse_loss(torch.sigmoid(logits), flat(x), reduction="mean")


def bce_of_logits(logits, x):
    """zoo ae_zoo_recon_loss, loss=bce: from the logits, summed over pixels,
    mean over the batch (AE_REDUCE_BATCH_MEAN)."""
    return F.binary_cross_entropy_with_logits(logits, flat(x), reduction="sum") / x.shape[0]


def gaussian_noise(x, sigma=0.5):
    """ae_gaussian_noise: clamp(x + sigma eps, 0, 1), eps ~ N(0, 1)."""
    return torch.clamp(x + sigma * torch.randn_like(x), 0, 1)


def vjp(h, v, x):
    """v^T dh/dx with create_graph (aezoo's ae_grad1 / ae_vjp with create_graph)."""
    return torch.autograd.grad(h, x, v, create_graph=True, retain_graph=True)[0]


def hutchinson(h, x, probes):
    """ae_jacobian_frobenius_sq_hutchinson, output side, Gaussian probes:
    (1/probes) sum_k ||J^T v_k||^2, one VJP with create_graph per probe."""
    acc = None
    for _ in range(probes):
        r = vjp(h, torch.randn_like(h), x)
        q = (r * r).sum()
        acc = q if acc is None else acc + q
    return acc * (1.0 / probes)


def frobenius_exact(h, x):
    """ae_jacobian_frobenius_sq with m = code units <= n = inputs: one VJP
    per code unit j with the probe one-hot in unit j of every example (the
    Jacobian is block diagonal over the batch), create_graph; the same loop
    as aezoo's, not torch's vmap'ed is_grads_batched."""
    acc = None
    for j in range(h.shape[1]):
        v = torch.zeros_like(h)
        v[:, j] = 1
        r = vjp(h, v, x)
        q = (r * r).sum()
        acc = q if acc is None else acc + q
    return acc


# ---------------------------------------------------------------- the models
# Each: loss(x) -> (loss, {term: value}); stage_params() -> what Adam steps;
# after_step() for a projection. x is the batch (B, 1, 28, 28).


class Zoo(nn.Module):
    def stage_params(self):
        return list(self.parameters())

    def after_step(self):
        pass


class AE(Zoo):
    """ae (zoo/ae.c): 784-100-30 ReLU, linear code, mirrored decoder
    30-100-784 (ReLU between), sigmoid output, mse mean over pixels. Same
    sizes, names (encoder.0/2, decoder.0/2), activations, loss. Also dae's
    network (noise=True) and stacked-ae's (activation sigmoid)."""

    def __init__(self, hidden=(100, 30), act="relu", noise=False):
        super().__init__()
        sizes = [784, *hidden]
        self.encoder = mlp(sizes, act, None)
        self.decoder = mlp(sizes[::-1], act, None)
        self.noise = noise

    def loss(self, x):
        xin = gaussian_noise(x) if self.noise else x
        l = mse_of_logits(self.decoder(self.encoder(flat(xin))), x)
        return l, {"mse": l}


class DAE(AE):
    """dae (zoo/dae.c): ae's network; the encoder sees clamp(x + 0.5 eps, 0, 1)
    (noise=gaussian, sigma 0.5), mse against the clean x. Same noise kind and
    level; the noise comes from torch's generator (not aezoo's Philox)."""

    def __init__(self):
        super().__init__(noise=True)


class LinearAE(Zoo):
    """linear-ae (zoo/linear_ae.c): x_hat = c + W_d W_e (x - c), W_e (30,784),
    W_d (784,30) bias-free Linear layers, c a learned offset initialised to 0
    (center=true), mse mean. Same."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(784, 30, bias=False)
        self.decoder = nn.Linear(30, 784, bias=False)
        self.center = nn.Parameter(torch.zeros(784))

    def loss(self, x):
        xf = flat(x)
        l = F.mse_loss(self.decoder(self.encoder(xf - self.center)) + self.center, xf)
        return l, {"mse": l}


class DeepAE(AE):
    """deep-ae (zoo/deep_ae.c): 784-1000-500-250-30 ReLU, linear code,
    mirrored decoder, sigmoid output, mse mean. Same."""

    def __init__(self):
        super().__init__(hidden=(1000, 500, 250, 30))


class StackedAE(AE):
    """stacked-ae (zoo/stacked_ae.c): 784-100-30 sigmoid, built whole. The
    benchmark times the stage the aezoo run is in: a run of fewer steps than
    its per-stage budget stays in stage 1, "pretrain layer 1", whose loss is
    mse(sigmoid(g_1(sigmoid(f_1(x)))), x) (mean) and whose optimiser steps
    only f_1 = encoder.0 and g_1 = decoder.2. Same stage, loss and parameter
    set. (Stage 2 trains f_2, g_2 on the detached code below; stage 3 is ae
    with sigmoid units.)"""

    def __init__(self):
        super().__init__(act="sigmoid")

    def stage_params(self):
        return [*self.encoder[0].parameters(), *self.decoder[2].parameters()]

    def loss(self, x):
        h = torch.sigmoid(self.encoder[0](flat(x)))
        l = mse_of_logits(self.decoder[2](h), x)
        return l, {"mse": l}


class Sparse(Zoo):
    """sparse-l1 / sparse-kl (zoo/sparse.c): h = sigmoid(W_1 x + b_1), 300
    units; logits = W_2 h + b_2.
    sparse-l1: mse mean + 1e-4 * sum|h| / B.
    sparse-kl: bce (summed over pixels, mean over batch) + 3 * sum_j
    KL(0.1 || rho_hat_j), rho_hat the batch mean of h (no clamping, as
    ae_kl_bernoulli). Same sizes, losses, reductions and scalings."""

    def __init__(self, kind):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 300))
        self.decoder = nn.Sequential(nn.Linear(300, 784))
        self.kind = kind

    def loss(self, x):
        B = x.shape[0]
        h = torch.sigmoid(self.encoder(flat(x)))
        logits = self.decoder(h)
        if self.kind == "l1":
            r = mse_of_logits(logits, x)
            p = 1e-4 * (h.abs().sum() / B)
            return r + p, {"mse": r, "l1": p}
        r = bce_of_logits(logits, x)
        rho, rh = 0.1, h.mean(0)
        p = 3.0 * (rho * torch.log(rho / rh) + (1 - rho) * torch.log((1 - rho) / (1 - rh))).sum()
        return r + p, {"bce": r, "kl": p}


def input_leaf(x):
    """ae_zoo_input_var: the flat input as a leaf that dh/dx can reach."""
    return flat(x).detach().requires_grad_(True)


class CAE(Zoo):
    """cae (zoo/cae.c): h = sigmoid(W x + b), 1000 units, tied decoder
    logits = h W + c, bce (sum over pixels, mean over batch) + 0.1 *
    mean_b ||dh_b/dx_b||_F^2 by Hutchinson's estimate, 4 Gaussian probes on
    the output side, each a VJP with create_graph (jacobian=hutchinson,
    probes=4), differentiated again by backward. Same. Names encoder.weight,
    encoder.bias, decoder.bias; decoder.bias ~ U(+-1/sqrt(1000)) as aezoo's."""

    def __init__(self, probes=4):
        super().__init__()
        self.encoder = nn.Linear(784, 1000)
        self.decoder = nn.Module()
        self.decoder.bias = nn.Parameter(torch.empty(784).uniform_(-1 / math.sqrt(1000), 1 / math.sqrt(1000)))
        self.probes = probes

    def code(self, xf):
        return torch.sigmoid(self.encoder(xf))

    def recon(self, h, x):
        return bce_of_logits(h @ self.encoder.weight + self.decoder.bias, x)

    def loss(self, x):
        xv = input_leaf(x)
        h = self.code(xv)
        pen = 0.1 * (hutchinson(h, xv, self.probes) / x.shape[0])
        r = self.recon(h, x)
        return r + pen, {"bce": r, "contractive": pen}


class CAEDeep(Zoo):
    """cae-deep (zoo/cae_deep.c): encoder 784-256-64 with sigmoid after every
    layer (the code too), decoder 64-256 sigmoid then 256-784 logits, bce
    (sum over pixels, mean over batch) + 0.1 * mean_b ||dh_b/dx_b||_F^2
    exact (jacobian=exact): 64 VJPs with create_graph, one per code unit.
    Same sizes, penalty and loop (see frobenius_exact)."""

    def __init__(self):
        super().__init__()
        self.encoder = mlp([784, 256, 64], "sigmoid", "sigmoid")
        self.decoder = mlp([64, 256, 784], "sigmoid", None)

    def loss(self, x):
        xv = input_leaf(x)
        h = self.encoder(xv)
        pen = 0.1 * (frobenius_exact(h, xv) / x.shape[0])
        r = bce_of_logits(self.decoder(h), x)
        return r + pen, {"bce": r, "contractive": pen}


class CAEH(CAE):
    """cae-h (zoo/cae_h.c): cae's network; bce + 0.1 * Hutchinson (1 probe)
    + 0.1 * (1/(n_c k B)) sum_c sum_k ||J(x)^T v - J(x + eps_c)^T v||^2 with
    n_c = 4 corruptions eps_c ~ N(0, 0.1^2) (each a new leaf), k = 1 probe
    v ~ N(0, I) per corruption shared by both sides: 2 VJPs with
    create_graph per corruption. Same terms, scalings, probe and
    corruption counts."""

    def __init__(self):
        super().__init__(probes=1)

    def loss(self, x):
        B = x.shape[0]
        xv = input_leaf(x)
        h = self.code(xv)
        pen = 0.1 * (hutchinson(h, xv, 1) / B)
        acc = None
        xf = flat(x)
        for _ in range(4):
            xc = (xf + 0.1 * torch.randn_like(xf)).requires_grad_(True)
            hc = self.code(xc)
            v = torch.randn_like(h)
            d = vjp(h, v, xv) - vjp(hc, v, xc)
            q = (d * d).sum()
            acc = q if acc is None else acc + q
        ho = 0.1 * (acc * (1.0 / (4 * 1 * B)))
        r = self.recon(h, x)
        return r + pen + ho, {"bce": r, "contractive": pen, "higher_order": ho}


class ConvAE(Zoo):
    """conv-ae (zoo/conv_ae.c): Conv2d 1->16->32->64, 3x3, stride 2, pad 1,
    ReLU (28 -> 14 -> 7 -> 4), Flatten, Linear(1024, 30) code; Linear(30,
    1024) ReLU, Unflatten, ConvTranspose2d 64->32 (output_padding 0), 32->16
    (1), 16->1 (1), 3x3 stride 2 pad 1, ReLU between (4 -> 7 -> 14 -> 28),
    mse of the sigmoid, mean. Same layers, indices and paddings."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(1024, 30))
        self.decoder = nn.Sequential(
            nn.Linear(30, 1024), nn.ReLU(), nn.Unflatten(1, (64, 4, 4)),
            nn.ConvTranspose2d(64, 32, 3, 2, 1, output_padding=0), nn.ReLU(),
            nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1))

    def loss(self, x):
        l = mse_of_logits(flat(self.decoder(self.encoder(x))), x)
        return l, {"mse": l}


class ConvDAE(Zoo):
    """conv-dae (zoo/conv_dae.c): input clamp(x + 0.5 eps, 0, 1); Conv2d
    1->32 ReLU MaxPool2d(2), Conv2d 32->32 ReLU MaxPool2d(2) (28 -> 14 -> 7);
    Conv2d 32->32 ReLU Upsample(2, nearest), Conv2d 32->32 ReLU Upsample,
    Conv2d 32->1 logits; every conv 3x3 stride 1 pad 1; mse of the sigmoid
    against the clean x, mean. Same."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                                     nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2))
        self.decoder = nn.Sequential(nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                     nn.Conv2d(32, 32, 3, 1, 1), nn.ReLU(), nn.Upsample(scale_factor=2),
                                     nn.Conv2d(32, 1, 3, 1, 1))

    def loss(self, x):
        l = mse_of_logits(flat(self.decoder(self.encoder(gaussian_noise(x)))), x)
        return l, {"mse": l}


class DeconvAE(Zoo):
    """deconv-ae (zoo/deconv_ae.c): input clamp(x + 0.5 eps, 0, 1); Conv2d
    1->32 ReLU MaxPool2d(2, return_indices), Conv2d 32->32 ReLU MaxPool2d
    (28 -> 14 -> 7); ConvTranspose2d 32->32 ReLU MaxUnpool2d at the second
    pooling's indices (7 -> 14), ConvTranspose2d 32->32 ReLU MaxUnpool2d at
    the first's (14 -> 28), ConvTranspose2d 32->1 logits; 3x3 stride 1 pad 1;
    mse of the sigmoid against the clean x, mean. Same; names encoder.0/3,
    decoder.0/3/6 (the slots between hold the activations and pooling)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.Identity(),
                                     nn.Conv2d(32, 32, 3, 1, 1))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(32, 32, 3, 1, 1), nn.ReLU(), nn.Identity(),
                                     nn.ConvTranspose2d(32, 32, 3, 1, 1), nn.ReLU(), nn.Identity(),
                                     nn.ConvTranspose2d(32, 1, 3, 1, 1))

    def loss(self, x):
        a, p1 = F.max_pool2d(F.relu(self.encoder[0](gaussian_noise(x))), 2, 2, return_indices=True)
        h, p2 = F.max_pool2d(F.relu(self.encoder[3](a)), 2, 2, return_indices=True)
        y = F.max_unpool2d(F.relu(self.decoder[0](h)), p2, 2, 2, output_size=(14, 14))
        y = F.max_unpool2d(F.relu(self.decoder[3](y)), p1, 2, 2, output_size=(28, 28))
        l = mse_of_logits(flat(self.decoder[6](y)), x)
        return l, {"mse": l}


class VAE(Zoo):
    """vae (zoo/vae.c): h = tanh(Linear(784, 400)), mu = fc_mu(h), logvar =
    fc_logvar(h) (20 each), z = mu + exp(logvar / 2) eps, logits =
    Linear(400, 784)(tanh(Linear(20, 400)(z))); recon = bce from the logits
    summed over pixels, mean over batch; kl = -1/2 sum(1 + logvar - mu^2 -
    exp(logvar)) / B (beta 1). Same."""

    def __init__(self):
        super().__init__()
        self.encoder = mlp([784, 400], "tanh", "tanh")
        self.fc_mu = nn.Linear(400, 20)
        self.fc_logvar = nn.Linear(400, 20)
        self.decoder = mlp([20, 400, 784], "tanh", None)

    def loss(self, x):
        B = x.shape[0]
        h = self.encoder(flat(x))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.exp(logvar / 2) * torch.randn_like(mu)
        r = bce_of_logits(self.decoder(z), x)
        kl = -0.5 * (1 + logvar - mu * mu - torch.exp(logvar)).sum() / B
        return r + kl, {"recon": r, "kl": kl}


class PSDEncoder(nn.Module):
    def __init__(self, code, dim):
        super().__init__()
        lin = nn.Linear(dim, code)
        self.weight, self.bias = lin.weight, lin.bias
        self.gain = nn.Parameter(torch.ones(code))

    def forward(self, xf):
        return torch.tanh(F.linear(xf, self.weight, self.bias)) * self.gain


class PSD(Zoo):
    """psd (zoo/psd.c): F(x) = G tanh(W x + b) (256 codes), dictionary D =
    decoder.weight (784, 256) with unit-norm columns (U(+-1/16) then
    normalised). A step: z* = argmin_z ||x - D z||^2 + 0.5 |z|_1 + ||z -
    F(x)||^2 (per example) by 20 MFISTA iterations from z = F(x) with the
    parameters fixed: the smooth part's gradient by autograd (one backward
    per iteration, as aezoo's ae_grad1), the soft-threshold step (softshrink
    = aezoo's ae_shrink), the energy of every example, keeping the better of
    the new point and the previous iterate, FISTA's momentum; step 1/L, L = 2
    (1.02 sigma_max(D)^2 + gamma), sigma_max^2 by 30 power iterations from
    (1,...,1)/sqrt(256) (aezoo accumulates them in double, here float32
    torch.mv). Then one Adam step on (sum over pixels and codes, mean over
    the batch) ||x - D z*||^2 + 0.5 |z*|_1 + ||z* - F(x)||^2 with z* held
    constant, then D's columns rescaled to unit norm. Same."""

    LAMBDA, GAMMA, STEPS, POWER = 0.5, 1.0, 20, 30

    def __init__(self, code=256):
        super().__init__()
        self.encoder = PSDEncoder(code, 784)
        self.decoder = nn.Linear(code, 784, bias=False)
        self.after_step()

    @torch.no_grad()
    def after_step(self):
        d = self.decoder.weight
        n = d.norm(dim=0, keepdim=True)
        d.div_(torch.where(n > 0, n, torch.ones_like(n)))

    @torch.no_grad()
    def sigma_max_sq(self, d):
        v = torch.full((d.shape[1],), 1 / math.sqrt(d.shape[1]))
        rq = 0.0
        for _ in range(self.POWER):
            u = torch.mv(d, v)
            rq = float(u.dot(u))
            v = torch.mv(d.t(), u)
            n = float(v.norm())
            if not n > 0:
                break
            v = v / n
        return rq

    def energy_rows(self, xf, z, d, fx):
        return (((xf - z @ d.t()) ** 2).sum(1) + self.GAMMA * ((z - fx) ** 2).sum(1)
                + self.LAMBDA * z.abs().sum(1))

    def infer(self, xf, fx):
        d = self.decoder.weight.detach()
        xf, fx = xf.detach(), fx.detach()
        step = 1 / (2 * (1.02 * self.sigma_max_sq(d) + self.GAMMA))
        with torch.no_grad():
            xk, xprev, y = fx.clone(), fx.clone(), fx.clone()
            ek = self.energy_rows(xf, fx, d, fx)
        tk = 1.0
        for _ in range(self.STEPS):
            yv = y.detach().requires_grad_(True)
            with torch.enable_grad():
                smooth = ((xf - yv @ d.t()) ** 2).sum() + self.GAMMA * ((yv - fx) ** 2).sum()
                g, = torch.autograd.grad(smooth, yv)
            with torch.no_grad():
                z = F.softshrink(y - step * g, step * self.LAMBDA)
                ez = self.energy_rows(xf, z, d, fx)
                better = ez <= ek
                xprev = xk
                xk = torch.where(better[:, None], z, xk)
                ek = torch.where(better, ez, ek)
                tn = (1 + math.sqrt(1 + 4 * tk * tk)) / 2
                y = xk + (tk / tn) * (z - xk) + ((tk - 1) / tn) * (xk - xprev)
                tk = tn
        return xk

    def loss(self, x):
        B = x.shape[0]
        xf = flat(x)
        fx = self.encoder(xf)
        z = self.infer(xf, fx)
        recon = ((xf - z @ self.decoder.weight.t()) ** 2).sum() / B
        l1 = self.LAMBDA * (z.abs().sum() / B)
        pred = self.GAMMA * (((z - fx) ** 2).sum() / B)
        return recon + l1 + pred, {"recon": recon, "l1": l1, "prediction": pred}


class SeqAE(Zoo):
    """seq-ae (zoo/seq_ae.c): rows as a 28-step sequence of 28 pixels;
    nn.LSTM(28, 100) -> nn.LSTM(100, 30), whose last h is the code, repeated
    28 times (a copy, as ae_repeat) into nn.LSTM(30, 100), Linear(100, 28) at
    every step; mse of the sigmoid, mean. Same sizes, names and gate order
    (torch's). aezoo runs its own unrolled LSTM with fused gate ops; torch
    runs nn.LSTM's CPU implementation."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.lstm1 = nn.LSTM(28, 100, batch_first=True)
        self.encoder.lstm2 = nn.LSTM(100, 30, batch_first=True)
        self.decoder = nn.Module()
        self.decoder.lstm = nn.LSTM(30, 100, batch_first=True)
        self.decoder.out = nn.Linear(100, 28)

    def loss(self, x):
        B = x.shape[0]
        s, _ = self.encoder.lstm1(x.reshape(B, 28, 28))
        _, (h, _) = self.encoder.lstm2(s)
        d, _ = self.decoder.lstm(h[-1].unsqueeze(1).repeat(1, 28, 1))
        l = mse_of_logits(self.decoder.out(d.reshape(B * 28, 100)).reshape(B, 784), x)
        return l, {"mse": l}


MODELS = {
    "ae": AE, "linear-ae": LinearAE, "deep-ae": DeepAE, "stacked-ae": StackedAE, "dae": DAE,
    "sparse-l1": lambda: Sparse("l1"), "sparse-kl": lambda: Sparse("kl"), "cae": CAE, "cae-deep": CAEDeep,
    "cae-h": CAEH, "conv-ae": ConvAE, "conv-dae": ConvDAE, "deconv-ae": DeconvAE, "vae": VAE, "psd": PSD,
    "seq-ae": SeqAE,
}

# ---------------------------------------------------------------- bench


def maxrss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def minflt():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


MATMUL_EVENTS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")


def conv_flop(module, x, y):
    """Floating-point operations of one call of a Conv2d or ConvTranspose2d
    and of its backward: 2 per multiply-add of the forward, the same again
    for the weight's gradient, and again for the input's when the input
    needs one (the network's first layer does not). A convolution multiplies
    each output pixel by (in channels / groups) x kernel taps; a transposed
    one each input pixel by (out channels / groups) x kernel taps."""
    taps = module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.ConvTranspose2d):
        macs = x.numel() * module.out_channels // module.groups * taps
    else:
        macs = y.numel() * module.in_channels // module.groups * taps
    return 2 * macs * (3 if x.requires_grad else 2)


def matmul_gflop(step, model):
    """GFLOP of step()'s matrix products: the mm/addmm/bmm events the
    profiler counts (aten::linear and aten::matmul carry no count; their mm
    or addmm child does, so none counts twice), plus each convolution's
    forward and backward from its shapes (conv_flop), since PyTorch 1.13's
    profiler counts a convolution's forward but not its backward."""
    convs = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: convs.append(conv_flop(mod, inp[0], out)))
             for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.autograd.profiler.profile(with_flops=True) as prof:
            step()
    finally:
        for h in hooks:
            h.remove()
    flop = sum(e.flops for e in prof.function_events if e.name in MATMUL_EVENTS and e.flops)
    return (flop + sum(convs)) / 1e9


def cmd_bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = load_train(a.data)
    n = train.shape[0]
    bsz = min(a.batch_size, n)
    per_epoch = n // bsz
    model = MODELS[a.model]()
    opt = torch.optim.Adam(model.stage_params(), lr=1e-3)
    batch = torch.empty((bsz, *train.shape[1:]), dtype=train.dtype)
    state = {"perm": None, "pos": per_epoch}

    def step():
        if state["pos"] == per_epoch:  # a new permutation each epoch, the remainder dropped
            state["perm"], state["pos"] = torch.randperm(n), 0
        idx = state["perm"][state["pos"] * bsz:(state["pos"] + 1) * bsz]
        state["pos"] += 1
        torch.index_select(train, 0, idx, out=batch)
        opt.zero_grad()
        loss, terms = model.loss(batch)
        value = loss.item()
        for t in terms.values():
            t.item()
        loss.backward()
        opt.step()
        model.after_step()
        return value

    rss_base = maxrss_kib()
    first = last = float("nan")
    for i in range(a.warmup):
        last = step()
        if i == 0:
            first = last
    f0, c0, t0 = minflt(), cpu_s(), time.perf_counter()
    for i in range(a.steps):
        last = step()
        if a.warmup == 0 and i == 0:
            first = last
    wall, cpu, faults = time.perf_counter() - t0, cpu_s() - c0, minflt() - f0
    rss_peak = maxrss_kib()
    gflop = matmul_gflop(step, model)
    print("\t".join(str(v) for v in (a.model, a.threads, a.steps, 1e3 * wall / a.steps, 1e3 * cpu / a.steps,
                                      rss_base, rss_peak, first, last, gflop, faults / a.steps)))


# ---------------------------------------------------------------- check

ST_DTYPES = {"F32": "<f4", "F64": "<f8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    header.pop("__metadata__", None)
    buf = raw[8 + hlen:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(buf[b:end], dtype=ST_DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


def cmd_check(a):
    torch.manual_seed(a.seed)
    model = MODELS[a.model]()
    weights = read_safetensors(os.path.join(a.ckpt, "model.safetensors"))
    mine = dict(model.named_parameters())
    if set(mine) != set(weights):
        raise SystemExit(f"{a.model}: parameter names differ: torch only {sorted(set(mine) - set(weights))}, "
                         f"aezoo only {sorted(set(weights) - set(mine))}")
    with torch.no_grad():
        for k, p in mine.items():
            if tuple(p.shape) != tuple(weights[k].shape):
                raise SystemExit(f"{a.model}: {k} is {tuple(p.shape)} here, {tuple(weights[k].shape)} in aezoo")
            p.copy_(weights[k])
    x = load_train(a.data)[:a.batch_size]
    loss, terms = model.loss(x)
    with open(os.path.join(a.ckpt, "train.csv")) as f:
        head = f.readline().strip().split(",")
        row = f.readline().strip().split(",")
    ae = {k: float(v) for k, v in zip(head, row) if v and k not in ("step", "stage", "epoch", "wall_time")}
    cols = [("loss", ae.get("loss"), loss.item())] + [(k, ae.get(k), v.item()) for k, v in terms.items()]
    print("\t".join([a.model] + [f"{k}={va!r}/{vt!r}" for k, va, vt in cols]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("bench", "check"):
        q = sub.add_parser(name)
        q.add_argument("model", choices=sorted(MODELS))
        q.add_argument("--data", required=True)
        q.add_argument("--batch-size", type=int, default=128)
        q.add_argument("--seed", type=int, default=1)
        if name == "bench":
            q.add_argument("--steps", type=int, required=True)
            q.add_argument("--warmup", type=int, default=5)
            q.add_argument("--threads", type=int, default=1)
        else:
            q.add_argument("--ckpt", required=True)
    a = p.parse_args()
    {"bench": cmd_bench, "check": cmd_check}[a.cmd](a)


if __name__ == "__main__":
    main()
