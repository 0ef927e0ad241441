"""Laplace target against a Laplace proposal.

In the proposal's standard coordinates z = (x - m) / s the pair is Q = Laplace(mu, b),
P = Laplace(0, 1), and for b <= 1

    log r(z) = -ln b - |z - mu| / b + |z|,   increasing up to z = mu and non-increasing after it,
    D_inf = |mu| - ln b,   KL = |mu| - ln b - 1 + b exp(-|mu| / b).

Unlike the Gaussian case, equal scales with different locations give a finite D_inf = |mu|.
P's tails are exponential, so its log-CDF and quantile are exact in closed form far into the tails.
"""

import math

import numpy as np
from numba import njit

from .._math import LOG2, log1mexp
from .distributions import Laplace

TARGET = Laplace
PROPOSAL = Laplace
LOWER, UPPER = -math.inf, math.inf


def standardise(q, p):
    loc, scale, m, s = np.broadcast_arrays(q.loc, q.scale, p.loc, p.scale)
    wide = scale > s
    if np.any(wide):
        i = np.flatnonzero(wide.ravel())[0]
        raise ValueError(
            f"target scale {scale.ravel()[i]:g} exceeds proposal scale {s.ravel()[i]:g}, "
            "so D_inf is infinite"
        )
    return (loc - m) / s, scale / s


def kl(q, p):
    mu, b = standardise(q, p)
    a = np.abs(mu)
    return a - np.log(b) - 1 + b * np.exp(-a / b)


def dinf(q, p):
    mu, b = standardise(q, p)
    return np.abs(mu) - np.log(b)


def kernel_params(q, p):
    """Rows (D_inf, mu, b, -ln b) in nats, and the proposal's (loc, scale)."""
    mu, b = standardise(q, p)
    prm = np.stack([np.abs(mu) - np.log(b), mu, b, -np.log(b)], axis=-1)
    return (prm, *proposal_map(p))


def proposal_map(p):
    """(loc, scale) with x = loc + scale * z: the proposal's standard coordinates."""
    return np.broadcast_arrays(p.loc, p.scale)


@njit(cache=True, inline="always")
def logr(prm, z):
    return prm[3] - abs(z - prm[1]) / prm[2] + abs(z)


@njit(cache=True, inline="always")
def mode(prm):
    return prm[1]


@njit(cache=True, inline="always")
def logcdf(z):
    if z <= 0.0:
        return z - LOG2
    return math.log1p(-0.5 * math.exp(-z))


@njit(cache=True, inline="always")
def logsf(z):
    return logcdf(-z)


@njit(cache=True, inline="always")
def ppf_logcdf(lp):
    if lp <= -LOG2:
        return lp + LOG2
    return -LOG2 - log1mexp(lp)


@njit(cache=True, inline="always")
def ppf_logsf(lp):
    return -ppf_logcdf(lp)
