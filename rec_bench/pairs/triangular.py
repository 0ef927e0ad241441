"""Triangular target against a Uniform proposal.

In the proposal's standard coordinates z = (x - low) / (high - low) the pair is
Q = Triangular(a, c, b) with 0 <= a <= c <= b <= 1 and P = Uniform(0, 1), so r is Q's density:

    log r(z) = D_inf + log t(z),  t = (z - a) / (c - a) left of c and (b - z) / (b - c) right of it,
    D_inf = ln 2 - ln(b - a),   KL = D_inf - 1/2.

The ratio is unimodal with its peak at the mode c and vanishes outside [a, b]. Coordinates near 0
keep full relative precision, so a narrow triangle placed at the proposal's lower edge stays
accurate at large D_inf; one far from 0 resolves widths down to about 2^-45 only.
"""

import math

import numpy as np
from numba import njit

from .._math import LOG2
from .distributions import Triangular, Uniform

TARGET = Triangular
PROPOSAL = Uniform
LOWER, UPPER = 0.0, 1.0


def standardise(q, p):
    lo, c, hi, low, high = np.broadcast_arrays(q.low, q.mode, q.high, p.low, p.high)
    outside = (lo < low) | (hi > high)
    if np.any(outside):
        i = np.flatnonzero(outside.ravel())[0]
        raise ValueError(
            f"target support [{lo.ravel()[i]:g}, {hi.ravel()[i]:g}] is not inside the proposal "
            f"support [{low.ravel()[i]:g}, {high.ravel()[i]:g}], so D_inf is infinite"
        )
    w = high - low
    return (lo - low) / w, (c - low) / w, (hi - low) / w


def kl(q, p):
    return dinf(q, p) - 0.5


def dinf(q, p):
    a, _, b = standardise(q, p)
    return LOG2 - np.log(b - a)


def kernel_params(q, p):
    """Rows (D_inf, a, c, b) in nats and standard coordinates, and the proposal's (low, width)."""
    a, c, b = standardise(q, p)
    prm = np.stack([LOG2 - np.log(b - a), a, c, b], axis=-1)
    return (prm, *proposal_map(p))


def proposal_map(p):
    """(loc, scale) with x = loc + scale * z: the proposal's standard coordinates."""
    low, high = np.broadcast_arrays(p.low, p.high)
    return low, high - low


@njit(cache=True, inline="always")
def logr(prm, z):
    a, c, b = prm[1], prm[2], prm[3]
    if z < a or z > b:
        return -math.inf
    if z < c:
        return prm[0] + math.log((z - a) / (c - a))
    if b == c:
        return prm[0]
    return prm[0] + math.log((b - z) / (b - c))


@njit(cache=True, inline="always")
def mode(prm):
    return prm[2]


@njit(cache=True, inline="always")
def logcdf(z):
    if z <= 0.0:
        return -math.inf
    if z >= 1.0:
        return 0.0
    return math.log(z)


@njit(cache=True, inline="always")
def logsf(z):
    if z >= 1.0:
        return -math.inf
    if z <= 0.0:
        return 0.0
    return math.log1p(-z)


@njit(cache=True, inline="always")
def ppf_logcdf(lp):
    return math.exp(lp)


@njit(cache=True, inline="always")
def ppf_logsf(lp):
    return -math.expm1(lp)


# ---------------------------------------------------------------------------------------------
# Greedy Poisson rejection sampling (rec_bench.search.gprs): level sets of r and their masses.
#
# A level h is given by its gap delta = D_inf - log h >= 0 (nats); with v = e^-delta the level set
# {t >= v} is [a + (c - a) v, b - (b - c) v], so P(L) = (b - a)(1 - v), Q(L) = 1 - v^2 and
# w_Q - h w_P = (1 - v)^2. The stretch function has the closed form sigma(h) = h / (1 - h / e^D_inf).
# ---------------------------------------------------------------------------------------------

from .._math import log1mexp as _log1mexp  # noqa: E402


@njit(cache=True)
def gprs_level_set(prm, delta):
    """(z_lo, z_hi): the level set {log r >= D_inf - delta} in standard coordinates."""
    a, c, b = prm[1], prm[2], prm[3]
    v = math.exp(-delta)
    return a + (c - a) * v, b - (b - c) * v


@njit(cache=True)
def gprs_log_masses(prm, delta):
    """(log P(L), log Q(L)) of the level set L at gap delta."""
    return math.log(prm[3] - prm[1]) + _log1mexp(-delta), _log1mexp(-2.0 * delta)


@njit(cache=True)
def gprs_log_excess(prm, delta):
    """log(w_Q(h) - h w_P(h)) = 2 log(1 - e^-delta)."""
    return 2.0 * _log1mexp(-delta)


@njit(cache=True)
def gprs_log_stretch(prm, delta):
    """log sigma(h) = log h - log(1 - h / e^D_inf), h = exp(D_inf - delta)."""
    return prm[0] - delta - _log1mexp(-delta)


@njit(cache=True)
def gprs_kink(prm):
    return -1.0


def example():
    """A representative pair of the family (D_inf about 3 bits), for the contract tests."""
    return Triangular(0.2, 0.45, 0.6), Uniform(0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Greedy rejection coding (rec_bench.search.grc): Q's tails, and the residual mass of an interval.
# r is linear on each side of the mode, so the residual integral_I (r - h)_+ dz has a closed form
# without cancellation: on [u, v] inside [z_lo, c] it is H (v - u) ((u - z_lo) + (v - z_lo)) /
# (2 (c - a)), H = e^D_inf, and symmetrically right of c.
# ---------------------------------------------------------------------------------------------

from .._math import logaddexp as _logaddexp  # noqa: E402


@njit(cache=True, inline="always")
def grc_q_logcdf(prm, z):
    """log Q((-inf, z]) in the proposal's standard coordinates."""
    a, c, b = prm[1], prm[2], prm[3]
    if z <= a:
        return -math.inf
    if z >= b:
        return 0.0
    if z <= c:
        return 2.0 * math.log(z - a) - math.log(b - a) - math.log(c - a)
    return math.log1p(-((b - z) / (b - a)) * ((b - z) / (b - c)))


@njit(cache=True, inline="always")
def grc_q_logsf(prm, z):
    """log Q([z, inf)) in the proposal's standard coordinates."""
    a, c, b = prm[1], prm[2], prm[3]
    if z >= b:
        return -math.inf
    if z <= a:
        return 0.0
    if z >= c:
        return 2.0 * math.log(b - z) - math.log(b - a) - math.log(b - c)
    return math.log1p(-((z - a) / (b - a)) * ((z - a) / (c - a)))


@njit(cache=True)
def grc_log_residual(prm, delta, u, v):
    """log integral_u^v (r - h)_+ dz at h = exp(D_inf - delta), in closed form."""
    a, c, b = prm[1], prm[2], prm[3]
    vl = math.exp(-delta)
    zlo = a + (c - a) * vl
    zhi = b - (b - c) * vl
    total = -math.inf
    lo, hi = max(u, zlo), min(v, c)
    if hi > lo and c > a:
        total = prm[0] + math.log(hi - lo) + math.log((lo - zlo) + (hi - zlo)) - LOG2 - math.log(c - a)
    lo, hi = max(u, c), min(v, zhi)
    if hi > lo and b > c:
        right = prm[0] + math.log(hi - lo) + math.log((zhi - lo) + (zhi - hi)) - LOG2 - math.log(b - c)
        total = _logaddexp(total, right)
    return total
