"""Example log densities for ``rb.Custom``: what a user-defined target looks like.

Each is a Numba ``@njit`` function ``logpdf(x, params) -> float`` of a normalised density; the
spec construction ``custom`` names them as ``rec_bench.pairs.examples:skew_normal``.
"""

import math

from numba import njit

from ..special import log_ndtr

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
LOG2 = math.log(2.0)


@njit(cache=True)
def skew_normal(x, params):
    """Skew-normal (Azzalini 1985) with params (loc, scale, alpha): 2/scale phi(z) Phi(alpha z).

    Against N(0, 1) its density ratio is log-concave, hence unimodal, whenever scale < 1.
    """
    loc, scale, alpha = params[0], params[1], params[2]
    z = (x - loc) / scale
    return LOG2 - math.log(scale) - 0.5 * z * z - LOG_SQRT_2PI + log_ndtr(alpha * z)


@njit(cache=True)
def normal(x, params):
    """N(loc, scale^2) with params (loc, scale): a built-in target written as a custom one."""
    z = (x - params[0]) / params[1]
    return -0.5 * z * z - math.log(params[1]) - LOG_SQRT_2PI


@njit(cache=True)
def gaussian_mixture(x, params):
    """An equal mixture of N(-m, s^2) and N(m, s^2), params (m, s): bimodal for m > s."""
    m, s = params[0], params[1]
    a = -0.5 * ((x + m) / s) ** 2
    b = -0.5 * ((x - m) / s) ** 2
    top = max(a, b)
    return top + math.log(0.5 * (math.exp(a - top) + math.exp(b - top))) - math.log(s) - LOG_SQRT_2PI


@njit(cache=True)
def student_t(x, params):
    """Student's t with params (nu,): heavier tails than any Normal, so D_inf against one is infinite."""
    nu = params[0]
    return (math.lgamma(0.5 * (nu + 1)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu * math.pi)
            - 0.5 * (nu + 1) * math.log1p(x * x / nu))


@njit(cache=True)
def beta(x, params):
    """Beta(a, b) on [0, 1] with params (a, b); against U(0, 1) its ratio is unimodal for a, b >= 1."""
    a, b = params[0], params[1]
    if x <= 0.0 or x >= 1.0:
        return -math.inf
    return ((a - 1) * math.log(x) + (b - 1) * math.log1p(-x)
            + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b))
