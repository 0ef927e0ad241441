"""Normal target against a Normal proposal.

In the proposal's standard coordinates z = (x - m) / s the pair is Q = N(mu, sigma^2), P = N(0, 1):

    log r(z) = D_inf - c (z - z*)^2,   c = (1 - sigma^2) / (2 sigma^2),   z* = mu / (1 - sigma^2),
    D_inf = -ln sigma + mu^2 / (2 (1 - sigma^2)),   KL = (sigma^2 + mu^2 - 1) / 2 - ln sigma,

with 1 - sigma^2 formed as -expm1(2 ln sigma): the completed-square form does not cancel when
sigma -> 1 and z* is far out, where the textbook form loses every digit.
"""

import math

import numpy as np
from numba import njit

from .._special import log_ndtr, ndtri_exp
from .distributions import Normal

TARGET = Normal
PROPOSAL = Normal
LOWER, UPPER = -math.inf, math.inf


def standardise(q, p):
    """(mu, sigma) of the target in the proposal's standard coordinates, validated."""
    loc, scale, m, s = np.broadcast_arrays(q.loc, q.scale, p.loc, p.scale)
    mu, sigma = (loc - m) / s, scale / s
    wide = sigma > 1
    if np.any(wide):
        i = np.flatnonzero(wide.ravel())[0]
        raise ValueError(
            f"target scale {scale.ravel()[i]:g} exceeds proposal scale {s.ravel()[i]:g}, "
            "so D_inf is infinite"
        )
    shifted = (sigma == 1) & (mu != 0)
    if np.any(shifted):
        i = np.flatnonzero(shifted.ravel())[0]
        raise ValueError(
            f"target and proposal have the same scale {s.ravel()[i]:g} but different locations "
            f"({loc.ravel()[i]:g} and {m.ravel()[i]:g}), so D_inf is infinite"
        )
    return mu, sigma


def kl(q, p):
    mu, sigma = standardise(q, p)
    return (sigma**2 + mu**2 - 1) / 2 - np.log(sigma)


def dinf(q, p):
    mu, sigma = standardise(q, p)
    one_minus = -np.expm1(2 * np.log(sigma))
    with np.errstate(divide="ignore", invalid="ignore"):
        quad = np.where(one_minus > 0, mu**2 / (2 * one_minus), 0.0)
    return -np.log(sigma) + quad


def kernel_params(q, p):
    """Rows (D_inf, c, z*, 0) in nats, and the proposal's (loc, scale)."""
    mu, sigma = standardise(q, p)
    one_minus = -np.expm1(2 * np.log(sigma))
    exact = one_minus > 0
    safe = np.where(exact, one_minus, 1.0)
    c = np.where(exact, one_minus / (2 * sigma**2), 0.0)
    zstar = np.where(exact, mu / safe, 0.0)
    d = -np.log(sigma) + np.where(exact, mu**2 / (2 * safe), 0.0)
    prm = np.stack([d, c, zstar, np.zeros_like(d)], axis=-1)
    return (prm, *proposal_map(p))


def proposal_map(p):
    """(loc, scale) with x = loc + scale * z: the proposal's standard coordinates."""
    return np.broadcast_arrays(p.loc, p.scale)


@njit(cache=True, inline="always")
def logr(prm, z):
    c = prm[1]
    if c == 0.0:
        return prm[0]
    dz = z - prm[2]
    return prm[0] - c * dz * dz


@njit(cache=True, inline="always")
def mode(prm):
    return prm[2]


@njit(cache=True, inline="always")
def logcdf(z):
    return log_ndtr(z)


@njit(cache=True, inline="always")
def logsf(z):
    return log_ndtr(-z)


@njit(cache=True, inline="always")
def ppf_logcdf(lp):
    return ndtri_exp(lp)


@njit(cache=True, inline="always")
def ppf_logsf(lp):
    return -ndtri_exp(lp)
