"""Closed forms of the built-in pairs in standard coordinates, independent of the kernels: the tests'
oracle for level sets, densities and residual masses (tests/test_gprs.py, tests/test_grc.py)."""

import math

LN2 = math.log(2.0)


def deficit(fam, prm, z):
    """D_inf - log r(z) from its closed form, independent of the kernels (formed without D_inf, so
    that it keeps its relative precision near the top of r)."""
    if fam == 0:
        return prm[1] * (z - prm[2]) ** 2
    if fam == 1:
        mu, b = prm[1], prm[2]
        return abs(z - mu) / b - abs(z) + abs(mu)
    a, c, b = prm[1], prm[2], prm[3]
    if z <= a or z >= b:
        return math.inf
    return -math.log((z - a) / (c - a) if z < c else (b - z) / (b - c) if b > c else 1.0)


def logpdfs(fam, prm):
    """log-densities of P and Q in standard coordinates (closed forms)."""
    if fam == 0:
        c = prm[1]
        s = math.sqrt(1 / (1 + 2 * c))
        mu = prm[2] * 2 * c / (1 + 2 * c)
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        return (lambda z: -0.5 * z * z - half_log_2pi,
                lambda z: -0.5 * ((z - mu) / s) ** 2 - math.log(s) - half_log_2pi)
    if fam == 1:
        mu, b = prm[1], prm[2]
        return lambda z: -abs(z) - LN2, lambda z: -abs(z - mu) / b - math.log(2 * b)
    width = prm[3] - prm[1]
    return (lambda z: 0.0 if 0 <= z <= 1 else -math.inf,
            lambda z: LN2 - math.log(width) - deficit(fam, prm, z))
