"""Compiled kernels of the VAE codec's receiver side: the decoder network and the pixel tables.

Sender and receiver must compute bit-identical pixel probabilities from a latent z, in different
processes and whatever BLAS library is installed. These kernels therefore fix the order of every
floating-point operation: a dense layer accumulates ``out[j] += x[i] * W[i, j]`` over i in
increasing order for each output j (vectorising across j changes no result), no fast-math flags are
set (no reassociation, no fused multiply-add contraction), and they run on one thread. The
beta-binomial table uses only +, -, *, / (IEEE-exact operations) after the decoder's softplus.
"""

import math

import numpy as np
from numba import njit

N_VALUES = 256  # pixel values 0..255
N_TRIALS = N_VALUES - 1


@njit(cache=True)
def dense(x, w, b, relu):
    """x (n, k) @ w (k, m) + b, optionally ReLU, accumulating over k in a fixed order."""
    n, k = x.shape
    m = w.shape[1]
    out = np.empty((n, m))
    for r in range(n):
        acc = b.copy()
        for i in range(k):
            xi = x[r, i]
            if xi != 0.0:
                for j in range(m):
                    acc[j] += xi * w[i, j]
        if relu:
            for j in range(m):
                if not acc[j] > 0.0:  # also maps -0.0 and NaN to +0.0
                    acc[j] = 0.0
        out[r] = acc
    return out


@njit(cache=True)
def softplus(a, floor):
    """floor + log(1 + exp(a)), computed stably, elementwise (a new array)."""
    out = np.empty_like(a)
    for i in range(a.size):
        v = a.flat[i]
        if v > 0.0:
            out.flat[i] = floor + v + math.log1p(math.exp(-v))
        else:
            out.flat[i] = floor + math.log1p(math.exp(v))
    return out


@njit(cache=True)
def beta_binomial_table(alpha, beta, out):
    """Probabilities of 0..255 under BetaBinomial(255, alpha, beta) for each pixel, into out (p, 256).

    Uses the ratios p(k + 1) / p(k) = (n - k)(k + alpha) / ((k + 1)(n - k - 1 + beta)) (independent,
    so they vectorise), their running product from p(0) = 1 (rescaled by 2^-664 whenever it passes
    2^664, an exact power-of-two scaling), then multiplies by the reciprocal of the total: only
    IEEE-exact operations, so every machine computes the same table.
    """
    n = float(N_TRIALS)
    big = 2.0**664
    small = 2.0**-664
    ratio = np.empty(N_TRIALS)
    for p in range(alpha.shape[0]):
        a = alpha[p]
        b = beta[p]
        for k in range(N_TRIALS):
            ratio[k] = ((n - k) * (k + a)) / ((k + 1.0) * (n - k - 1.0 + b))
        w = 1.0
        total = 1.0
        out[p, 0] = 1.0
        for k in range(N_TRIALS):
            w = w * ratio[k]
            if w > big:
                for i in range(k + 1):
                    out[p, i] *= small
                w *= small
                total *= small
            out[p, k + 1] = w
            total += w
        inv = 1.0 / total
        for k in range(N_VALUES):
            out[p, k] *= inv
    return out


@njit(cache=True)
def vae_posterior(out, d, s_min, s_max):
    """The VAE's posterior (mu, s), each (n, d), from its encoder output (n, 2d), one element at a
    time (the same result whatever the batch): s = s_min + (s_max - s_min) / (1 + exp(-raw))."""
    n = out.shape[0]
    mu = np.empty((n, d))
    s = np.empty((n, d))
    for r in range(n):
        for j in range(d):
            mu[r, j] = out[r, j]
            s[r, j] = s_min + (s_max - s_min) / (1.0 + math.exp(-out[r, d + j]))
    return mu, s


@njit(cache=True)
def isokl_posterior(out, kappa, delta):
    """The IsoKL VAE's posterior (mu, s), each (n, d), from its encoder output (n, d), one element at
    a time: mu = sqrt(2 kappa) (1 - delta) tanh(raw), and s solves s^2 - ln s^2 = 2 kappa + 1 - mu^2
    by Newton's method on u = ln s^2 from u = -c (as ``model.isokl_scale``, element by element)."""
    n, d = out.shape
    mu = np.empty((n, d))
    s = np.empty((n, d))
    bound = math.sqrt(2.0 * kappa) * (1.0 - delta)
    for r in range(n):
        for j in range(d):
            m = bound * math.tanh(out[r, j])
            c = 2.0 * kappa + 1.0 - m * m
            u = -c
            for _ in range(60):
                e = math.exp(u)
                u_new = u - (e - u - c) / (e - 1.0)
                if u_new == u:
                    break
                u = min(u_new, 0.0)
            mu[r, j] = m
            s[r, j] = math.exp(0.5 * u)
    return mu, s
