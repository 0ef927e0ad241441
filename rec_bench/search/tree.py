"""The A* coding search core: one kernel for AS*, AD* and DAD* (Flamich, Markou and
Hernandez-Lobato 2022; A* sampling: Maddison, Tarlow and Minka 2014).

A node has a heap index h (root 1, children 2h and 2h + 1), a region B = [a, b] of the proposal's
standard coordinates, a Gumbel G and a location X ~ P restricted to B. The root has B = P's support
and G ~ Gumbel(0); a child c of a node with Gumbel G gets G_c ~ Gumbel(log P(B_c)) truncated to be
below G. The search pops nodes by their upper bound G + sup_B log r and stops when the best value
G + log r(X) seen so far (LB) is at least the top bound. Every popped node that passes the bound
test is one step: its X is drawn and evaluated, its region split in two, and each child whose bound
exceeds LB is pushed.

The variants differ only in the split rule and the depth limit:

* AS* (``SPLIT_AT_SAMPLE``): B is split at the node's own sample X.
* AD* (``SPLIT_AT_MEDIAN``): B is split at P's median of B, i.e. the quantile interval is halved,
  so a node's region depends on its heap index alone.
* DAD*: AD* whose nodes at depth ``max_depth`` are evaluated but not split.

Each split rule yields an exact A* sample (Maddison, Tarlow and Minka 2014), so AS* and AD* return
X ~ Q exactly; DAD* is approximate.

Nodes live in an arena (parent link, depth, key, region, Gumbel) so that the returned node's path
can be read back at any depth; the max-heap holds (bound, arena index). The workspace is allocated
once per batch and grown by doubling, not per message.

A node's randomness is keyed by its path (rec_bench.randomness), so ``decode_walk`` rebuilds the
returned node's region from its heap index alone, regenerating each ancestor's sample when the
split rule needs it, and draws the same X from the node's own stream.
"""

import math

import numpy as np
from numba import njit

from .. import randomness as rnd
from .._math import LOG2, NINF, truncated_gumbel
from .._signals import POLL, interrupted
from ..pairs.kernels import logr, median_between, sample_between, sample_z_between, sup_logr, support
from ..status import CENSORED, EMPTY_REGION, INTERRUPTED, OK
from .workspace import GUMBEL, LFA, LFB, LMASS, LSA, LSB, ZA, ZB, grow, log2_heap_index

SPLIT_AT_SAMPLE = 0
SPLIT_AT_MEDIAN = 1
NO_DEPTH_LIMIT = 2**31 - 1

NEED_SPACE = -1  # internal: the arena is full

@njit(cache=True, inline="always")
def child_log_mass(rule, lm, u, bit):
    """log P of child ``bit`` of a region of log-mass ``lm`` whose sample used the uniform u.

    No tail function is evaluated: AS* splits at the sample, which sits at the quantile
    F(a) + u P(B), so its children hold exactly the fractions u and 1 - u of the mass; AD* halves
    the quantile interval, so each child holds half.
    """
    if rule == SPLIT_AT_SAMPLE:
        return (math.log(u) if bit == 0 else math.log1p(-u)) + lm
    return lm - LOG2


@njit(cache=True)
def _steps(fam, prm, rule, max_depth, max_steps, reg, link, dep, key, hb, hn, size, used, lb, best, best_z,
           steps):
    """The search loop, run until it stops, the step budget runs out, or the arena is full.

    A separate function whose arrays are never reassigned: with the arena's growth inside the loop,
    Numba kept reference counts of the arrays with atomic increments and decrements on every step
    (a quarter of the step's time). Returns (status, size, used, lb, best, best_z, steps), status
    OK, CENSORED, INTERRUPTED or NEED_SPACE (grow the arena, then call again: the search resumes
    where it was).
    """
    capacity = reg.shape[0]
    while size > 0:
        if lb >= hb[0]:
            break
        if steps >= max_steps:
            return CENSORED, size, used, lb, best, best_z, steps
        if (steps & (POLL - 1)) == POLL - 1 and interrupted():
            return INTERRUPTED, size, used, lb, best, best_z, steps
        if used + 2 > capacity:  # a step adds at most two nodes: let the caller grow the arena
            return NEED_SPACE, size, used, lb, best, best_z, steps
        n = hn[0]
        # pop the top (written out: an inlined heap function made Numba count references to hb
        # and hn with atomic operations on every step)
        size -= 1
        if size > 0:
            hbound = hb[size]
            hnode = hn[size]
            i = 0
            while True:
                child = 2 * i + 1
                if child >= size:
                    break
                if child + 1 < size and hb[child + 1] > hb[child]:
                    child += 1
                if hb[child] <= hbound:
                    break
                hb[i] = hb[child]
                hn[i] = hn[child]
                i = child
            hb[i] = hbound
            hn[i] = hnode
        steps += 1

        za, lfa, lsa = reg[n, ZA], reg[n, LFA], reg[n, LSA]
        zb, lfb, lsb = reg[n, ZB], reg[n, LFB], reg[n, LSB]
        g = reg[n, GUMBEL]
        kn = key[n]
        u = rnd.uniform(kn, rnd.LOCATION)
        lm = reg[n, LMASS]
        if rule == SPLIT_AT_SAMPLE:  # the sample's log-CDF and log-survival bound the children
            z, lf, ls = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, u)
        else:  # AD* splits at the median: only the sample itself is needed
            z = sample_z_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, u)
        value = g + logr(fam, prm, z)
        if value > lb or best < 0:  # DAD* may evaluate only nodes with r = 0: keep the first then
            lb = value
            best = n
            best_z = z
        if dep[n] >= max_depth:
            continue

        if rule == SPLIT_AT_SAMPLE:
            zs, lfs, lss = z, lf, ls
        else:
            zs, lfs, lss = median_between(fam, lfa, lsa, lfb, lsb)
        for bit in range(2):
            if bit == 0:
                ca, cfa, csa, cb, cfb, csb = za, lfa, lsa, zs, lfs, lss
            else:
                ca, cfa, csa, cb, cfb, csb = zs, lfs, lss, zb, lfb, lsb
            sup = sup_logr(fam, prm, ca, cb)
            if g + sup <= lb:  # the child's Gumbel is below g: it cannot beat lb, draw nothing
                continue
            lmc = child_log_mass(rule, lm, u, bit)
            kc = rnd.child_key(kn, bit)
            gc = truncated_gumbel(lmc, g, -math.log(rnd.uniform(kc, rnd.GUMBEL)))
            bound = gc + sup
            if bound <= lb:
                continue
            reg[used, ZA] = ca
            reg[used, LFA] = cfa
            reg[used, LSA] = csa
            reg[used, ZB] = cb
            reg[used, LFB] = cfb
            reg[used, LSB] = csb
            reg[used, GUMBEL] = gc
            reg[used, LMASS] = lmc
            link[used] = 2 * n + bit
            dep[used] = dep[n] + 1
            key[used] = kc
            # push (written out, as the pop above)
            i = size
            while i > 0:
                parent = (i - 1) >> 1
                if hb[parent] >= bound:
                    break
                hb[i] = hb[parent]
                hn[i] = hn[parent]
                i = parent
            hb[i] = bound
            hn[i] = used
            size += 1
            used += 1
    return OK, size, used, lb, best, best_z, steps


@njit(cache=True, inline="always")
def search(fam, prm, seed, rule, max_depth, max_steps, ws):
    """Run one A* coding search.

    Returns (status, steps, samples_drawn, best node, best z, best value, workspace); status is OK,
    CENSORED (the step budget ran out; the best node so far is returned but is not a sample of Q)
    or INTERRUPTED.
    """
    reg, link, dep, key, hb, hn = ws
    lo, hi = support(fam)
    k0 = rnd.root_key(seed)
    g0 = -math.log(-math.log(rnd.uniform(k0, rnd.GUMBEL)))
    reg[0, ZA] = lo
    reg[0, LFA] = NINF
    reg[0, LSA] = 0.0
    reg[0, ZB] = hi
    reg[0, LFB] = 0.0
    reg[0, LSB] = NINF
    reg[0, GUMBEL] = g0
    reg[0, LMASS] = 0.0  # the root is P's whole support
    link[0] = -1
    dep[0] = 0
    key[0] = k0
    # np.int64(...) rather than literals: a literal argument would make Numba compile a second,
    # literal-typed copy of _steps while it infers the loop's types
    used = np.int64(1)
    hb[0] = g0 + sup_logr(fam, prm, lo, hi)  # the heap holds the root alone
    hn[0] = 0
    size = np.int64(1)

    lb = NINF
    best = np.int64(-1)
    best_z = math.nan
    steps = np.int64(0)
    while True:
        status, size, used, lb, best, best_z, steps = _steps(
            fam, prm, rule, max_depth, max_steps, reg, link, dep, key, hb, hn, size, used, lb, best, best_z,
            steps
        )
        if status != NEED_SPACE:
            break
        reg, link, dep, key, hb, hn = grow((reg, link, dep, key, hb, hn), used)
    return status, steps, steps, best, best_z, lb, (reg, link, dep, key, hb, hn)


@njit(cache=True)
def decode_walk(fam, seed, rule, bits):
    """Rebuild the region of the node with path ``bits`` and draw its sample: (status, z).

    Walks from the root with the encoder's own arithmetic (split points and child masses), so the
    sample is the encoder's bit for bit.
    """
    za, zb = support(fam)
    lfa, lsa, lfb, lsb = NINF, 0.0, 0.0, NINF
    lm = 0.0
    k = rnd.root_key(seed)
    for i in range(bits.shape[0]):
        u = rnd.uniform(k, rnd.LOCATION)
        if rule == SPLIT_AT_SAMPLE:
            zs, lfs, lss = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, u)
        else:
            zs, lfs, lss = median_between(fam, lfa, lsa, lfb, lsb)
        lm = child_log_mass(rule, lm, u, bits[i])
        if bits[i] == 0:
            zb, lfb, lsb = zs, lfs, lss
        else:
            za, lfa, lsa = zs, lfs, lss
        k = rnd.child_key(k, bits[i])
        if lm == NINF or za > zb:
            return EMPTY_REGION, math.nan
    u = rnd.uniform(k, rnd.LOCATION)
    z, _, _ = sample_between(fam, za, lfa, lsa, zb, lfb, lsb, lm, u)
    return OK, z


# ---- the registry's signatures (rec_bench.methods): runner and decoder of AS*, AD* and DAD* ------
# A runner is ``run(fam, prm, seed, max_steps, option, ws) -> (status, steps, samples_drawn, z,
# index bit length, log2 index, node, ws)``; ``node`` is the arena node whose path (``path_of``)
# is the heap index without its leading 1. A decoder is ``decode(fam, seed, path, index) -> (status,
# z)``: heap-index methods read the path bits (uint8, root first), list methods the 1-based index.


def tree_runner(rule, depth_limited):
    """The A* tree search with split ``rule``; with ``depth_limited`` the option is the depth D."""

    @njit(inline="always")
    def run(fam, prm, seed, max_steps, option, ws):
        # the depth a runtime int64 either way, so that AD* and DAD* share one compiled search; the
        # rule stays a compile-time constant (one search per split rule)
        depth = np.int64(option) if depth_limited else np.int64(NO_DEPTH_LIMIT)
        status, steps, drawn, node, z, _, ws = search(fam, prm, seed, rule, depth, max_steps, ws)
        if status != OK:
            return status, steps, drawn, z, 0, math.nan, node, ws
        return status, steps, drawn, z, ws[2][node] + 1, log2_heap_index(ws, node), node, ws

    return run


def tree_decoder(rule):
    """Walk the path from the root, splitting with ``rule`` as the encoder did."""

    @njit(inline="always")
    def decode(fam, seed, path, index):
        return decode_walk(fam, seed, np.int64(rule), path)  # one compiled walk for both rules

    return decode
