"""Methods that draw i.i.d. candidates X_1, X_2, ... ~ P and send the index of one of them.

Candidate i's randomness is keyed by (seed, i) (rec_bench.randomness), so the decoder draws X_i
directly from the index, in O(1).

* Global A* coding = the Poisson functional representation (PFR; Li and El Gamal 2018; A* sampling
  without splitting, Maddison et al. 2014): Gumbels G_i = -log(E_1 + ... + E_i) decrease, and the
  search stops before candidate i once G_i + D_inf <= LB, the best G_j + log r(X_j) so far. Exact.
  The expected number of candidates evaluated is exp(D_inf) exactly.
* Rejection sampling (RS): accept X_i with probability exp(log r(X_i) - D_inf). Exact; the number
  of candidates is geometric with mean exp(D_inf).
* Ordered random coding (ORC; Theis and Yosri 2022, "Algorithms for the communication of
  samples", ICML, section 3.3): the first N = 2^K points of the same ordered Gumbel process as PFR
  (G_i = -log(E_1 + ... + E_i)), select argmax_{i <= N} G_i + log r(X_i). All N candidates are
  evaluated; approximate; sent as a fixed K-bit index.

Every list kernel stops after ``max_steps`` candidates (status CENSORED), ORC and MRC included
(their 2^K candidates are their steps), and polls for Ctrl-C every POLL candidates.
* Minimal random coding (MRC; Havasi, Peharz and Hernandez-Lobato 2019): N = 2^K candidates, select
  index i with probability proportional to r(X_i), realised as argmax of log r(X_i) plus i.i.d.
  Gumbel(0) noise. All N candidates are evaluated; approximate; fixed K-bit index.
"""

import math

from numba import njit

from .. import randomness as rnd
from .._math import NINF, bit_length
from .._signals import POLL, interrupted
from ..pairs.kernels import logr, sample_between, support
from ..status import CENSORED, INTERRUPTED, OK


@njit(cache=True, inline="always")
def candidate(fam, key):
    """X ~ P, the whole support, from the candidate's location stream."""
    lo, hi = support(fam)
    z, _, _ = sample_between(fam, lo, NINF, 0.0, hi, 0.0, NINF, 0.0, rnd.uniform(key, rnd.LOCATION))
    return z


@njit(cache=True)
def candidate_at(fam, seed, index):
    """X_index for the list of ``seed``: what every list method's decoder returns."""
    return candidate(fam, rnd.candidate_key(rnd.list_base(seed), index))


@njit(cache=True)
def pfr(fam, prm, seed, max_steps):
    """Global A* coding. Returns (status, steps, samples_drawn, index, z)."""
    base = rnd.list_base(seed)
    dinf = prm[0]
    lb = NINF
    total = 0.0
    best = 0
    best_z = math.nan
    i = 0
    while True:
        k = rnd.candidate_key(base, i + 1)
        total += -math.log(rnd.uniform(k, rnd.GUMBEL))
        g = -math.log(total)
        if g + dinf <= lb:
            return OK, i, i, best, best_z
        if i >= max_steps:
            return CENSORED, i, i, best, best_z
        if (i & (POLL - 1)) == POLL - 1 and interrupted():
            return INTERRUPTED, i, i, best, best_z
        i += 1
        z = candidate(fam, k)
        value = g + logr(fam, prm, z)
        if value > lb:
            lb = value
            best = i
            best_z = z


@njit(cache=True)
def rs(fam, prm, seed, max_steps):
    """Rejection sampling. Returns (status, steps, samples_drawn, index, z)."""
    base = rnd.list_base(seed)
    dinf = prm[0]
    for i in range(1, max_steps + 1):
        if (i & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, i - 1, i - 1, 0, math.nan
        k = rnd.candidate_key(base, i)
        z = candidate(fam, k)
        if math.log(rnd.uniform(k, rnd.ACCEPT)) < logr(fam, prm, z) - dinf:
            return OK, i, i, i, z
    return CENSORED, max_steps, max_steps, 0, math.nan


@njit(cache=True)
def orc(fam, prm, seed, n, max_steps):
    """Ordered random coding over n candidates (at most max_steps of them).

    Returns (status, steps, samples_drawn, index, z)."""
    base = rnd.list_base(seed)
    lb = NINF
    total = 0.0
    best = 1
    best_z = math.nan
    for i in range(1, n + 1):
        if i > max_steps:
            return CENSORED, max_steps, max_steps, best, best_z
        if (i & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, i - 1, i - 1, best, best_z
        k = rnd.candidate_key(base, i)
        total += -math.log(rnd.uniform(k, rnd.GUMBEL))
        z = candidate(fam, k)
        value = -math.log(total) + logr(fam, prm, z)
        if value > lb:
            lb = value
            best = i
            best_z = z
    if best_z != best_z:  # every candidate had r = 0: send the first, as any index is as good
        best_z = candidate(fam, rnd.candidate_key(base, 1))
    return OK, n, n, best, best_z


@njit(cache=True)
def mrc(fam, prm, seed, n, max_steps):
    """Minimal random coding over n candidates (at most max_steps of them).

    Returns (status, steps, samples_drawn, index, z)."""
    base = rnd.list_base(seed)
    lb = NINF
    best = 1
    best_z = math.nan
    for i in range(1, n + 1):
        if i > max_steps:
            return CENSORED, max_steps, max_steps, best, best_z
        if (i & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, i - 1, i - 1, best, best_z
        k = rnd.candidate_key(base, i)
        z = candidate(fam, k)
        value = -math.log(-math.log(rnd.uniform(k, rnd.GUMBEL))) + logr(fam, prm, z)
        if value > lb:
            lb = value
            best = i
            best_z = z
    if best_z != best_z:
        best_z = candidate(fam, rnd.candidate_key(base, 1))
    return OK, n, n, best, best_z


# ---- the registry's signatures (rec_bench.methods; see rec_bench.search.tree) ------------------


def list_runner(kernel, takes_option):
    """A candidate-list kernel ``kernel(fam, prm, seed, [option,] max_steps)`` as a runner; its
    ``node`` is the 1-based candidate index."""

    if takes_option:
        @njit(inline="always")
        def run(fam, prm, seed, max_steps, option, ws):
            return _list_result(kernel(fam, prm, seed, option, max_steps), ws)
    else:
        @njit(inline="always")
        def run(fam, prm, seed, max_steps, option, ws):
            return _list_result(kernel(fam, prm, seed, max_steps), ws)

    return run


@njit(inline="always")
def _list_result(result, ws):
    status, steps, drawn, index, z = result
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, index, ws
    return status, steps, drawn, z, bit_length(index), math.log2(index), index, ws


@njit(inline="always")
def candidate_decoder(fam, seed, path, index):
    """Candidate ``index`` of the list of ``seed``: what every list method's decoder returns."""
    return OK, candidate_at(fam, seed, index)
