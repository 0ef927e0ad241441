"""Greedy rejection coding (GRC; G. Flamich, S. Markou and J. M. Hernandez-Lobato, "Faster Relative
Entropy Coding with Greedy Rejection Coding", NeurIPS 2023, arXiv:2309.15746): the compiled core of
GRCS (regions split at the step's sample) and GRCD (split at P's median of the region).

GRC walks down one path of a binary partition tree of P's support (A* coding's tree), running
greedy rejection sampling (Harsha et al. 2007) on the part of the target not yet produced. The
state before a step is a region B (P's support at the root), a level l (0 at the root) and the
residual mass Z = integral_B (r - l)_+ dP (1 at the root), with the invariant that what is still
to be produced, restricted to B and normalised, has density (r - l)_+ p / Z. A step:

1. draws X ~ P restricted to B from the node's own randomness (rec_bench.randomness: the node key,
   stream LOCATION), exactly as A* coding draws a node's sample;
2. accepts X with probability min(1, (r(X) - l)_+ P(B) / Z) (stream ACCEPT of the node's key);
   the accepted node is the message;
3. otherwise raises the level to l + Z / P(B) (the greedy step emitted min(target, P_B), and what
   is left is proportional to (r - l)_+ p at the new level), splits B in two (at X for GRCS, at
   P's median of B for GRCD) and moves to child C with probability integral_C (r - l)_+ dP /
   integral_B (r - l)_+ dP (stream CHOICE); Z becomes the chosen child's residual.

Each step emits the greedy part of what is left and the choice splits the rest in proportion, so
the output is exactly Q-distributed. The accepted node's path is its heap index (root 1, one bit
per rejection: depth = steps - 1), which the decoder walks with A* coding's own arithmetic
(``tree.decode_walk``): for GRCS it regenerates each step's sample to split, for GRCD it needs only
P's medians; the acceptance and choice uniforms are never needed to decode.

Residual masses. For a unimodal r the set {r >= l} is an interval [z_lo, z_hi] around the mode
(the families' ``gprs_level_set``, from the gap delta = D_inf - log l), so integral_C (r - l)_+ dP
= Q(C n S) - l P(C n S), differences of P's and Q's log-tails at the ends of C n S: at most the
two level-set ends and the split point are new in a step, the region's own ends carry their tails
from the step that made them. When l P(I) and Q(I) agree to within 2^-10 (relative), the
difference would amplify their rounding more than a thousandfold; the family's
``grc_log_residual`` then integrates l expm1(log r - log l) over I (adaptive Gauss-Kronrod, or a
closed form), where nothing cancels. Everything is in log space: log P(B), log l, log Z, and the
acceptance test; P(B) and Z reach e^-1000 and less at large D_inf.
"""

import math

import numpy as np
from numba import njit

from .. import randomness as rnd
from .._math import LOG_HALF, NINF, log1mexp, logaddexp
from .._signals import POLL, interrupted
from ..pairs.kernels import (far_side, grc_log_residual, level_set, logcdf, logr, logsf, median_between,
                             q_logcdf, q_logsf, sample_between, sample_z_between, support)
from ..status import CENSORED, INTERRUPTED, OK
from . import tree
from .workspace import log2_heap_index, reserve

SPLIT_AT_SAMPLE = tree.SPLIT_AT_SAMPLE  # GRCS
SPLIT_AT_MEDIAN = tree.SPLIT_AT_MEDIAN  # GRCD

# log(l P(I) / Q(I)) above this: the residual of I is integrated instead of formed as a difference
CANCEL = -(2.0**-10)


@njit(cache=True)
def p_tails(fam, z):
    """(log F(z), log S(z)) of P, each accurate on its small side (the far side as ``far_side``)."""
    lf = logcdf(fam, z)
    if lf <= LOG_HALF:
        return lf, far_side(lf)
    ls = logsf(fam, z)
    return far_side(ls), ls


@njit(cache=True)
def q_tails(fam, prm, z):
    """(log Q((-inf, z]), log Q([z, inf))), each accurate on its small side."""
    lf = q_logcdf(fam, prm, z)
    if lf <= LOG_HALF:
        return lf, far_side(lf)
    ls = q_logsf(fam, prm, z)
    return far_side(ls), ls


@njit(cache=True, inline="always")
def log_mass(lfu, lsu, lfv, lsv):
    """log of the mass between u <= v from their log-tails, reading each tail on its small side."""
    if lfv <= LOG_HALF:  # both left of the median
        return lfv + log1mexp(lfu - lfv)
    if lfu > LOG_HALF:  # both right of it
        return lsu + log1mexp(lsv - lsu)
    return log1mexp(logaddexp(lfu, lsv))


@njit(cache=True)
def residual(fam, prm, ll, delta, u, v, pfu, psu, pfv, psv, qfu, qsu, qfv, qsv):
    """log integral_u^v (r - l) dP for [u, v] inside the level set of l = e^ll (gap delta), from the
    ends' tails; by the family's quadrature where Q(I) and l P(I) nearly cancel."""
    lp = log_mass(pfu, psu, pfv, psv)
    lq = log_mass(qfu, qsu, qfv, qsv)
    t = ll + lp - lq
    if t < CANCEL:
        return lq + log1mexp(t)
    return grc_log_residual(fam, prm, delta, u, v)


@njit(cache=True, inline="always")
def grc_search(fam, prm, seed, rule, max_steps, ws):
    """One GRC search with split ``rule`` (SPLIT_AT_SAMPLE: GRCS, SPLIT_AT_MEDIAN: GRCD).

    Returns (status, steps, z, depth, ws): status OK (z is the accepted sample, a sample of Q),
    CENSORED (the budget of ``max_steps`` steps ran out; z is NaN) or INTERRUPTED. The accepted
    node's path is laid into the workspace ``ws`` as a chain of nodes (node i + 1 the child of node
    i along path bit i), so that ``workspace.path_of(ws, depth)`` reads it back; ws is returned
    grown if the path was longer than it.
    """
    dinf = prm[0]
    za, zb = support(fam)
    pfa, psa, pfb, psb = NINF, 0.0, 0.0, NINF  # P's log-tails at the region's ends
    qfa, qsa, qfb, qsb = NINF, 0.0, 0.0, NINF  # Q's (NaN: not yet needed, so not evaluated)
    lm = 0.0  # log P(B)
    ll = NINF  # log l
    lz = 0.0  # log Z
    key = rnd.root_key(seed)
    link, dep = ws[1], ws[2]
    link[0] = -1
    dep[0] = 0
    depth = 0
    for step in range(1, max_steps + 1):
        if (step & (POLL - 1)) == 0 and interrupted():
            return INTERRUPTED, step - 1, math.nan, depth, ws
        u = rnd.uniform(key, rnd.LOCATION)
        if rule == SPLIT_AT_SAMPLE:
            z, lf, ls = sample_between(fam, za, pfa, psa, zb, pfb, psb, lm, u)
        else:
            z = sample_z_between(fam, za, pfa, psa, zb, pfb, psb, lm, u)
            lf, ls = 0.0, 0.0
        lr = logr(fam, prm, z)
        if lr > ll and math.log(rnd.uniform(key, rnd.ACCEPT)) < lr + log1mexp(ll - lr) + lm - lz:
            return OK, step, z, depth, ws

        # rejected: the level rises by Z / P(B); the residual is (r - l)_+ on the level set's part of B
        ll = logaddexp(ll, lz - lm)
        delta = dinf - ll
        if rule == SPLIT_AT_SAMPLE:
            zs, pfs, pss = z, lf, ls
        else:
            zs, pfs, pss = median_between(fam, pfa, psa, pfb, psb)
        qfs, qss = math.nan, math.nan
        m0 = NINF
        m1 = NINF
        if delta > 0.0:
            lo, hi = level_set(fam, prm, delta)
            if lo > za:
                c0 = lo
                pf0, ps0 = p_tails(fam, lo)
                qf0, qs0 = q_tails(fam, prm, lo)
            else:
                c0, pf0, ps0 = za, pfa, psa
                if qfa != qfa:
                    qfa, qsa = q_tails(fam, prm, za)
                qf0, qs0 = qfa, qsa
            if hi < zb:
                c1 = hi
                pf1, ps1 = p_tails(fam, hi)
                qf1, qs1 = q_tails(fam, prm, hi)
            else:
                c1, pf1, ps1 = zb, pfb, psb
                if qfb != qfb:
                    qfb, qsb = q_tails(fam, prm, zb)
                qf1, qs1 = qfb, qsb
            if c0 < c1:
                if zs <= c0:
                    m1 = residual(fam, prm, ll, delta, c0, c1, pf0, ps0, pf1, ps1, qf0, qs0, qf1, qs1)
                elif zs >= c1:
                    m0 = residual(fam, prm, ll, delta, c0, c1, pf0, ps0, pf1, ps1, qf0, qs0, qf1, qs1)
                else:
                    qfs, qss = q_tails(fam, prm, zs)
                    m0 = residual(fam, prm, ll, delta, c0, zs, pf0, ps0, pfs, pss, qf0, qs0, qfs, qss)
                    m1 = residual(fam, prm, ll, delta, zs, c1, pfs, pss, pf1, ps1, qfs, qss, qf1, qs1)
        if m1 == NINF:
            if not m0 > NINF:
                # no residual is left after rounding (the rejection had probability 0 to within
                # it): the step's sample stands; not met in the tests, nor in runs at D_inf up to
                # 300 bits
                return OK, step, z, depth, ws
            bit = 0
        elif m0 == NINF:
            bit = 1
        else:
            bit = 1 if math.log(rnd.uniform(key, rnd.CHOICE)) < m1 - logaddexp(m0, m1) else 0
        lz = m1 if bit == 1 else m0
        lm = tree.child_log_mass(rule, lm, u, bit)
        if bit == 0:
            zb, pfb, psb, qfb, qsb = zs, pfs, pss, qfs, qss
        else:
            za, pfa, psa, qfa, qsa = zs, pfs, pss, qfs, qss
        if depth + 2 > link.shape[0]:
            ws = reserve(ws, 2 * link.shape[0])
            link, dep = ws[1], ws[2]
        link[depth + 1] = 2 * depth + bit
        dep[depth + 1] = depth + 1
        depth += 1
        key = rnd.child_key(key, bit)
    return CENSORED, max_steps, math.nan, depth, ws


# ---- the registry's signatures (rec_bench.methods; see rec_bench.search.tree) ------------------


def grc_runner(rule):
    """GRC with split ``rule``; the node returned is the end of the path chain in the workspace."""

    @njit(inline="always")
    def run(fam, prm, seed, max_steps, option, ws):
        status, steps, z, depth, ws = grc_search(fam, prm, seed, rule, max_steps, ws)
        if status != OK:
            return status, steps, steps, z, 0, math.nan, np.int64(0), ws
        return status, steps, steps, z, depth + 1, log2_heap_index(ws, depth), np.int64(depth), ws

    return run


def grc_decoder(rule):
    """GRC's path is walked with A* coding's own arithmetic: ``tree.decode_walk`` with the same rule
    (AS*'s decoder for GRCS, AD*'s for GRCD)."""
    return tree.tree_decoder(rule)
