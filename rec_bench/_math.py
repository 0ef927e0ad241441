"""Log-space helpers used inside compiled kernels.

All of them are total on their documented domain: an argument at the edge (a log-probability of
exactly 0, a mass of exactly 0) gives -inf or 0, never NaN.
"""

import math

from numba import njit

LOG2 = math.log(2.0)
LOG_HALF = -LOG2
NINF = -math.inf


@njit(cache=True, inline="always")
def log1mexp(x):
    """log(1 - exp(x)) for x <= 0, switching between expm1 and log1p (Maechler 2012).

    An argument that rounded to 0 or above gives -inf instead of NaN.
    """
    if x >= 0.0:
        return NINF
    if x > LOG_HALF:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


@njit(cache=True, inline="always")
def logaddexp(a, b):
    """log(exp(a) + exp(b)) without overflow; -inf is an identity."""
    if a < b:
        a, b = b, a
    if b == NINF:
        return a
    return a + math.log1p(math.exp(b - a))


@njit(cache=True, inline="always")
def truncated_gumbel(loc, upper, e):
    """A Gumbel(loc) variable truncated to be below ``upper``, from an Exp(1) variable ``e``.

    G = loc - log(exp(loc - upper) + e): one exp and one log. When exp(loc - upper) would overflow
    (loc more than 700 nats above the bound), the log-sum-exp form is used instead. A tiny e is
    harmless in this form, and ``upper = +inf`` gives an untruncated Gumbel(loc).
    """
    t = loc - upper
    if t < 700.0:
        return loc - math.log(math.exp(t) + e)
    return loc - logaddexp(t, math.log(e))


@njit(cache=True, inline="always")
def bit_length(n):
    """Bit length of a positive int64 (0 for 0)."""
    length = 0
    while n > 0:
        n >>= 1
        length += 1
    return length
