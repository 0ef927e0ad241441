"""Compiled dispatch over pair families, and the interval operations every search uses.

A pair reaches compiled code as a family number (its position in rec_bench.pairs.registry) and a
row of four float64 parameters whose first entry is D_inf in nats. Each per-family function below
is an if-chain over the registry built by rec_bench._dispatch, inlined into the kernels. All work
happens in the proposal's standard coordinates. A region [a, b] is carried as its endpoints'
coordinates, log-CDFs and log-survivals together with its log-mass, so that truncated draws and
medians are formed from whichever tail is small and stay exact far into the tails.
"""

import math

from numba import njit

from .._dispatch import chain
from .._math import LOG2, LOG_HALF, log1mexp, logaddexp
from .registry import FAMILIES


def _default_sup_logr(family):
    logr_, mode_ = family.logr, family.mode

    @njit(inline="always")
    def sup_logr(prm, a, b):
        return logr_(prm, min(max(mode_(prm), a), b))

    return sup_logr


def _support(family):
    lower, upper = float(family.LOWER), float(family.UPPER)

    @njit(inline="always")
    def support():
        return lower, upper

    return support


def _each(attribute):
    return [getattr(f, attribute) for f in FAMILIES]


logr = chain(_each("logr"), 2, "logr")  # log dQ/dP at z
mode = chain(_each("mode"), 1, "mode")
# sup of log r over [a, b]; for a unimodal r, log r at the mode clipped into [a, b]
sup_logr = chain([getattr(f, "sup_logr", None) or _default_sup_logr(f) for f in FAMILIES], 3, "sup_logr")
logcdf = chain(_each("logcdf"), 1, "logcdf")
logsf = chain(_each("logsf"), 1, "logsf")
ppf_logcdf = chain(_each("ppf_logcdf"), 1, "ppf_logcdf")
ppf_logsf = chain(_each("ppf_logsf"), 1, "ppf_logsf")
support = chain([_support(f) for f in FAMILIES], 0, "support")  # P's (lower, upper), standard coordinates


# Greedy Poisson rejection sampling (rec_bench.search.gprs) needs the masses of the ratio's level
# sets; a family that does not provide them (``GPRS_FUNCTIONS``) gets stand-ins returning NaN, and
# the codecs refuse GPRS for it before any kernel runs (rec_bench.methods.check_family).
GPRS_FUNCTIONS = ("gprs_log_excess", "gprs_log_masses", "gprs_log_stretch", "gprs_kink")


@njit(inline="always")
def _no_excess(prm, delta):
    return math.nan


@njit(inline="always")
def _no_masses(prm, delta):
    return math.nan, math.nan


@njit(inline="always")
def _no_kink(prm):
    return math.nan


_NO_GPRS = {"gprs_log_excess": _no_excess, "gprs_log_masses": _no_masses, "gprs_log_stretch": _no_excess,
            "gprs_kink": _no_kink}


def _gprs(name, nargs):
    return chain([getattr(f, name, _NO_GPRS[name]) for f in FAMILIES], nargs, name)


gprs_log_excess = _gprs("gprs_log_excess", 2)  # log E_P[(r - h)+] at gap D_inf - log h
gprs_log_masses = _gprs("gprs_log_masses", 2)  # (log P(L), log Q(L)) of the level set L at a gap
gprs_log_stretch = _gprs("gprs_log_stretch", 2)  # log sigma in closed form, or NaN
gprs_kink = _gprs("gprs_kink", 1)  # the gap at which the excess is not smooth (-1: none)


# Greedy rejection coding (rec_bench.search.grc) needs the ratio's level set at a gap, Q's tails and
# the residual mass of an interval of the level set; families without them get NaN stand-ins and
# are refused before a search starts, as for GPRS.
GRC_FUNCTIONS = ("gprs_level_set", "grc_q_logcdf", "grc_q_logsf", "grc_log_residual")


@njit(inline="always")
def _no_level_set(prm, delta):
    return math.nan, math.nan


@njit(inline="always")
def _no_point(prm, z):
    return math.nan


@njit(inline="always")
def _no_residual(prm, delta, u, v):
    return math.nan


_NO_GRC = {"gprs_level_set": _no_level_set, "grc_q_logcdf": _no_point, "grc_q_logsf": _no_point,
           "grc_log_residual": _no_residual}


def _grc(name, nargs):
    return chain([getattr(f, name, _NO_GRC[name]) for f in FAMILIES], nargs, name)


level_set = _grc("gprs_level_set", 2)  # (z_lo, z_hi) of {log r >= D_inf - delta}
q_logcdf = _grc("grc_q_logcdf", 2)  # log Q((-inf, z]) in P's standard coordinates
q_logsf = _grc("grc_q_logsf", 2)  # log Q([z, inf))
grc_log_residual = _grc("grc_log_residual", 4)  # log integral_u^v (r - h)_+ dP, h = exp(D_inf - delta)


# How far from P's median (in log-probability) a point must lie for its far-side tail to be unused.
FAR_SIDE = 0.5


@njit(cache=True, inline="always")
def far_side(lp):
    """log(1 - e^lp): the other tail of a point whose near-side log-tail is lp, when it can matter.

    Every formula here reads a region's log-CDFs left of P's median and its log-survivals right of
    it; the other tail of an endpoint is read only when a region reaches across the median, and an
    endpoint more than FAR_SIDE nats from the median is never on such a region's far side (the
    branches switch at the median; rounding moves them by a few ulps, not by FAR_SIDE). So for such
    a point the log1mexp is skipped and 0.0 stored in its place.
    """
    if lp > LOG_HALF - FAR_SIDE:
        return log1mexp(lp)
    return 0.0


@njit(cache=True, inline="always")
def point_from_logcdf(fam, lf):
    """(z, log F(z), log S(z)) for the point whose log-CDF is lf, left of P's median."""
    return ppf_logcdf(fam, lf), lf, far_side(lf)


@njit(cache=True, inline="always")
def point_from_logsf(fam, ls):
    """(z, log F(z), log S(z)) for the point whose log-survival is ls, right of P's median."""
    return ppf_logsf(fam, ls), far_side(ls), ls


@njit(cache=True, inline="always")
def sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lmass, u):
    """Draw from P restricted to [a, b] by inversion of the uniform u, in log-CDF space.

    The quantile F(a) + u P([a, b]) is formed as a log-sum-exp; past P's median the equal quantity
    S(b) + (1 - u) P([a, b]) on the survival side is used instead, so an upper-tail draw keeps its
    precision. Returns (z, log F(z), log S(z)); z is clipped into [a, b] against rounding.
    """
    lf = logaddexp(lfa, math.log(u) + lmass)
    if lf <= LOG_HALF:
        z, lf, ls = point_from_logcdf(fam, lf)
    else:
        z, lf, ls = point_from_logsf(fam, logaddexp(lsb, math.log1p(-u) + lmass))
    return min(max(z, za), zb), lf, ls


@njit(cache=True, inline="always")
def sample_z_between(fam, za, lfa, lsa, zb, lfb, lsb, lmass, u):
    """``sample_between`` without the sample's log-CDF and log-survival (one log1mexp fewer).

    The same operations on the same inputs, so z is bit for bit the same: for searches that do not
    split at the sample (AD*, DAD*).
    """
    lf = logaddexp(lfa, math.log(u) + lmass)
    if lf <= LOG_HALF:
        z = ppf_logcdf(fam, lf)
    else:
        z = ppf_logsf(fam, logaddexp(lsb, math.log1p(-u) + lmass))
    return min(max(z, za), zb)


@njit(cache=True, inline="always")
def median_between(fam, lfa, lsa, lfb, lsb):
    """P's median of [a, b]: the point whose CDF is the mean of the endpoints' CDFs."""
    lf = logaddexp(lfa, lfb) - LOG2
    if lf <= LOG_HALF:
        return point_from_logcdf(fam, lf)
    return point_from_logsf(fam, logaddexp(lsa, lsb) - LOG2)
