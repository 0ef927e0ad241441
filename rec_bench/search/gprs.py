"""Greedy Poisson rejection sampling (GPRS; G. Flamich, "Greedy Poisson Rejection Sampling",
NeurIPS 2023, arXiv:2305.15313): the compiled core.

Let r = dQ/dP, H = e^D_inf its supremum, w_P(h) = P(r >= h), w_Q(h) = Q(r >= h) and
g(h) = w_Q(h) - h w_P(h) = E_P[(r - h)_+] = integral_h^H w_P(s) ds (positive, decreasing, convex,
g(0) = 1, g(H) = 0). The stretch function is sigma(h) = integral_0^h d eta / g(eta). Take the
Poisson process (T_n, X_n), T_n = E_1 + ... + E_n, X_n ~ P i.i.d.

* Global GPRS (``gprs_global``): return the first X_n with T_n <= sigma(r(X_n)). Exactly Q-distributed;
  E[steps] = e^D_inf, with a heavy tail: P(T* > t) = g(sigma^-1(t)), and the part of the mean beyond
  t is H - sigma^-1(t) (a fifth of it lies past t = 10^4 at KL = 2, D_inf = 5.8 bits). The
  candidates are lists.pfr's (same keys, same E_i, same X_i), so the decoder is
  ``lists.candidate_at(fam, seed, index)``.
* Split-on-sample GPRS (``gprs_search``; r unimodal on the line): an interval B around the mode of r,
  T <- T + E / P(B), X ~ P restricted to B; accept if T <= sigma(r(X)), else B keeps the side of X
  that holds the mode (no point beyond X can be accepted later: r is smaller there and time only
  grows). The path of sides is a heap index (root 1, one bit per rejection); step randomness is keyed
  like A* tree nodes, and ``gprs_decode_walk`` regenerates each step from P, the seed and the path.
  The splitting arithmetic is AS*'s (``tree.child_log_mass``), so the walk is bit for bit the
  encoder's. E[steps] = O(KL) whatever D_inf.

Levels are carried as gaps delta = D_inf - log h >= 0 (nats), so levels near the top keep their
relative precision; all masses and times are in log space (P(B) reaches e^-1500 at D_inf = 64 bits
at the far end of a search, and sigma overflows a double long before that).

The accept test T <= sigma(h)
-----------------------------
The test is decided in the cheapest way that is exact:

1. sigma(h) >= h (as g <= 1): accept when T <= h. sigma(h) <= h / g(h) (g decreasing): reject
   beyond. Then a convex bracket: on nodes 0 = eta_0 < ... < eta_n = h, g lies below its chords and
   above its tangents (slope -w_P), which bounds each interval's integral from both sides in closed
   form; the widest interval is split at the middle of log(gap), up to BRACKET_NODES nodes. These
   bounds are exact, so a decision taken here carries no approximation error; at KL = 2 bits they
   decide all but a few steps in a thousand.
2. Otherwise log sigma(h) is integrated: sigma = integral over v = log delta' from log delta of
   exp(D_inf - delta' + v - log g(delta')), an integrand that decreases in v (shown in docs/gprs.md),
   from panels graded by its local decay rate at the lower limit, with adaptive Gauss-Kronrod 7-15 to
   a relative error estimate RTOL = 1e-12; the part below eta = e^-50 is e^-50 to relative 1e-21.
   Families with a closed form (triangular: sigma(h) = h / (1 - h / H)) use it.

Error bound. A stretch function sigma~ used in place of sigma changes the output law by at most
E_P|r(X) - sigma^-1(sigma~(r(X)))| in total variation (a coupling of the two searches on one Poisson
process, and the identity integral g(h(t)) dt = d eta along the graph; docs/gprs.md), which for a
relative error eps(h) of sigma~ is at most E_Q[eps(r(X))] / (1 - eps). With the bounds of step 1
exact and step 2 at relative error below 1e-12, plus rounding of log r (1e-14 absolute) and of the
log-space masses (about 1e-12 relative in far tails), the total variation is below 1e-11.

The per-family functions (level-set masses, the excess, closed forms) are dispatched over the family
registry by rec_bench.pairs.kernels; families without them (user-defined targets) are refused
before a search starts.
"""

import math

import numpy as np
from numba import njit

from .. import randomness as rnd
from .._math import LOG2, NINF, bit_length, log1mexp, logaddexp
from .._quadrature import XGK, kronrod_sum
from ..pairs.kernels import (gprs_kink, gprs_log_excess, gprs_log_masses, gprs_log_stretch, logr,
                             median_between, mode, sample_between, support)
from . import lists, tree
from .workspace import log2_heap_index as ws_log2_heap_index, reserve

from .._signals import POLL, interrupted
from ..status import CENSORED, EMPTY_REGION, INTERRUPTED, OK

RTOL = 1e-12  # relative error target of the integrated log sigma
TAIL = 50.0  # levels below e^-TAIL: sigma(h) = h to relative e^-TAIL
MAX_PANELS = 400


# ---- family functions, dispatched over the registry (rec_bench.pairs.kernels) -------------------

_excess = gprs_log_excess  # log g at gap delta
_masses = gprs_log_masses  # (log P(L), log Q(L)) of the level set at gap delta
_closed_stretch = gprs_log_stretch  # log sigma in closed form, or NaN
_kink = gprs_kink
_mode = mode


# ---- the stretch function ----------------------------------------------------------------------


@njit(cache=True, inline="always")
def _logj(fam, prm, v):
    """log of the sigma integrand in v = log(gap): D_inf - delta' + v - log g(delta')."""
    d = math.exp(v)
    return prm[0] - d + v - _excess(fam, prm, d)


@njit(cache=True)
def _gk15_j(fam, prm, lo, hi, ref):
    c = 0.5 * (lo + hi)
    h = 0.5 * (hi - lo)
    fv = np.empty(15)
    fv[14] = math.exp(_logj(fam, prm, c) - ref)
    for j in range(7):
        x = h * XGK[j]
        fv[2 * j] = math.exp(_logj(fam, prm, c - x) - ref)
        fv[2 * j + 1] = math.exp(_logj(fam, prm, c + x) - ref)
    return kronrod_sum(fv, h)


@njit(cache=True)
def log_stretch(fam, prm, delta):
    """log sigma(h) at h = exp(D_inf - delta): closed form, or integrated to relative RTOL."""
    if not delta > 0.0:
        return math.inf
    cs = _closed_stretch(fam, prm, delta)
    if cs == cs:
        return cs
    g = _excess(fam, prm, delta)
    lp, _ = _masses(fam, prm, delta)
    return _log_stretch_quad(fam, prm, delta, g, lp)


@njit(cache=True)
def _log_stretch_quad(fam, prm, delta, g, w):
    """log sigma at gap delta by adaptive Gauss-Kronrod in v = log(gap); g, w: log g, log w_P there."""
    dinf = prm[0]
    y = dinf - delta
    if delta >= dinf + TAIL:
        return y
    v0 = math.log(delta)
    vend = math.log(dinf + TAIL)
    ref = y + v0 - g  # log of the integrand at v0, its largest value
    # decay rate of log J at v0: delta (1 + h w_P / g) - 1 >= 0
    rate = delta * (1.0 + math.exp(min(y + w - g, 700.0))) - 1.0
    width = min(1.0, 2.0 / max(rate, 1e-300))
    kink = _kink(fam, prm)
    vk = math.log(kink) if kink > delta and kink < dinf + TAIL else math.inf
    pa = np.empty(MAX_PANELS)
    pb = np.empty(MAX_PANELS)
    pk = np.empty(MAX_PANELS)
    pe = np.empty(MAX_PANELS)
    n = 0
    lo = v0
    total = 0.0
    while lo < vend and n < MAX_PANELS // 2:
        hi = min(lo + width, vend)
        if lo < vk < hi:
            hi = vk
        pa[n] = lo
        pb[n] = hi
        pk[n], pe[n] = _gk15_j(fam, prm, lo, hi, ref)
        total += pk[n]
        n += 1
        # the integrand decreases: what is left is at most J(hi) (vend - hi)
        if hi < vend and math.exp(_logj(fam, prm, hi) - ref) * (vend - hi) < 1e-18 * total:
            break
        lo = hi
        width *= 2.0
    while True:
        total = 0.0
        err = 0.0
        worst = 0
        for j in range(n):
            total += pk[j]
            err += pe[j]
            if pe[j] > pe[worst]:
                worst = j
        if err <= RTOL * total or n >= MAX_PANELS:
            break
        lo, hi = pa[worst], pb[worst]
        mid = 0.5 * (lo + hi)
        if not (lo < mid < hi):
            break
        pb[worst] = mid
        pk[worst], pe[worst] = _gk15_j(fam, prm, lo, mid, ref)
        pa[n] = mid
        pb[n] = hi
        pk[n], pe[n] = _gk15_j(fam, prm, mid, hi, ref)
        n += 1
    # levels below e^-TAIL contribute e^-TAIL (1 + O(e^-TAIL))
    return ref + math.log(total + math.exp(-TAIL - ref))


@njit(cache=True, inline="always")
def _log_f1(a, th):
    """-log(1 - a th) / a, -> th as a -> 0."""
    x = a * th
    if x < 1e-8:
        return th * (1.0 + 0.5 * x)
    return -math.log1p(-x) / a


BRACKET_NODES = 12  # nodes of the convex bracket (0 and h included) before integrating


@njit(cache=True, inline="always")
def _interval_bounds(ld, gi, gj, wi, wj):
    """log of lower and upper bounds on integral d eta / g over one interval, from convexity of g.

    ld = log of the interval's length, gi, gj = log g and wi, wj = log w_P at its left and right ends
    (g decreasing, w_P = -g' decreasing). Lower: g lies below its chord. Upper: g lies above its
    tangents at both ends, switched where they cross.
    """
    d = gi - gj
    if d > 1e-12:
        lower = ld - gi + math.log(d) - log1mexp(-d)
    else:
        lower = ld - gi + 0.5 * d
    rg = math.exp(-d)
    la = wi + ld - gi
    al = math.exp(min(la, 700.0))
    be = math.exp(min(wj + ld - gi, 700.0))  # used only to place the switch point th
    if la > 690.0:  # the left tangent reaches 0 at once: use the right one alone
        th = 0.0
    elif al > be:
        th = min(max((1.0 - rg - be) / (al - be), 0.0), 1.0)
    else:
        th = 0.5
    if al * th >= 1.0:
        return lower, math.inf
    # second term log(1 + be s) / be with s = (1 - th) / rg, in logs (rg underflows when g falls by
    # more than e^-745 across the interval)
    ls = math.log1p(-th) + d if th < 1.0 else NINF
    lb = wj + ld - gi
    if ls == NINF:
        second = NINF
    elif lb == NINF:
        second = ls
    else:
        x = lb + ls
        if x > 30.0:
            second = math.log(x + math.log1p(math.exp(-x))) - lb
        elif x < -30.0:
            second = ls - 0.5 * math.exp(x)
        else:
            second = math.log(math.log1p(math.exp(x))) - lb
    upper = ld - gi + logaddexp(math.log(_log_f1(al, th)) if th > 0.0 else NINF, second)
    return lower, max(upper, lower)


@njit(cache=True)
def decide(fam, prm, log_t, lr):
    """Is T <= sigma(r(X))? log_t = log T, lr = log r(X). Returns (accept, log upper bound on sigma).

    The upper bound (+inf when none was formed) lets a caller reject later candidates with a lower
    ratio without evaluating anything (``gprs_global``).
    """
    dinf = prm[0]
    delta = dinf - lr
    if not delta > 0.0:
        return True, math.inf
    if lr == NINF:
        return False, NINF
    if log_t <= lr:  # sigma(h) >= h as g <= 1
        return True, math.inf
    cs = _closed_stretch(fam, prm, delta)
    if cs == cs:
        return log_t <= cs, cs
    g = _excess(fam, prm, delta)
    upper = lr - g  # sigma(h) <= h / g(h) as g decreases
    if log_t > upper:
        return False, upper
    w, _ = _masses(fam, prm, delta)
    # convex bracket on nodes eta_0 = 0 < ... < eta_n = h (gaps dl decreasing), refined where widest
    dl = np.empty(BRACKET_NODES)
    gl = np.empty(BRACKET_NODES)
    wl = np.empty(BRACKET_NODES)
    lo_i = np.empty(BRACKET_NODES)
    up_i = np.empty(BRACKET_NODES)
    dl[0] = math.inf
    gl[0] = 0.0
    wl[0], _ = _masses(fam, prm, math.inf)
    dl[1] = delta
    gl[1] = g
    wl[1] = w
    n = 2
    while True:
        lo_t = NINF
        up_t = NINF
        widest = 0
        wmax = NINF
        for i in range(n - 1):
            if i == 0:
                ld = dinf - dl[1]
            else:
                ld = dinf - dl[i + 1] + log1mexp(dl[i + 1] - dl[i])
            lo_i[i], up_i[i] = _interval_bounds(ld, gl[i], gl[i + 1], wl[i], wl[i + 1])
            lo_t = logaddexp(lo_t, lo_i[i])
            up_t = logaddexp(up_t, up_i[i])
            gap = up_i[i] + log1mexp(lo_i[i] - up_i[i]) if up_i[i] > lo_i[i] else NINF
            if gap > wmax:
                wmax = gap
                widest = i
        if up_t < upper:
            upper = up_t
        if log_t <= lo_t:
            return True, upper
        if log_t > upper:
            return False, upper
        if n >= BRACKET_NODES:
            break
        # split the widest interval in the middle of log(gap)
        if widest == 0:
            dn = 2.0 * dl[1] + 1.0
        else:
            dn = math.sqrt(dl[widest] * dl[widest + 1])
        if not (dl[widest + 1] < dn < dl[widest]):
            break
        for i in range(n, widest + 1, -1):
            dl[i] = dl[i - 1]
            gl[i] = gl[i - 1]
            wl[i] = wl[i - 1]
        dl[widest + 1] = dn
        gl[widest + 1] = _excess(fam, prm, dn)
        wl[widest + 1], _ = _masses(fam, prm, dn)
        n += 1
    ls = _log_stretch_quad(fam, prm, delta, g, w)
    return log_t <= ls, min(ls + 2.0 * RTOL, upper)


# ---- searches ------------------------------------------------------------------------------------


@njit(cache=True)
def gprs_global(fam, prm, seed, max_steps):
    """Global GPRS. Returns (status, steps, samples_drawn, index, z); decode with lists.candidate_at."""
    base = rnd.list_base(seed)
    t = 0.0
    y_rej = NINF  # every candidate with log r <= y_rej has sigma below u_rej < log T: reject
    u_rej = math.inf
    for i in range(1, max_steps + 1):
        if (i & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, i - 1, i - 1, 0, math.nan
        k = rnd.candidate_key(base, i)
        t += -math.log(rnd.uniform(k, rnd.GUMBEL))
        z = lists.candidate(fam, k)
        lr = logr(fam, prm, z)
        log_t = math.log(t)
        if lr <= y_rej and log_t > u_rej:
            continue
        acc, upper = decide(fam, prm, log_t, lr)
        if acc:
            return OK, i, i, i, z
        if upper < log_t and lr > y_rej:
            y_rej = lr
            u_rej = upper
    return CENSORED, max_steps, max_steps, 0, math.nan


@njit(cache=True)
def new_path(capacity):
    """A workspace for the path bits of ``gprs_search`` (grown by doubling when a path is longer)."""
    return np.empty(max(capacity, 1), np.uint8)


@njit(cache=True, inline="always")
def _push(path, depth, bit):
    """Append ``bit`` to the path (its first ``depth`` entries), doubling the workspace when full."""
    if depth >= path.shape[0]:
        bigger = np.empty(2 * path.shape[0], np.uint8)
        bigger[: path.shape[0]] = path
        path = bigger
    path[depth] = bit
    return path, depth + 1


@njit(cache=True, inline="always")
def _child_log_mass(lm, u, bit):
    # AS*'s rule: the sample sits at quantile F(a) + u P(B), so the parts hold u and 1 - u of it
    return tree.child_log_mass(tree.SPLIT_AT_SAMPLE, lm, u, bit)


@njit(cache=True)
def gprs_search(fam, prm, seed, max_steps, path):
    """Split-on-sample GPRS.

    Returns (status, steps, samples_drawn, z, path, depth): the accepted sample z (NaN when
    CENSORED) and its path, bits path[:depth] root first (bit 1: B kept the part right of the
    rejected sample). ``path`` is the workspace from ``new_path``, returned grown if it was short.
    The heap index is 1 followed by the path bits.
    """
    za, zb = support(fam)
    lfa, lsa, lfb, lsb = NINF, 0.0, 0.0, NINF
    lm = 0.0
    k = rnd.root_key(seed)
    m = _mode(fam, prm)
    log_t = NINF
    depth = 0
    for step in range(1, max_steps + 1):
        if (step & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, step - 1, step - 1, math.nan, path, depth
        log_t = logaddexp(log_t, math.log(-math.log(rnd.uniform(k, rnd.GUMBEL))) - lm)
        u = rnd.uniform(k, rnd.LOCATION)
        z, lf, ls = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, u)
        acc, _ = decide(fam, prm, log_t, logr(fam, prm, z))
        if acc:
            return OK, step, step, z, path, depth
        bit = 1 if z < m else 0
        path, depth = _push(path, depth, bit)
        lm = _child_log_mass(lm, u, bit)
        if bit == 0:
            zb, lfb, lsb = z, lf, ls
        else:
            za, lfa, lsa = z, lf, ls
        k = rnd.child_key(k, bit)
    return CENSORED, max_steps, max_steps, math.nan, path, depth


@njit(cache=True)
def gprs_decode_walk(fam, seed, bits):
    """The sample at the end of path ``bits`` (root first): (status, z), from P and the seed alone.

    Split-on-sample GPRS shrinks its interval exactly as AS* splits a region (at the step's own
    sample, with the same keys, uniforms and child masses), so its path is walked by AS*'s decoder:
    z is the encoder's bit for bit; status EMPTY_REGION for a path no search can produce.
    """
    return tree.decode_walk(fam, seed, np.int64(tree.SPLIT_AT_SAMPLE), bits)


@njit(cache=True)
def log2_heap_index(path, depth):
    """log2 of the heap index 1.b1...bd (binary) * 2^d, from the path's first 53 bits."""
    frac = 0.0
    for i in range(min(depth, 53) - 1, -1, -1):
        frac = (frac + path[i]) * 0.5
    return depth + math.log2(1.0 + frac)


# ---- dyadic GPRS --------------------------------------------------------------------------------


@njit(cache=True)
def gprs_dyadic(fam, prm, seed, max_steps, path):
    """Dyadic GPRS: B is a dyadic quantile interval of P (AD*'s tree), halved at P's median of B.

    Whenever T > sigma(r(m)), m the median of B, the half of B away from the mode of r holds no point
    that can still be accepted (r <= r(m) there and time only grows), so B becomes the other half;
    otherwise B stays and the next arrival in B is drawn. By the strong Markov property of the Poisson
    process, the arrivals in a child after the time of descent are fresh: arrival j (1-based) of the
    node with key K uses key rnd.candidate_key(K, j). The accepted point is the first arrival under
    the graph of sigma o r of the whole process: exact. Code: the node's path and j.

    Returns (status, steps, samples_drawn, z, path, depth, j): steps counts evaluations of r (arrivals
    and medians tested), samples_drawn the arrivals. When the mode of r is the median of a node, no
    half of it is ever dead and the search stays there (global GPRS within that node).
    """
    za, zb = support(fam)
    lfa, lsa, lfb, lsb = NINF, 0.0, 0.0, NINF
    lm = 0.0
    key = rnd.root_key(seed)
    mode = _mode(fam, prm)
    log_t = NINF
    depth = 0
    j = 0
    steps = 0
    drawn = 0
    polled = 0
    while steps < max_steps:
        if steps - polled >= POLL:
            polled = steps
            if interrupted():
                return INTERRUPTED, steps, drawn, math.nan, path, depth, j
        # descend while the half away from the mode is dead
        while log_t > NINF and steps < max_steps:
            zm, lfm, lsm = median_between(fam, lfa, lsa, lfb, lsb)
            if zm == mode or not (za < zm < zb):
                break
            steps += 1
            acc, _ = decide(fam, prm, log_t, logr(fam, prm, zm))
            if acc:
                break
            bit = 0 if mode < zm else 1
            path, depth = _push(path, depth, bit)
            if bit == 0:
                zb, lfb, lsb = zm, lfm, lsm
            else:
                za, lfa, lsa = zm, lfm, lsm
            lm -= LOG2
            key = rnd.child_key(key, bit)
            j = 0
        if steps >= max_steps:
            break
        j += 1
        steps += 1
        drawn += 1
        ck = rnd.candidate_key(key, j)
        log_t = logaddexp(log_t, math.log(-math.log(rnd.uniform(ck, rnd.GUMBEL))) - lm)
        z, _, _ = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, rnd.uniform(ck, rnd.LOCATION))
        acc, _ = decide(fam, prm, log_t, logr(fam, prm, z))
        if acc:
            return OK, steps, drawn, z, path, depth, j
    return CENSORED, steps, drawn, math.nan, path, depth, j


@njit(cache=True)
def gprs_dyadic_decode(fam, seed, bits, j):
    """The sample of ``gprs_dyadic``'s code (path ``bits``, arrival ``j``): (status, z), from P and the
    seed alone, with AD*'s median arithmetic."""
    za, zb = support(fam)
    lfa, lsa, lfb, lsb = NINF, 0.0, 0.0, NINF
    lm = 0.0
    key = rnd.root_key(seed)
    for i in range(bits.shape[0]):
        zm, lfm, lsm = median_between(fam, lfa, lsa, lfb, lsb)
        if bits[i] == 0:
            zb, lfb, lsb = zm, lfm, lsm
        else:
            za, lfa, lsa = zm, lfm, lsm
        lm -= LOG2
        key = rnd.child_key(key, bits[i])
        if not za < zb:
            return EMPTY_REGION, math.nan
    if j < 1:
        return EMPTY_REGION, math.nan
    ck = rnd.candidate_key(key, j)
    z, _, _ = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, rnd.uniform(ck, rnd.LOCATION))
    return OK, z


# ---- the registry's signatures (rec_bench.methods; see rec_bench.search.tree) ------------------

@njit(inline="always")
def gprs_runner(fam, prm, seed, max_steps, option, ws):
    """Split-on-sample GPRS. Its path of left/right decisions is laid into the tree workspace as a
    chain of nodes (node i + 1 the child of node i along bit i), so that encoders read its heap
    index with tree.path_of like any tree method's."""
    status, steps, drawn, z, path, depth = gprs_search(fam, prm, seed, max_steps, np.empty(64, np.uint8))
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, 0, ws
    ws = reserve(ws, depth + 1)
    link, dep = ws[1], ws[2]
    link[0] = -1
    dep[0] = 0
    for i in range(depth):
        link[i + 1] = 2 * i + path[i]
        dep[i + 1] = i + 1
    return status, steps, drawn, z, depth + 1, ws_log2_heap_index(ws, depth), np.int64(depth), ws


@njit(inline="always")
def gprs_dyadic_runner(fam, prm, seed, max_steps, option, ws):
    """Dyadic GPRS. Its code is a node path and an arrival number j >= 1; both go into one heap
    index, 1 followed by the Elias-gamma bits of j and then the path bits, laid into the tree
    workspace as a chain of nodes as for split GPRS. ``gprs_dyadic_decoder`` parses them back."""
    status, steps, drawn, z, path, depth, j = gprs_dyadic(fam, prm, seed, max_steps, np.empty(64, np.uint8))
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, 0, ws
    nj = bit_length(j)
    head = 2 * nj - 1  # gamma(j): nj - 1 zeros, then j's nj bits, most significant first
    n = head + depth
    ws = reserve(ws, n + 1)
    link, dep = ws[1], ws[2]
    link[0] = -1
    dep[0] = 0
    for i in range(n):
        if i < nj - 1:
            bit = 0
        elif i < head:
            bit = (j >> (head - 1 - i)) & 1
        else:
            bit = path[i - head]
        link[i + 1] = 2 * i + bit
        dep[i + 1] = i + 1
    return status, steps, drawn, z, n + 1, ws_log2_heap_index(ws, n), np.int64(n), ws


@njit(inline="always")
def gprs_decoder(fam, seed, path, index):
    """Walk split-on-sample GPRS's path, regenerating each step's sample to split."""
    return gprs_decode_walk(fam, seed, path)


@njit(inline="always")
def gprs_dyadic_decoder(fam, seed, path, index):
    """Parse gamma(j) from the front of the path bits, then walk the rest of the path with AD*'s
    medians and draw arrival j of that node. A malformed gamma prefix (no 1 bit, too few bits for j,
    or j past 2^61) is EMPTY_REGION: no search produces it."""
    n = path.shape[0]
    zeros = 0
    while zeros < n and path[zeros] == 0:
        zeros += 1
    if zeros > 60 or 2 * zeros + 1 > n:
        return EMPTY_REGION, math.nan
    j = np.int64(0)
    for i in range(zeros, 2 * zeros + 1):
        j = (j << 1) | np.int64(path[i])
    return gprs_dyadic_decode(fam, seed, path[2 * zeros + 1:], j)
