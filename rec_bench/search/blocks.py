"""Block messages: b coordinates of a factorised target coded as one message of a candidate list.

A block is b consecutive coordinates of a vector, Q = Q_1 x ... x Q_b against P = P_1 x ... x P_b
(one pair family for the whole vector; each coordinate its own parameters). The list methods need
only the density ratio, so they work in any dimension: candidate i of a block is a vector whose
coordinate j is drawn from P_j with randomness keyed by (block seed, i, j), and
log r(X_i) = sum_j log r_j(X_ij), with D_inf of the block the sum of the coordinates' D_inf.

* Randomness. A block coded with seed s draws candidate keys ``k_i = mix(base + i GAMMA)`` from
  ``base = mix(s ^ DOMAIN_BLOCK)`` (rec_bench.randomness: the construction of the scalar lists,
  under another domain constant), candidate i's Gumbel or acceptance uniform from ``k_i`` as a
  scalar list does, and its coordinate j from the 64-bit word ``w_ij = mix(k_i ^ SALT_j)``,
  ``SALT_j = mix(DOMAIN_SALT + (j + 1) GAMMA)``. One word gives one draw of a standard proposal:
  Normal by the ziggurat below, Laplace as +-(-log u), Uniform as u (u from the word's top 53 bits).
  The decoder regenerates the chosen candidate from its index in O(b), drawing no other.
* Normal draws: Marsaglia and Tsang's ziggurat (2000) with 256 layers, in Doornik's form (2005):
  the word's low 8 bits pick a layer, bit 8 the sign, its top 53 bits the uniform; about 99% of
  draws are one multiplication. The rare wedge and tail draws take further words
  ``mix(w + t GAMMA)`` (t = 1, 2, ...), so a draw is still a pure function of w. The draw is
  exact up to float64 rounding (the layers are computed here so that they close to 1e-14).
* The encoder's own randomness, which the decoder never needs: candidate i's Exp(1) variable
  (PFR's and ORC's arrival times S_i = E_1 + ... + E_i, G_i = -log S_i; MRC's Gumbel -log E_i;
  RS's log acceptance uniform -E_i) from the word ``mix(k_i ^ salt)`` by the exponential
  ziggurat of the same paper, one multiplication for about 99% of draws, no logarithm.
* PFR (global A* over the block's candidates): stop before candidate i once G_i + D_inf <= LB.
  Exact. ORC: the same ordered Gumbel process truncated to the first 2^K candidates (Theis and
  Yosri 2022), with the same early stop, which cannot change the selected index (no later
  candidate can beat LB); its steps are the candidates it evaluated, at most 2^K. MRC: 2^K
  candidates with i.i.d. Gumbel(0) noise (Havasi, Peharz and Hernandez-Lobato 2019). RS: accept
  candidate i with probability exp(log r(X_i) - D_inf). Exact.
* Evaluation stops inside a candidate as soon as its partial sum of log ratios plus the remaining
  coordinates' D_inf cannot beat what it must beat (LB for PFR, ORC, MRC; the acceptance
  threshold for RS), so most candidates cost one or two coordinate draws. The Gumbel of a
  candidate that fails is never formed exactly: log S_i of the Poisson arrival times is refreshed
  every 64 candidates and, S_i increasing, bounds the threshold from below; MRC's Gumbel -log E_i
  is bounded from above without a logarithm (``_neg_log_upper``) and formed for survivors only.

Steps are candidates (the budget counts candidates); ``drawn`` counts coordinate draws.
"""

import math

import numpy as np
from numba import njit, prange

from .. import randomness as rnd
from .._math import NINF
from .._signals import POLL, interrupted
from ..pairs.kernels import logr
from ..pairs.registry import FAMILIES
from ..pairs.distributions import Laplace, Normal
from ..status import CENSORED, INTERRUPTED, OK

PFR, RS, ORC, MRC = 0, 1, 2, 3
KERNELS = {"pfr": PFR, "rs": RS, "orc": ORC, "mrc": MRC}

NORMAL_P, LAPLACE_P, UNIFORM_P = 0, 1, 2
# the kind of each family's proposal (standard coordinates: N(0, 1), Laplace(0, 1), U(0, 1))
KIND = np.array([NORMAL_P if f.PROPOSAL is Normal else LAPLACE_P if f.PROPOSAL is Laplace else UNIFORM_P
                 for f in FAMILIES], np.int64)

_DOMAIN_BLOCK = np.uint64(0xA458FEA3F4933D7E)
_DOMAIN_SALT = np.uint64(0x0D95748F728EB658)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_WEDGE = np.uint64(0x718BCD5882154AEE)
_TAIL1 = np.uint64(0x7B54A41DC25A59B5)
_TAIL2 = np.uint64(0x9C30D5392AF26013)
_ARRIVAL = np.uint64(0x452821E638D01377)  # salt of a candidate's Exp(1): its arrival time or Gumbel
_ACCEPT = np.uint64(0xC0AC29B7C97C50DD)  # salt of RS's Exp(1): minus the log acceptance uniform
_UNIT = 2.0**-53
_S11 = np.uint64(11)
_S8 = np.uint64(8)
_ONE = np.uint64(1)
_LAYER = np.uint64(255)
REFRESH = 63  # log S_i is refreshed at candidates i with i & REFRESH == 1


def _ziggurat(f, finv, tail, r, layers=256):
    """Layer edges x_0 > x_1 = r > ... > x_layers = 0 of the ziggurat of the decreasing density
    shape f on [0, inf) (finv its inverse, tail its integral from r): every layer has the area v of
    the base strip with the tail; r is the root that closes them (to 1e-14, found by bisection)."""
    v = r * f(r) + tail(r)
    x = np.empty(layers + 1)
    x[0], x[1] = v / f(r), r
    for i in range(1, layers - 1):
        x[i + 1] = finv(v / x[i] + f(x[i]))
    x[layers] = 0.0
    return x, np.append(x[1:] / x[:-1], 0.0), np.array([f(t) for t in x])


def _normal_layers():
    from scipy.special import erfc

    return _ziggurat(lambda t: math.exp(-0.5 * t * t), lambda y: math.sqrt(-2.0 * math.log(y)),
                     lambda r: math.sqrt(math.pi / 2) * erfc(r / math.sqrt(2)), 3.654152885361009)


ZX, ZRATIO, ZF = _normal_layers()  # N(0, 1), times a sign
ZR = ZX[1]
EX, ERATIO, EF = _ziggurat(lambda t: math.exp(-t), lambda y: -math.log(y), lambda r: math.exp(-r),
                           7.697117470131049)  # Exp(1)
ER = EX[1]


@njit(cache=True, inline="always")
def _unit(w):
    return (np.float64(w >> _S11) + 0.5) * _UNIT


@njit(cache=True)
def _normal_slow(w):
    """The ziggurat's rare branches (wedges and the tail) for the word w whose fast test failed."""
    while True:
        i = np.int64(w & _LAYER)
        u = _unit(w)
        neg = (w >> _S8) & _ONE
        if u < ZRATIO[i]:
            z = u * ZX[i]
        elif i == 0:  # the tail beyond r (Marsaglia 1964)
            t = w
            while True:
                a = -math.log(_unit(rnd.mix(t ^ _TAIL1))) / ZR
                c = -math.log(_unit(rnd.mix(t ^ _TAIL2)))
                if 2.0 * c > a * a:
                    break
                t = rnd.mix(t + _GAMMA)
            z = ZR + a
        else:
            z = u * ZX[i]
            y = ZF[i] + _unit(rnd.mix(w ^ _WEDGE)) * (ZF[i + 1] - ZF[i])
            if y >= math.exp(-0.5 * z * z):
                w = rnd.mix(w + _GAMMA)
                continue
        return -z if neg else z


@njit(cache=True)
def _exp_slow(w):
    """The exponential ziggurat's rare branches: the tail (r plus a fresh Exp(1): memoryless)
    and the wedges."""
    shift = 0.0
    while True:
        i = np.int64(w & _LAYER)
        u = _unit(w)
        if u < ERATIO[i]:
            return shift + u * EX[i]
        if i == 0:
            shift += ER
            w = rnd.mix(w + _GAMMA)
            continue
        z = u * EX[i]
        if EF[i] + _unit(rnd.mix(w ^ _WEDGE)) * (EF[i + 1] - EF[i]) < math.exp(-z):
            return shift + z
        w = rnd.mix(w + _GAMMA)


@njit(cache=True, inline="always")
def std_exponential(w):
    """Exp(1) from the 64-bit word w (ziggurat, Marsaglia and Tsang 2000)."""
    i = np.int64(w & _LAYER)
    u = _unit(w)
    if u < ERATIO[i]:
        return u * EX[i]
    return _exp_slow(w)


@njit(cache=True, inline="always")
def std_normal(w):
    """N(0, 1) from the 64-bit word w (ziggurat)."""
    i = np.int64(w & _LAYER)
    u = _unit(w)
    if u < ZRATIO[i]:
        z = u * ZX[i]
        return -z if (w >> _S8) & _ONE else z
    return _normal_slow(w)


@njit(cache=True, inline="always")
def draw(kind, w):
    """A draw of the standard proposal of ``kind`` from the word w."""
    if kind == NORMAL_P:
        return std_normal(w)
    u = _unit(w)
    if kind == LAPLACE_P:
        z = -math.log(u)
        return -z if (w >> _S8) & _ONE else z
    return u


@njit(cache=True, inline="always")
def block_base(seed):
    """The state from which a block's candidate keys are drawn."""
    return rnd.mix(seed ^ _DOMAIN_BLOCK)


@njit(cache=True)
def salts(b):
    """SALT_j for j = 0 .. b - 1."""
    out = np.empty(b, np.uint64)
    for j in range(b):
        out[j] = rnd.mix(_DOMAIN_SALT + np.uint64(j + 1) * _GAMMA)
    return out


@njit(cache=True)
def candidate_into(kind, seed, index, salt, b, z, at):
    """Coordinates of candidate ``index`` (1-based) of the block of ``seed`` into z[at : at + b]."""
    k = rnd.candidate_key(block_base(seed), index)
    for j in range(b):
        z[at + j] = draw(kind, rnd.mix(k ^ salt[j]))


@njit(cache=True, inline="always")
def _neg_log_upper(e):
    """An upper bound of -log e (e > 0), tight to third order at e = 1 and without a logarithm:
    (1/e - e) / 2 for e <= 1, and -2 (e - 1) / (e + 1) for e >= 1."""
    if e <= 1.0:
        return 0.5 * (1.0 / e - e)
    return -2.0 * (e - 1.0) / (e + 1.0)


@njit(cache=True)
def search(method, fam, prm, r0, b, seed, salt, n, max_steps, poll):
    """One block (rows r0 .. r0 + b - 1 of ``prm``) with ``method`` (PFR, RS, ORC, MRC) over at
    most n candidates (ORC, MRC: n = 2^K) and at most max_steps candidates.

    Returns (status, steps, coordinate draws, index)."""
    kind = KIND[fam]
    base = block_base(seed)
    rest = np.empty(b)  # rest[j]: D_inf of coordinates j + 1 .. b - 1
    acc = 0.0
    for j in range(b - 1, -1, -1):
        rest[j] = acc
        acc += prm[r0 + j, 0]
    dtot = acc
    drawn = 0
    if method == RS:
        i = 0
        while True:
            if i >= max_steps:
                return CENSORED, i, drawn, 0
            i += 1
            if poll and (i & (POLL - 1)) == 0 and interrupted():
                return INTERRUPTED, i - 1, drawn, 0
            k = rnd.candidate_key(base, i)
            logu = -std_exponential(rnd.mix(k ^ _ACCEPT))  # log of the acceptance uniform
            part = 0.0
            ok = True
            for j in range(b):
                z = draw(kind, rnd.mix(k ^ salt[j]))
                drawn += 1
                part += logr(fam, prm[r0 + j], z) - prm[r0 + j, 0]
                if part <= logu:
                    ok = False
                    break
            if ok:
                return OK, i, drawn, i
    lb = NINF
    best = 1
    total = 0.0
    lcur = NINF
    g = 0.0
    e = 1.0
    stop = math.inf  # PFR, ORC: no candidate past the arrival time exp(D_inf - LB) can beat LB
    i = 0
    while i < n:
        k = rnd.candidate_key(base, i + 1)
        if method == MRC:
            e = std_exponential(rnd.mix(k ^ _ARRIVAL))  # the Gumbel(0) is -log e, formed if needed
            thr = lb - _neg_log_upper(e)
        else:
            total += std_exponential(rnd.mix(k ^ _ARRIVAL))
            if total >= stop:
                return OK, i, drawn, best
            if (i & REFRESH) == 0:
                lcur = math.log(total)
            thr = lb + lcur
        if i >= max_steps:
            return CENSORED, i, drawn, best
        i += 1
        if poll and (i & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, i - 1, drawn, best
        part = 0.0
        ok = True
        for j in range(b):
            z = draw(kind, rnd.mix(k ^ salt[j]))
            drawn += 1
            part += logr(fam, prm[r0 + j], z)
            if part + rest[j] <= thr:
                ok = False
                break
        if ok and method == MRC:
            g = -math.log(e)
        if ok:
            value = part + g if method == MRC else part - math.log(total)
            if value > lb:
                lb = value
                best = i
                if method != MRC:
                    stop = math.exp(dtot - lb)
    return OK, i, drawn, best


@njit(cache=True, parallel=True)
def search_all(method, fam, prm, seeds, starts, sizes, n, max_steps, status, steps, drawn, index):
    """Every block t (rows starts[t] .. starts[t] + sizes[t] - 1, seed seeds[t], at most n[t]
    candidates) in parallel; no Ctrl-C polls (the caller runs batches of blocks)."""
    salt = salts(max(sizes.max(), 1) if sizes.size else 1)
    for t in prange(seeds.size):
        st, s, dr, ix = search(method, fam, prm, starts[t], sizes[t], seeds[t], salt, n[t], max_steps, False)
        status[t] = st
        steps[t] = s
        drawn[t] = dr
        index[t] = ix


@njit(cache=True)
def search_each(method, fam, prm, seeds, starts, sizes, n, max_steps, status, steps, drawn, index):
    """``search_all`` in one thread, polling for Ctrl-C: returns the first block not OK, or -1."""
    salt = salts(max(sizes.max(), 1) if sizes.size else 1)
    for t in range(seeds.size):
        if (t & 255) == 255 and interrupted():
            status[t] = INTERRUPTED
            return t
        st, s, dr, ix = search(method, fam, prm, starts[t], sizes[t], seeds[t], salt, n[t], max_steps, True)
        status[t] = st
        steps[t] = s
        drawn[t] = dr
        index[t] = ix
        if st == INTERRUPTED:
            return t
    return -1


@njit(cache=True)
def regenerate(fam, seeds, starts, sizes, index, loc, scale, x):
    """The samples of the chosen candidates: x[rows of block t] = loc + scale * candidate
    ``index[t]`` of block t (what encoder and decoder both return)."""
    kind = KIND[fam]
    salt = salts(max(sizes.max(), 1) if sizes.size else 1)
    for t in range(seeds.size):
        r0 = starts[t]
        if index[t] <= 0:
            for j in range(sizes[t]):
                x[r0 + j] = math.nan
            continue
        candidate_into(kind, seeds[t], index[t], salt, sizes[t], x, r0)
        for j in range(sizes[t]):
            x[r0 + j] = loc[r0 + j] + scale[r0 + j] * x[r0 + j]
