"""Adaptive Gauss-Kronrod quadrature of the nonnegative integrals GPRS needs (compiled).

Greedy Poisson rejection sampling needs E_P[(r(X) - h)_+] = w_Q(h) - h w_P(h) at levels h near the
top of r, where the two terms agree to many digits. Written as an integral over the level set,

    integral_{u0}^{u1} expm1(e(u)) exp(psi(u)) du,   e(u) = e0 + (u1 - u) (k + a (u - u0)) >= 0,
                                                     psi(u) = lam (u - uref) + kap (u - uref)^2,

the integrand is nonnegative and no digit cancels: e is the level's excess log-ratio (quadratic for
a Gaussian pair, linear on each piece of a Laplace pair), psi the log-density of P relative to its
largest value on the interval, reached at uref. ``log_expm1_exp_integral`` returns the log of the
integral. Panels start graded geometrically away from uref (where the integrand's scale is
1 / (1 + |lam|)) and the panel with the largest error estimate |K15 - G7| is bisected until the
summed estimate is below ``rtol`` times the integral; a panel's estimate is QUADPACK's (Piessens et
al. 1983, routine QK15): resasc * min(1, (200 |K15 - G7| / resasc)^1.5), resasc the integral of
|f - mean|, which for smooth integrands still overstates the K15 error (scipy.integrate.quad uses
the same estimate).
"""

import math

import numpy as np
from numba import njit

# Gauss-Kronrod 7-15: abscissae of the 15-point Kronrod rule on [-1, 1] (non-negative half, the
# odd-indexed ones are the 7-point Gauss nodes), its weights, and the Gauss weights.
XGK = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.000000000000000000000000000000000,
])
WGK = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
])
WG = np.array([
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
])
# 8-point Gauss-Legendre on [-1, 1] (non-negative half)
XGL8 = np.array([0.1834346424956498049394761, 0.5255324099163289858177390,
                 0.7966664774136267395915539, 0.9602898564975362316835609])
WGL8 = np.array([0.3626837833783619829651504, 0.3137066458778872873379622,
                 0.2223810344533744705443560, 0.1012285362903762591525314])

MAX_PANELS = 400


@njit(cache=True, inline="always")
def _f(u, e0, k, a, u0, u1, lam, kap, uref):
    d = u - uref
    return math.expm1(e0 + (u1 - u) * (k + a * (u - u0))) * math.exp(d * (lam + kap * d))


@njit(cache=True)
def _gk15(lo, hi, e0, k, a, u0, u1, lam, kap, uref):
    """(Kronrod 15-point value, its error estimate) on [lo, hi]."""
    c = 0.5 * (lo + hi)
    h = 0.5 * (hi - lo)
    fv = np.empty(15)
    fv[14] = _f(c, e0, k, a, u0, u1, lam, kap, uref)
    for j in range(7):
        x = h * XGK[j]
        fv[2 * j] = _f(max(c - x, lo), e0, k, a, u0, u1, lam, kap, uref)
        fv[2 * j + 1] = _f(min(c + x, hi), e0, k, a, u0, u1, lam, kap, uref)
    return kronrod_sum(fv, h)


@njit(cache=True, inline="always")
def kronrod_sum(fv, h):
    """(K15 value, QUADPACK error estimate) from the integrand at the 15 nodes (pairs -x, +x for the
    abscissae XGK[0..6], then the centre) of a panel of half-width h."""
    resk = fv[14] * WGK[7]
    resg = fv[14] * WG[3]
    for j in range(7):
        s = fv[2 * j] + fv[2 * j + 1]
        resk += WGK[j] * s
        if j % 2 == 1:
            resg += WG[j // 2] * s
    reskh = 0.5 * resk
    resasc = WGK[7] * abs(fv[14] - reskh)
    for j in range(7):
        resasc += WGK[j] * (abs(fv[2 * j] - reskh) + abs(fv[2 * j + 1] - reskh))
    return resk * h, qk_error(abs(resk - resg) * h, resasc * h)


@njit(cache=True, inline="always")
def qk_error(err, resasc):
    """QUADPACK's error estimate of a Kronrod value from |K - G| and the integral of |f - mean|."""
    if resasc != 0.0 and err != 0.0:
        return resasc * min(1.0, (200.0 * err / resasc) ** 1.5)
    return err


@njit(cache=True)
def log_expm1_exp_integral(e0, k, a, u0, u1, lam, kap, uref, rtol):
    """log of integral_{u0}^{u1} expm1(e(u)) exp(psi(u)) du (see the module docstring).

    Requires e >= 0 on [u0, u1] and psi <= 0 there (uref is where P's density is largest).
    """
    if not u1 > u0:
        return -math.inf
    pa = np.empty(MAX_PANELS)
    pb = np.empty(MAX_PANELS)
    pk = np.empty(MAX_PANELS)
    pe = np.empty(MAX_PANELS)
    # graded breakpoints: uref, uref +- scale * 4^j, clipped to [u0, u1]
    scale = 1.0 / (1.0 + abs(lam))
    brk = np.empty(80)
    nb = 0
    brk[nb] = u0
    nb += 1
    left = np.empty(36)
    nl = 0
    step = scale
    while nl < 36 and uref - step > u0:
        left[nl] = uref - step
        nl += 1
        step *= 4.0
    for j in range(nl - 1, -1, -1):
        brk[nb] = left[j]
        nb += 1
    if uref > u0 and uref < u1:
        brk[nb] = uref
        nb += 1
    step = scale
    while nb < 78 and uref + step < u1:
        brk[nb] = uref + step
        nb += 1
        step *= 4.0
    brk[nb] = u1
    nb += 1
    n = 0
    for j in range(nb - 1):
        if brk[j + 1] > brk[j]:
            pa[n] = brk[j]
            pb[n] = brk[j + 1]
            pk[n], pe[n] = _gk15(brk[j], brk[j + 1], e0, k, a, u0, u1, lam, kap, uref)
            n += 1
    while True:
        total = 0.0
        err = 0.0
        worst = 0
        for j in range(n):
            total += pk[j]
            err += pe[j]
            if pe[j] > pe[worst]:
                worst = j
        if err <= rtol * total or n >= MAX_PANELS or total == 0.0:
            break
        lo, hi = pa[worst], pb[worst]
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        pb[worst] = mid
        pk[worst], pe[worst] = _gk15(lo, mid, e0, k, a, u0, u1, lam, kap, uref)
        pa[n] = mid
        pb[n] = hi
        pk[n], pe[n] = _gk15(mid, hi, e0, k, a, u0, u1, lam, kap, uref)
        n += 1
    if total <= 0.0:
        return -math.inf
    return math.log(total)
