"""The two Gaussian constructions the studies sweep. Arguments in bits."""

import numpy as np

from .distributions import Normal

LN2 = np.log(2.0)


def _dinf_at(s, k):
    """D_inf (nats) of the pair with KL = k nats and 1 - sigma^2 = s, P = N(0, 1)."""
    mu2 = 2 * k + s + np.log1p(-s)
    return -0.5 * np.log1p(-s) + mu2 / (2 * s)


def _dinf_at_v(v, k):
    """D_inf (nats) of the pair with KL = k nats and ln sigma^2 = v < 0, P = N(0, 1)."""
    s = -np.expm1(v)
    return -0.5 * v + (2 * k + v + s) / (2 * s)


def _smallest_dinf(k):
    """D_inf of the centred pair (mu = 0) with KL = k nats: the least D_inf at that KL."""
    from scipy.optimize import brentq

    # KL(N(0, sigma) || N(0, 1)) = k  <=>  1 - e^v + v + 2k = 0 with v = ln sigma^2 < 0
    v = brentq(lambda v: -np.expm1(v) + v + 2 * k, -(2 * k + 1), 0.0, xtol=1e-15)
    return -0.5 * v, -np.expm1(v)


def fixed_kl(kl_bits, dinf_bits):
    """Target N(mu, sigma^2) against P = N(0, 1) with the given KL and D_inf (bits).

    Eliminating mu^2 = 2 KL + 1 + 2 ln sigma - sigma^2 leaves one root find in s = 1 - sigma^2
    (done on log s). As sigma -> 1, D_inf -> infinity while KL stays fixed. Scalar or array
    arguments (broadcast); returns ``(Normal(mu, sigma), Normal(0, 1))``.
    """
    from scipy.optimize import brentq  # imported on first use: slow to import

    kb, db = np.broadcast_arrays(np.asarray(kl_bits, float), np.asarray(dinf_bits, float))
    mu = np.empty(kb.shape)
    sigma = np.empty(kb.shape)
    for idx in np.ndindex(kb.shape):
        k, d = kb[idx] * LN2, db[idx] * LN2
        if not (np.isfinite(k) and np.isfinite(d)) or k <= 0:
            raise ValueError(f"fixed_kl needs finite KL > 0 and D_inf, got KL={kb[idx]} D_inf={db[idx]} bits")
        d0, s0 = _smallest_dinf(k)
        if d <= d0:
            raise ValueError(
                f"D_inf = {db[idx]:g} bits is not above {d0 / LN2:.4g} bits, the smallest D_inf a "
                f"Gaussian target against N(0, 1) can have at KL = {kb[idx]:g} bits"
            )
        if s0 < 1.0:
            f = lambda t: _dinf_at(np.exp(t), k) - d  # noqa: E731  decreasing in t = log s
            t = brentq(f, -700.0, np.log(s0), xtol=1e-15, maxiter=500)
            s = np.exp(t)
            sigma[idx] = np.sqrt(1 - s)
            mu[idx] = np.sqrt(max(2 * k + s + np.log1p(-s), 0.0))
        else:
            # sigma^2 below float64's resolution of s = 1 - sigma^2 (KL above ~26 bits): solve in
            # v = ln sigma^2 < 0 instead, through t = log(-v)
            g = lambda t: _dinf_at_v(-np.exp(t), k) - d  # noqa: E731  decreasing in t
            t_centred = np.log(2 * d0)  # the centred pair has v = -2 D_inf
            v = -np.exp(brentq(g, -700.0, t_centred, xtol=1e-15, maxiter=500))
            sigma[idx] = np.exp(0.5 * v)
            mu[idx] = np.sqrt(max(2 * k + v - np.expm1(v), 0.0))
    return Normal(mu[()], sigma[()]), Normal(0.0, 1.0)


def gaussian_channel(info_bits, n, seed=0):
    """n targets of the Gaussian channel with mutual information I bits, and P = N(0, 1).

    sigma = 2^-I and mu ~ N(0, 1 - sigma^2) i.i.d. (numpy's default generator seeded by ``seed``),
    so that the mean KL over messages is I. Returns ``(Normal(mu, sigma), Normal(0, 1))``.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer, float, np.floating)) \
            or not np.isfinite(n) or int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer number of messages, got {n!r}")
    info_bits = float(info_bits)
    if not info_bits > 0 or not np.isfinite(info_bits):
        raise ValueError(f"mutual information must be positive and finite, got {info_bits}")
    sigma = 2.0**-info_bits
    rng = np.random.default_rng(seed)
    mu = rng.normal(0.0, np.sqrt(-np.expm1(2 * np.log(sigma))), size=int(n))
    return Normal(mu, sigma), Normal(0.0, 1.0)
