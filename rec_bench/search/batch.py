"""Many messages in one compiled call: what ``rec_bench.simulate`` and the studies run.

Methods are numbered here; rec_bench.codecs holds their names, codes and documentation.
"""

import math

import numpy as np
from numba import njit

from ..codes import bit_length, code_length
from . import lists, tree

AS, AD, DAD, PFR, RS, ORC, MRC = range(7)
TREE_METHODS = (AS, AD, DAD)

OK, CENSORED = 0, 1


@njit(cache=True, inline="always")
def run_one(method, fam, prm, seed, max_steps, option, ws):
    """One message. Returns (status, steps, samples_drawn, z, index bit length, log2 index, node, ws).

    ``option`` is the depth limit D for DAD* and the number of candidates 2^K for ORC and MRC.
    ``node`` is the arena node (tree methods) or the 1-based candidate index (list methods).
    """
    if method == AS or method == AD or method == DAD:
        rule = tree.SPLIT_AT_SAMPLE if method == AS else tree.SPLIT_AT_MEDIAN
        depth = option if method == DAD else tree.NO_DEPTH_LIMIT
        status, steps, drawn, node, z, _, ws = tree.search(fam, prm, seed, rule, depth, max_steps, ws)
        if status != OK:
            return status, steps, drawn, z, 0, math.nan, node, ws
        return status, steps, drawn, z, ws[2][node] + 1, tree.log2_heap_index(ws, node), node, ws
    if method == PFR:
        status, steps, drawn, index, z = lists.pfr(fam, prm, seed, max_steps)
    elif method == RS:
        status, steps, drawn, index, z = lists.rs(fam, prm, seed, max_steps)
    elif method == ORC:
        status, steps, drawn, index, z = lists.orc(fam, prm, seed, option)
    else:
        status, steps, drawn, index, z = lists.mrc(fam, prm, seed, option)
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, index, ws
    return status, steps, drawn, z, bit_length(index), math.log2(index), index, ws


@njit(cache=True)
def run_batch(method, fam, prm, loc, scale, seeds, max_steps, option, code, width):
    """Run len(seeds) messages; row j uses parameters prm[j], proposal map (loc[j], scale[j]).

    Returns arrays: status, steps, samples_drawn, nbits, log2 index, sample (NaN when censored).
    """
    n = seeds.shape[0]
    status = np.empty(n, np.int8)
    steps = np.empty(n, np.int64)
    drawn = np.empty(n, np.int64)
    nbits = np.empty(n, np.int64)
    ideal = np.empty(n)
    x = np.empty(n)
    ws = tree.new_workspace(1024)
    for j in range(n):
        st, s, d, z, bitlen, lg, _, ws = run_one(method, fam, prm[j], seeds[j], max_steps, option, ws)
        status[j] = st
        steps[j] = s
        drawn[j] = d
        if st == OK:
            nbits[j] = code_length(code, bitlen, width)
            ideal[j] = lg
            x[j] = loc[j] + scale[j] * z
        else:
            nbits[j] = -1
            ideal[j] = math.nan
            x[j] = math.nan
    return status, steps, drawn, nbits, ideal, x
