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
    if p.loc.shape == p.scale.shape:
        return p.loc, p.scale
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


# ---------------------------------------------------------------------------------------------
# Greedy Poisson rejection sampling (rec_bench.search.gprs): level sets of r and their masses.
#
# A level h is given by its gap delta = D_inf - log h >= 0 (nats). By symmetry the formulas take
# mu >= 0 and reflect the level set when mu < 0. With k- = (1 - b) / b and k+ = (1 + b) / b,
# D_inf - log r(z) is k- (z - mu) right of mu, k+ (mu - z) on [0, mu] and k+ mu + k- |z| left of 0,
# so the level set is [mu - delta / k+, mu + delta / k-] while delta <= k+ mu, and its left end
# is -(delta - k+ mu) / k- beyond. Masses are formed from the gap directly, not from the endpoints.
# ---------------------------------------------------------------------------------------------

from .._math import logaddexp as _logaddexp  # noqa: E402
from .._quadrature import log_expm1_exp_integral  # noqa: E402

GPRS_SEVERE = -0.3  # see gaussian.GPRS_SEVERE
GPRS_RTOL = 1e-13


@njit(cache=True, inline="always")
def _gprs_shape(prm):
    b = prm[2]
    return abs(prm[1]), b, (1.0 - b) / b, (1.0 + b) / b


@njit(cache=True, inline="always")
def _gprs_ends(mu, km, kp, delta):
    """(z_lo, z_hi) for mu >= 0."""
    zhi = mu + delta / km if km > 0.0 else math.inf
    if delta <= kp * mu:
        zlo = mu - delta / kp
    elif km > 0.0:
        zlo = -(delta - kp * mu) / km
    else:
        zlo = -math.inf
    return zlo, zhi


@njit(cache=True)
def gprs_level_set(prm, delta):
    """(z_lo, z_hi): the level set {log r >= D_inf - delta} in standard coordinates."""
    mu, b, km, kp = _gprs_shape(prm)
    zlo, zhi = _gprs_ends(mu, km, kp, delta)
    if prm[1] < 0.0:
        return -zhi, -zlo
    return zlo, zhi


@njit(cache=True)
def gprs_log_masses(prm, delta):
    """(log P(L), log Q(L)) of the level set L at gap delta."""
    mu, b, km, kp = _gprs_shape(prm)
    zlo, zhi = _gprs_ends(mu, km, kp, delta)
    if zlo >= 0.0:
        width = delta / km + delta / kp if km > 0.0 else math.inf
        lp = -zlo - LOG2 + log1mexp(-width)
    else:
        lp = _logaddexp(log1mexp(zlo), log1mexp(-zhi)) - LOG2
    # Q's tails beyond the ends, in units of Q's scale b
    dr = delta / (1.0 - b) if b < 1.0 else math.inf
    if delta <= kp * mu:
        dl = delta / (1.0 + b)
    else:
        dl = mu / b + ((delta - kp * mu) / (1.0 - b) if b < 1.0 else math.inf)
    lq = _logaddexp(log1mexp(-dl), log1mexp(-dr)) - LOG2
    return lp, lq


@njit(cache=True)
def gprs_log_excess(prm, delta):
    """log(w_Q(h) - h w_P(h)) = log E_P[(r - h)_+] at h = exp(D_inf - delta).

    Where Q(L) and h P(L) agree to more than a few bits, the excess is integrated piece by piece
    (right of mu, between 0 and mu, left of 0) as h * integral expm1(log r - log h) dP.
    """
    if not delta > 0.0:
        return -math.inf
    y = prm[0] - delta
    lp, lq = gprs_log_masses(prm, delta)
    t = y + lp - lq
    if t < GPRS_SEVERE:
        return lq + log1mexp(t)
    mu, b, km, kp = _gprs_shape(prm)
    total = -math.inf
    # right of mu: z = mu + s, excess km (S - s), density e^(-mu - s) / 2
    if km > 0.0:
        li = log_expm1_exp_integral(0.0, km, 0.0, 0.0, delta / km, -1.0, 0.0, 0.0, GPRS_RTOL)
    else:
        li = math.log(math.expm1(delta))
    total = _logaddexp(total, li - mu - LOG2)
    # between 0 and mu: z = mu - s, excess e0 + kp (S - s), density e^(-(mu - S)) e^(s - S) / 2
    if mu > 0.0:
        if delta <= kp * mu:
            sb, e0 = delta / kp, 0.0
        else:
            sb, e0 = mu, delta - kp * mu
        li = log_expm1_exp_integral(e0, kp, 0.0, 0.0, sb, 1.0, 0.0, sb, GPRS_RTOL)
        total = _logaddexp(total, li - (mu - sb) - LOG2)
    # left of 0: z = -s, excess km (S - s), density e^(-s) / 2
    if delta > kp * mu:
        dc = delta - kp * mu
        if km > 0.0:
            li = log_expm1_exp_integral(0.0, km, 0.0, 0.0, dc / km, -1.0, 0.0, 0.0, GPRS_RTOL)
        else:
            li = math.log(math.expm1(dc))
        total = _logaddexp(total, li - LOG2)
    return y + total


@njit(cache=True)
def gprs_log_stretch(prm, delta):
    """No closed form for the stretch function of a Laplace pair: NaN (integrated instead)."""
    return math.nan


@njit(cache=True)
def gprs_kink(prm):
    """Gap at which w_P has a kink (the level set's left end crosses P's mode 0), or -1."""
    mu = abs(prm[1])
    if mu > 0.0:
        return mu * (1.0 + prm[2]) / prm[2]
    return -1.0


def example():
    """A representative pair of the family (D_inf about 3.2 bits), for the contract tests."""
    return Laplace(1.2, 0.35), Laplace(0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Greedy rejection coding (rec_bench.search.grc): Q's tails, and the residual mass of an interval
# (see rec_bench.pairs.gaussian). The residual is integrated piece by piece, as the excess above.
# ---------------------------------------------------------------------------------------------

GRC_RTOL = 1e-12


@njit(cache=True, inline="always")
def grc_q_logcdf(prm, z):
    """log Q((-inf, z]) in the proposal's standard coordinates."""
    return logcdf((z - prm[1]) / prm[2])


@njit(cache=True, inline="always")
def grc_q_logsf(prm, z):
    """log Q([z, inf)) in the proposal's standard coordinates."""
    return logcdf((prm[1] - z) / prm[2])


@njit(cache=True, inline="always")
def _grc_piece(e0, k, lo, hi, lam, uref):
    """log integral_lo^hi expm1(e0 + k (hi - z)) exp(lam (z - uref)) dz (k = 0: a constant excess)."""
    if k == 0.0:
        if e0 <= 0.0:
            return -math.inf
        # integral of exp(lam (z - uref)) with |lam| = 1 and uref the end where it is 1
        return math.log(math.expm1(e0)) + log1mexp(-(hi - lo))
    return log_expm1_exp_integral(max(e0, 0.0), k, 0.0, lo, hi, lam, 0.0, uref, GRC_RTOL)


@njit(cache=True)
def grc_log_residual(prm, delta, u, v):
    """log integral_u^v (r - h)_+ dP at h = exp(D_inf - delta), as h * integral expm1(log r - log h) dP
    over the pieces right of mu, between 0 and mu, and left of 0 (mu >= 0; reflected otherwise)."""
    if prm[1] < 0.0:
        u, v = -v, -u
    mu, b, km, kp = _gprs_shape(prm)
    zlo, zhi = _gprs_ends(mu, km, kp, delta)
    u = max(u, zlo)
    v = min(v, zhi)
    if not v > u:
        return -math.inf
    total = -math.inf
    # right of mu: excess delta - km (z - mu), density e^-z / 2, largest at the piece's left end
    lo, hi = max(u, mu), v
    if hi > lo:
        e0 = delta - km * (hi - mu) if km > 0.0 else delta  # km = 0: r is flat right of mu, hi may be inf
        total = _logaddexp(total, _grc_piece(e0, km, lo, hi, -1.0, lo) - lo - LOG2)
    # between 0 and mu: excess delta - kp (mu - z), increasing; density e^-z / 2
    lo, hi = max(u, 0.0), min(v, mu)
    if hi > lo:
        total = _logaddexp(total, _grc_piece(delta - kp * (mu - hi), -kp, lo, hi, -1.0, lo) - lo - LOG2)
    # left of 0: excess delta - kp mu + km z, increasing; density e^z / 2, largest at the right end
    lo, hi = u, min(v, 0.0)
    if hi > lo:
        total = _logaddexp(total, _grc_piece(delta - kp * mu + km * hi, -km, lo, hi, 1.0, hi) + hi - LOG2)
    return prm[0] - delta + total
