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

from ..special import log_ndtr, ndtri_exp
from .distributions import Normal

TARGET = Normal
PROPOSAL = Normal
LOWER, UPPER = -math.inf, math.inf


def standardise(q, p):
    """(mu, sigma) of the target in the proposal's standard coordinates, validated."""
    mu = (q.loc - p.loc) / p.scale  # broadcasting as np.broadcast_arrays would, but without its cost
    sigma = q.scale / p.scale
    if mu.shape != sigma.shape:
        if sigma.ndim == 0:
            sigma = np.full(mu.shape, sigma)
        elif mu.ndim == 0:
            mu = np.full(sigma.shape, mu)
        else:
            shape = np.broadcast_shapes(mu.shape, sigma.shape)
            mu, sigma = np.broadcast_to(mu, shape), np.broadcast_to(sigma, shape)
    if not (sigma < 1).all():  # the rare case: find what is wrong, for the message
        loc, scale, m, s = np.broadcast_arrays(q.loc, q.scale, p.loc, p.scale)
        wide = sigma > 1
        if wide.any():
            i = np.flatnonzero(wide.ravel())[0]
            raise ValueError(
                f"target scale {scale.ravel()[i]:g} exceeds proposal scale {s.ravel()[i]:g}, "
                "so D_inf is infinite"
            )
        shifted = (sigma == 1) & (mu != 0)
        if shifted.any():
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
    arrays = (q.loc, q.scale, p.loc, p.scale)
    shape = _common_shape(arrays)
    if shape is None:  # a general broadcast: the arrays made whole first
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        arrays = tuple(np.broadcast_to(a, shape) for a in arrays)
    sigma = arrays[1] / arrays[3]
    log_sigma = np.log(sigma)  # the transcendental functions stay numpy's, as they always were
    one_minus = -np.expm1(2 * log_sigma)
    prm = np.empty(shape + (4,))
    flat = [_flat(a) for a in (*arrays, sigma, log_sigma, one_minus)]
    bad = _rows(*flat, prm.reshape(-1, 4))
    if bad >= 0:  # the rows from ``bad`` on are not filled: never returned
        standardise(q, p)  # raises the message naming what is wrong
        raise ValueError("the pair's D_inf is infinite")
    return (prm, *proposal_map(p))


def _common_shape(arrays):
    """The one shape of the arrays that are not 0-d, or None if they have several."""
    shape = ()
    for a in arrays:
        if a.ndim and a.shape != shape:
            if shape:
                return None
            shape = a.shape
    return shape


def _flat(a):
    """A 0-d array as one element, any other as its elements in C order (a view where it can be)."""
    return a.reshape(1) if a.ndim == 0 else np.ascontiguousarray(a).reshape(-1)


@njit(cache=True, error_model="numpy")  # a division by zero gives inf, refused by the caller
def _rows(loc, scale, m, s, sigma, log_sigma, one_minus, out):
    """The rows of ``kernel_params``, each input one element (broadcast) or one per row: with
    mu = (loc - m) / s, D_inf = -log sigma + mu^2 / (2 (1 - sigma^2)), c = (1 - sigma^2) / (2 sigma^2),
    z* = mu / (1 - sigma^2); c = z* = 0 and D_inf = -log sigma where 1 - sigma^2 rounds to 0 (a
    target as wide as P, centred on it). Only correctly rounded operations, in the order numpy
    applied them before, so the rows are those of numpy, bit for bit. Returns the first row whose
    pair has an infinite D_inf (sigma > 1, or sigma = 1 with mu != 0), or -1."""
    n = out.shape[0]
    for i in range(n):
        mu = (loc[i if loc.size > 1 else 0] - m[i if m.size > 1 else 0]) / s[i if s.size > 1 else 0]
        sg = sigma[i if sigma.size > 1 else 0]
        if not sg < 1.0 and (sg > 1.0 or mu != 0.0 or sg != sg):
            return i
        lg = log_sigma[i if log_sigma.size > 1 else 0]
        om = one_minus[i if one_minus.size > 1 else 0]
        if om > 0:
            out[i, 0] = -lg + (mu * mu) / (2 * om)
            out[i, 1] = om / (2 * (sg * sg))
            out[i, 2] = mu / om
        else:
            out[i, 0] = -lg + 0.0
            out[i, 1] = 0.0
            out[i, 2] = 0.0
        out[i, 3] = 0.0
    return -1


def proposal_map(p):
    """(loc, scale) with x = loc + scale * z: the proposal's standard coordinates."""
    if p.loc.shape == p.scale.shape:
        return p.loc, p.scale
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


# ---------------------------------------------------------------------------------------------
# Greedy Poisson rejection sampling (rec_bench.search.gprs): level sets of r and their masses.
#
# A level h <= e^D_inf is given by its gap delta = D_inf - log h >= 0 (nats), not by log h, so that
# levels near the top keep their relative precision. The level set {log r >= D_inf - delta} is
# [z* - rho, z* + rho] with rho = sqrt(delta / c). Q = N(mu, s^2) in standard coordinates follows
# from the kernel row: s^2 = 1 / (1 + 2c), mu = z* 2c / (1 + 2c), z* - mu = z* / (1 + 2c).
# ---------------------------------------------------------------------------------------------

from .._math import log1mexp as _log1mexp, logaddexp as _logaddexp  # noqa: E402
from .._quadrature import WGL8 as _WGL8, XGL8 as _XGL8, log_expm1_exp_integral  # noqa: E402

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
# w_Q - h w_P = Q(L) (1 - e^t), t = log(h P(L) / Q(L)); for t below GPRS_SEVERE that product loses at
# most two bits, above it the excess is integrated over the level set instead (no cancellation)
GPRS_SEVERE = -0.3
GPRS_RTOL = 1e-13


@njit(cache=True, inline="always")
def gprs_target(prm):
    """(mu, s): Q's mean and standard deviation in the proposal's standard coordinates."""
    c = prm[1]
    s2 = 1.0 / (1.0 + 2.0 * c)
    return prm[2] * (2.0 * c) * s2, math.sqrt(s2)


@njit(cache=True)
def gprs_level_set(prm, delta):
    """(z_lo, z_hi): the level set {log r >= D_inf - delta} in standard coordinates."""
    c = prm[1]
    if c == 0.0:  # Q = P, r = 1
        return -math.inf, math.inf
    rho = math.sqrt(delta / c)
    return prm[2] - rho, prm[2] + rho


@njit(cache=True)
def log_std_normal_mass(lo, hi):
    """log(Phi(hi) - Phi(lo)) for lo <= hi, accurate in the tails and for narrow intervals.

    Narrow intervals (half-width w with w (|centre| + w) <= 1/4, where the density varies by less
    than a factor e^0.5) by 8-point Gauss-Legendre, exact to rounding there; others as a log-space
    difference of log-CDFs on the side of the small tail.
    """
    if not lo < hi:
        return -math.inf
    w = 0.5 * (hi - lo)
    if w * (abs(0.5 * lo + 0.5 * hi) + w) <= 0.25:
        zc = 0.5 * lo + 0.5 * hi
        acc = 0.0
        for j in range(4):
            t = w * _XGL8[j]
            acc += _WGL8[j] * (math.exp(-zc * t - 0.5 * t * t) + math.exp(zc * t - 0.5 * t * t))
        return -0.5 * zc * zc - LOG_SQRT_2PI + math.log(w * acc)
    if lo >= 0.0:
        a = log_ndtr(-lo)
        return a + _log1mexp(log_ndtr(-hi) - a)
    if hi <= 0.0:
        a = log_ndtr(hi)
        return a + _log1mexp(log_ndtr(lo) - a)
    return _log1mexp(_logaddexp(log_ndtr(lo), log_ndtr(-hi)))


@njit(cache=True)
def gprs_log_masses(prm, delta):
    """(log P(L), log Q(L)) of the level set L at gap delta."""
    c = prm[1]
    if c == 0.0:
        return 0.0, 0.0
    rho = math.sqrt(delta / c)
    zs = prm[2]
    lp = log_std_normal_mass(zs - rho, zs + rho)
    _, s = gprs_target(prm)
    zq = zs / (1.0 + 2.0 * c)  # z* - mu
    lq = log_std_normal_mass((zq - rho) / s, (zq + rho) / s)
    return lp, lq


@njit(cache=True)
def gprs_log_excess(prm, delta):
    """log(w_Q(h) - h w_P(h)) = log E_P[(r - h)_+] at h = exp(D_inf - delta).

    Where Q(L) and h P(L) agree to more than a few bits, the excess is integrated directly as
    h * integral_L expm1(log r - log h) dP, whose integrand is nonnegative.
    """
    if not delta > 0.0:
        return -math.inf
    c = prm[1]
    if c == 0.0:  # D_inf = 0: E[(1 - h)_+]
        return _log1mexp(-delta)
    y = prm[0] - delta
    lp, lq = gprs_log_masses(prm, delta)
    t = y + lp - lq
    if t < GPRS_SEVERE:
        return lq + _log1mexp(t)
    rho = math.sqrt(delta / c)
    zs = prm[2]
    uref = min(max(-zs, -rho), rho)  # where P's density is largest on [-rho, rho] (u = z - z*)
    li = log_expm1_exp_integral(0.0, 0.0, c, -rho, rho, -(zs + uref), -0.5, uref, GPRS_RTOL)
    x = zs + uref
    return y - 0.5 * x * x - LOG_SQRT_2PI + li


@njit(cache=True)
def gprs_log_stretch(prm, delta):
    """No closed form for the stretch function of a Gaussian pair: NaN (integrated instead)."""
    return math.nan


@njit(cache=True)
def gprs_kink(prm):
    """Gap at which the excess is not smooth (none here: -1)."""
    return -1.0


def example():
    """A representative pair of the family (D_inf about 1.5 bits), for the contract tests."""
    return Normal(0.8, 0.45), Normal(0.2, 1.3)


# ---------------------------------------------------------------------------------------------
# Greedy rejection coding (rec_bench.search.grc): Q's tails, and the residual mass of an interval.
#
# GRC needs, for a level h = exp(D_inf - delta) and an interval I of the level set, the residual
# integral_I (r - h)_+ dP = Q(I) - h P(I). The search forms it from P's and Q's log-tails at the
# interval's ends; where the two terms agree to more than about ten bits it calls
# ``grc_log_residual``, which integrates h * expm1(log r - log h) over I instead (no cancellation).
# ---------------------------------------------------------------------------------------------

GRC_RTOL = 1e-12


@njit(cache=True, inline="always")
def grc_q_logcdf(prm, z):
    """log Q((-inf, z]) in the proposal's standard coordinates."""
    c = prm[1]
    s2 = 1.0 / (1.0 + 2.0 * c)
    return log_ndtr((z - prm[2] * (2.0 * c) * s2) / math.sqrt(s2))


@njit(cache=True, inline="always")
def grc_q_logsf(prm, z):
    """log Q([z, inf)) in the proposal's standard coordinates."""
    c = prm[1]
    s2 = 1.0 / (1.0 + 2.0 * c)
    return log_ndtr((prm[2] * (2.0 * c) * s2 - z) / math.sqrt(s2))


@njit(cache=True)
def grc_log_residual(prm, delta, u, v):
    """log integral_u^v (r - h)_+ dP at h = exp(D_inf - delta), as h * integral expm1(log r - log h) dP.

    With w = z - z*, the excess log-ratio on the level set [-rho, rho] is delta - c w^2, written
    about the interval's right end for the quadrature (rec_bench._quadrature).
    """
    c = prm[1]
    if c == 0.0:  # Q = P: r = 1 everywhere
        return _log1mexp(-delta) + log_std_normal_mass(u, v)
    rho = math.sqrt(delta / c)
    zs = prm[2]
    w0 = max(u - zs, -rho)
    w1 = min(v - zs, rho)
    if not w1 > w0:
        return -math.inf
    e0 = max(c * (rho - w1) * (rho + w1), 0.0)
    uref = min(max(-zs, w0), w1)  # where P's density is largest on the interval
    li = log_expm1_exp_integral(e0, c * (w0 + w1), c, w0, w1, -(zs + uref), -0.5, uref, GRC_RTOL)
    x = zs + uref
    return prm[0] - delta - 0.5 * x * x - LOG_SQRT_2PI + li
