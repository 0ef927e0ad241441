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
from . import OK, gprs, lists, tree


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
