"""Runners: every method's kernel behind one compiled signature, for the method registry.

A runner is ``run(fam, prm, seed, max_steps, option, ws)`` and returns
``(status, steps, samples_drawn, z, index bit length, log2 index, node, ws)``, where ``node`` is the
arena node of a tree search (its heap index is the node's path) or the 1-based candidate index of
a list method, and ``option`` is the method's compiled option (DAD*'s depth D, the 2^K candidates
of ORC and MRC; 0 when it has none). rec_bench.methods gives each method its runner;
rec_bench.search.batch dispatches on the method's number over them.
"""

import math

import numpy as np
from numba import njit

from ..codes import bit_length
from . import EMPTY_REGION, OK, gprs, lists, tree


def tree_runner(rule, depth_limited):
    """The A* tree search with split ``rule``; with ``depth_limited`` the option is the depth D."""

    @njit(inline="always")
    def run(fam, prm, seed, max_steps, option, ws):
        depth = option if depth_limited else tree.NO_DEPTH_LIMIT
        status, steps, drawn, node, z, _, ws = tree.search(fam, prm, seed, rule, depth, max_steps, ws)
        if status != OK:
            return status, steps, drawn, z, 0, math.nan, node, ws
        return status, steps, drawn, z, ws[2][node] + 1, tree.log2_heap_index(ws, node), node, ws

    return run


def list_runner(kernel, takes_option):
    """A candidate-list kernel ``kernel(fam, prm, seed, [option,] max_steps)``."""

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
def gprs_runner(fam, prm, seed, max_steps, option, ws):
    """Split-on-sample GPRS. Its path of left/right decisions is laid into the tree workspace as a
    chain of nodes (node i + 1 the child of node i along bit i), so that encoders read its heap
    index with tree.path_of like any tree method's."""
    status, steps, drawn, z, path, depth = gprs.gprs_search(fam, prm, seed, max_steps, np.empty(64, np.uint8))
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, 0, ws
    ws = tree.reserve(ws, depth + 1)
    link, dep = ws[1], ws[2]
    link[0] = -1
    dep[0] = 0
    for i in range(depth):
        link[i + 1] = 2 * i + path[i]
        dep[i + 1] = i + 1
    return status, steps, drawn, z, depth + 1, tree.log2_heap_index(ws, depth), np.int64(depth), ws


@njit(inline="always")
def gprs_dyadic_runner(fam, prm, seed, max_steps, option, ws):
    """Dyadic GPRS. Its code is a node path and an arrival number j >= 1; both go into one heap
    index, 1 followed by the Elias-gamma bits of j and then the path bits, laid into the tree
    workspace as a chain of nodes as for split GPRS. ``gprs_dyadic_decoder`` parses them back."""
    status, steps, drawn, z, path, depth, j = gprs.gprs_dyadic(fam, prm, seed, max_steps, np.empty(64, np.uint8))
    if status != OK:
        return status, steps, drawn, z, 0, math.nan, 0, ws
    nj = bit_length(j)
    head = 2 * nj - 1  # gamma(j): nj - 1 zeros, then j's nj bits, most significant first
    n = head + depth
    ws = tree.reserve(ws, n + 1)
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
    return status, steps, drawn, z, n + 1, tree.log2_heap_index(ws, n), np.int64(n), ws


# Decoders: ``decode(fam, seed, path, index) -> (status, z)`` rebuild a method's sample from P and
# the seed alone: heap-index methods from the path bits (uint8, root first), candidate methods from
# the 1-based candidate index (the other argument is ignored).

def tree_decoder(rule):
    """Walk the path from the root, splitting with ``rule`` as the encoder did."""

    @njit(inline="always")
    def decode(fam, seed, path, index):
        return tree.decode_walk(fam, seed, rule, path)

    return decode


@njit(inline="always")
def candidate_decoder(fam, seed, path, index):
    """Candidate ``index`` of the list of ``seed``: what every list method's decoder returns."""
    return OK, lists.candidate_at(fam, seed, index)


@njit(inline="always")
def gprs_decoder(fam, seed, path, index):
    """Walk split-on-sample GPRS's path, regenerating each step's sample to split."""
    return gprs.gprs_decode_walk(fam, seed, path)


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
    j = 0
    for i in range(zeros, 2 * zeros + 1):
        j = (j << 1) | np.int64(path[i])
    return gprs.gprs_dyadic_decode(fam, seed, path[2 * zeros + 1:], j)
