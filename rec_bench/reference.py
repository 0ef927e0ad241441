"""AS* and AD* in plain Python: a readable reference, a timing baseline and a test oracle.

This module re-implements the compiled search core (rec_bench.search.tree) for the Normal/Normal
and Laplace/Laplace families with nothing but ``math`` and ``heapq`` inside the search loop: no
numpy or scipy call per step. It is written as a researcher would write it for speed (locals bound
once, tuples for nodes, a heapq priority queue), and it follows the compiled kernel operation for
operation so that it can serve as an oracle:

* the same shared randomness: the SplitMix64 finaliser on Python ints masked to 64 bits, the same
  domain, branch and stream constants, keys chained from parent to child along the path, and the
  same uniform ``((mix(key ^ STREAM) >> 11) + 0.5) * 2**-53``;
* the same region representation: each endpoint as (z, log F(z), log S(z)) in the proposal's
  standard coordinates, masses from log-CDF / log-survival differences, truncated draws in
  log-CDF space reflected into the survival side past P's median;
* the same Gumbels (root ``-log(-log u)``, children ``loc - logaddexp(loc - G, log E)``), the same
  bound test (``lb >= top bound`` stops; a child is pushed only if its bound exceeds lb) and the
  same step count (one per popped node that passes the bound test).

Special functions of P, and how exact the oracle is
--------------------------------------------------
Laplace/Laplace is closed form in ``math`` (exp, log, log1p, expm1, which call the same C library
as the compiled code), so the reference reproduces the compiled kernel bit for bit: the same steps,
the same heap index and the same sample, to the last bit (tests/test_reference.py checks this).

Normal/Normal needs the log-CDF ``log_ndtr`` and its inverse ``ndtri_exp``, which ``math`` lacks.
They are *injectable*: :func:`search` takes ``log_ndtr`` and ``ndtri_exp`` callables.

* By default (``special=None``) it uses the pure-Python versions in this module:
  :func:`log_ndtr` from ``math.erfc`` (and an asymptotic series below z = -20) and
  :func:`ndtri_exp`, Wichura's AS241 rational approximation (the one in ``statistics.NormalDist``)
  driven by ``sqrt(-y)`` directly, so it never forms exp(y), with Newton polishing beyond AS241's
  range. They agree with scipy.special to a few ulps where searches use them (ndtri_exp within
  1e-15 relative for log-probabilities down to -1000, 2e-13 at -30000), but not bit for bit: a
  Gaussian search then matches the compiled one in steps and heap index (it could differ only if
  a bound and lb fell within rounding of each other; not seen in tests), and its samples agree to
  within 1e-13 relative (measured: at most 7e-16). This is what the benchmark times: a search
  with no scipy call per step.
* With ``special=SCIPY`` it calls scipy.special.cython_special's scalar ``log_ndtr`` and
  ``ndtri_exp`` (the very C functions the compiled kernel binds), and then Gaussian searches are bit
  for bit identical too. This is the exact oracle the tests use; it is slower, because every call
  crosses into Cython.

Triangular/Uniform is not implemented here.
"""

import heapq
import math

__all__ = ["search", "encode", "log_ndtr", "ndtri_exp", "SCIPY", "AS", "AD", "NORMAL", "LAPLACE"]

# ---------------------------------------------------------------------------------------------
# Shared randomness: SplitMix64 on Python ints (rec_bench.randomness)
# ---------------------------------------------------------------------------------------------
MASK = (1 << 64) - 1
M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
DOMAIN_TREE = 0x243F6A8885A308D3
BRANCH = (0xA4093822299F31D0, 0x082EFA98EC4E6C89)
STREAM_GUMBEL = 0x452821E638D01377
STREAM_LOCATION = 0xBE5466CF34E90C6C
UNIT = 2.0**-53


def mix(z):
    """SplitMix64 finaliser on a 64-bit word held in a Python int."""
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def root_key(seed):
    return mix(mix((seed & MASK) ^ DOMAIN_TREE))


def child_key(key, bit):
    return mix(key ^ BRANCH[bit])


def uniform(key, stream):
    """A uniform in (0, 1) from (key, stream word)."""
    return ((mix(key ^ stream) >> 11) + 0.5) * UNIT


# ---------------------------------------------------------------------------------------------
# Log-space helpers (rec_bench._math)
# ---------------------------------------------------------------------------------------------
LOG2 = math.log(2.0)
LOG_HALF = -LOG2
FAR_SIDE = 0.5  # as rec_bench.pairs.kernels.FAR_SIDE
NINF = -math.inf
INF = math.inf


def log1mexp(x):
    """log(1 - exp(x)) for x <= 0; -inf at x >= 0."""
    if x >= 0.0:
        return NINF
    if x > LOG_HALF:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


def logaddexp(a, b):
    if a < b:
        a, b = b, a
    if b == NINF:
        return a
    return a + math.log1p(math.exp(b - a))


# ---------------------------------------------------------------------------------------------
# Pure-Python special functions of the standard normal
# ---------------------------------------------------------------------------------------------
SQRT1_2 = math.sqrt(0.5)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def log_ndtr(z):
    """log Phi(z), accurate in both tails (erfc above z = -20, an asymptotic series below)."""
    if z > 0.0:
        return math.log1p(-0.5 * math.erfc(z * SQRT1_2))
    if z > -20.0:
        return math.log(0.5 * math.erfc(-z * SQRT1_2))
    # Phi(z) = phi(z) / (-z) * sum_k (-1)^k (2k - 1)!! / z^(2k)  (an asymptotic series)
    w = 1.0 / (z * z)
    term, total, k = 1.0, 1.0, 1
    while True:
        term *= -(2 * k - 1) * w
        new = total + term
        if new == total:
            break
        total = new
        k += 1
    return -0.5 * z * z - HALF_LOG_2PI - math.log(-z) + math.log(total)


def _as241_tail(r):
    """AS241 (Wichura 1988) for the lower tail, given r = sqrt(-log p) > sqrt(-log 0.075)."""
    if r <= 5.0:
        r = r - 1.6
        num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                    + 2.41780725177450611770e-1) * r + 1.27045825245236838258e0) * r
                  + 3.64784832476320460504e0) * r + 5.76949722146069140550e0) * r
                + 4.63033784615654529590e0) * r + 1.42343711074968357734e0)
        den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                    + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
                  + 6.89767334985100004550e-1) * r + 1.67638483018380384940e0) * r
                + 2.05319162663775882187e0) * r + 1.0)
    else:
        r = r - 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
                  + 2.96560571828504891230e-1) * r + 1.78482653991729133580e0) * r
                + 5.46378491116411436990e0) * r + 6.65790464350110377720e0)
        den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                    + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
                  + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
                + 5.99832206555887937690e-1) * r + 1.0)
    return -num / den


def _as241_central(q):
    r = 0.180625 - q * q
    num = (((((((2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r
                + 6.7265770927008700853e4) * r + 4.5921953931549871457e4) * r
              + 1.3731693765509461125e4) * r + 1.9715909503065514427e3) * r
            + 1.3314166789178437745e2) * r + 3.3871328727963666080e0) * q
    den = (((((((5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r
                + 3.9307895800092710610e4) * r + 2.1213794301586595867e4) * r
              + 5.3941960214247511077e3) * r + 6.8718700749205790830e2) * r
            + 4.2313330701600911252e1) * r + 1.0)
    return num / den


def ndtri_exp(y):
    """The z with log Phi(z) = y (y <= 0): AS241 driven by sqrt(-y), Newton-polished past its range."""
    if y >= 0.0:
        return INF
    if y == NINF:
        return NINF
    if y > -2.5902671654458267:  # p = e^y > 0.075: central range, or the upper tail
        p = math.exp(y)
        q = p - 0.5
        if q <= 0.425:
            return _as241_central(q)
        return -_as241_tail(math.sqrt(-log1mexp(y)))
    r = math.sqrt(-y)
    z = _as241_tail(r)
    if r > 27.0:  # beyond AS241's design range (p < 1e-316): Newton on log Phi(z) = y
        for _ in range(4):
            z -= (log_ndtr(z) - y) * math.exp(log_ndtr(z) + 0.5 * z * z + HALF_LOG_2PI)
    return z


# the exact oracle: the scalar C functions scipy.special exports (what the compiled kernel binds)
try:  # pragma: no cover - scipy is a dependency, but keep the module importable without it
    import scipy.special.cython_special as _cs

    SCIPY = (_cs.log_ndtr, _cs.ndtri_exp)
except ImportError:  # pragma: no cover
    SCIPY = None

PURE = (log_ndtr, ndtri_exp)

# ---------------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------------
AS, AD = 0, 1  # split rules: at the node's sample (AS*), at P's median of the region (AD*)
NORMAL, LAPLACE = 0, 1  # family numbers, as in rec_bench.pairs.kernels
OK, CENSORED = 0, 1


def _family(fam, prm, special):
    """(logr, mode, logcdf, ppf_logcdf) closures for family ``fam`` with kernel parameters prm."""
    if fam == NORMAL:
        d, c, zstar = float(prm[0]), float(prm[1]), float(prm[2])
        lndtr, ndtri_e = PURE if special is None else special

        if c == 0.0:
            def logr(z):
                return d
        else:
            def logr(z):
                dz = z - zstar
                return d - c * dz * dz

        return logr, zstar, lndtr, ndtri_e
    if fam == LAPLACE:
        mu, b, mlogb = float(prm[1]), float(prm[2]), float(prm[3])

        def logr(z):
            return mlogb - abs(z - mu) / b + abs(z)

        def logcdf(z):
            if z <= 0.0:
                return z - LOG2
            return math.log1p(-0.5 * math.exp(-z))

        def ppf_logcdf(lp):
            if lp <= LOG_HALF:
                return lp + LOG2
            return -LOG2 - log1mexp(lp)

        return logr, mu, logcdf, ppf_logcdf
    raise ValueError(f"the reference implements Normal/Normal (0) and Laplace/Laplace (1), not family {fam}")


def search(fam, prm, seed, rule, max_steps=2**22, special=None):
    """One AS* (rule=AS) or AD* (rule=AD) search for the pair with kernel parameters ``prm``.

    ``prm`` is a row of rec_bench.pairs.resolve(q, p).params; ``special`` is None (pure Python) or
    a pair of callables (log_ndtr, ndtri_exp), e.g. :data:`SCIPY`; it matters for Normal only.
    Returns (status, steps, z, heap index) with z in P's standard coordinates and the heap index a
    Python int (root 1, children 2h and 2h + 1).
    """
    logr, mode, logcdf, ppf_logcdf = _family(fam, prm, special)
    # the survival side is the mirror image: log S(z) = log F(-z), S^-1 = -F^-1 (both families)
    _log, _log1p, _exp, _expm1 = math.log, math.log1p, math.exp, math.expm1
    push, pop = heapq.heappush, heapq.heappop

    def lae(a, b):  # logaddexp, inlined by hand below where it is hot
        if a < b:
            a, b = b, a
        if b == NINF:
            return a
        return a + _log1p(_exp(b - a))

    def far(x):  # the far-side tail, as rec_bench.pairs.kernels.far_side
        return l1me(x) if x > LOG_HALF - FAR_SIDE else 0.0

    def l1me(x):  # log1mexp
        if x >= 0.0:
            return NINF
        if x > LOG_HALF:
            return _log(-_expm1(x))
        return _log1p(-_exp(x))

    def sup_logr(a, b):
        return logr(min(max(mode, a), b))

    def point(lf, ls, from_cdf):
        if from_cdf:
            return ppf_logcdf(lf), lf, far(lf)
        return -ppf_logcdf(ls), far(ls), ls

    key0 = root_key(seed)
    g0 = -_log(-_log(uniform(key0, STREAM_GUMBEL)))
    lo, hi = NINF, INF
    # a node: (za, lfa, lsa, zb, lfb, lsb, log mass, gumbel, key, heap index)
    nodes = [(lo, NINF, 0.0, hi, 0.0, NINF, 0.0, g0, key0, 1)]
    heap = [(-(g0 + sup_logr(lo, hi)), 0)]
    lb = NINF
    best = -1
    best_z = math.nan
    steps = 0
    status = OK
    while heap:
        if lb >= -heap[0][0]:
            break
        if steps >= max_steps:
            status = CENSORED
            break
        n = pop(heap)[1]
        steps += 1
        za, lfa, lsa, zb, lfb, lsb, lm, g, key, h = nodes[n]

        # the node's sample: inversion of its LOCATION uniform in log-CDF space
        u = uniform(key, STREAM_LOCATION)
        lf = lae(lfa, _log(u) + lm)
        if lf <= LOG_HALF:
            z, lf, ls = ppf_logcdf(lf), lf, far(lf)
        else:
            ls = lae(lsb, _log1p(-u) + lm)
            z, lf = -ppf_logcdf(ls), far(ls)
        z = min(max(z, za), zb)
        value = g + logr(z)
        if value > lb or best < 0:  # as the compiled search: keep the first node if all r = 0
            lb = value
            best = n
            best_z = z

        # the children's masses need no tail function: AS* splits at the quantile F(a) + u P(B),
        # leaving fractions u and 1 - u; AD* halves the quantile interval
        if rule == AS:
            zs, lfs, lss = z, lf, ls
        else:  # P's median of the region
            m = lae(lfa, lfb) - LOG2
            if m <= LOG_HALF:
                zs, lfs, lss = ppf_logcdf(m), m, far(m)
            else:
                lss = lae(lsa, lsb) - LOG2
                zs, lfs = -ppf_logcdf(lss), far(lss)

        for bit in (0, 1):
            if bit == 0:
                ca, cfa, csa, cb, cfb, csb = za, lfa, lsa, zs, lfs, lss
            else:
                ca, cfa, csa, cb, cfb, csb = zs, lfs, lss, zb, lfb, lsb
            sup = sup_logr(ca, cb)
            if g + sup <= lb:
                continue
            if rule == AS:
                lmc = (_log(u) if bit == 0 else _log1p(-u)) + lm
            else:
                lmc = lm - LOG2
            kc = mix(key ^ BRANCH[bit])
            e = -_log(uniform(kc, STREAM_GUMBEL))
            t = lmc - g  # Gumbel(lmc) truncated below g, as rec_bench._math.truncated_gumbel
            gc = lmc - _log(_exp(t) + e) if t < 700.0 else lmc - lae(t, _log(e))
            bound = gc + sup
            if bound <= lb:
                continue
            push(heap, (-bound, len(nodes)))
            nodes.append((ca, cfa, csa, cb, cfb, csb, lmc, gc, kc, 2 * h + bit))
    if best < 0:
        return status, steps, best_z, 0
    return status, steps, best_z, nodes[best][9]


def encode(q, p, method="ad*", seed=0, max_steps=2**22, special=None):
    """Reference encode of one message: (status, steps, sample x, heap index)."""
    from .pairs import resolve  # set-up only: numpy is not called inside the search

    pair = resolve(q, p)
    if pair.shape != ():
        raise ValueError("the reference encodes one message at a time")
    rule = {"as*": AS, "ad*": AD}[method.lower()]
    status, steps, z, index = search(pair.family, pair.params[0].tolist(), int(seed), rule, max_steps,
                                     special)
    return status, steps, float(pair.loc[0]) + float(pair.scale[0]) * z, index
