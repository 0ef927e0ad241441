"""Runners: every method's kernel behind one compiled signature, for the method registry.

A runner is ``run(fam, prm, seed, max_steps, option, ws)`` and returns
``(status, steps, samples_drawn, z, index bit length, log2 index, node, ws)``, where ``node`` is the
arena node of a tree search (its heap index is the node's path) or the 1-based candidate index of
a list method, and ``option`` is the method's compiled option (DAD*'s depth D, the 2^K candidates
of ORC and MRC; 0 when it has none). rec_bench.methods gives each method its runner;
rec_bench.search.batch dispatches on the method's number over them.
"""

import math

from numba import njit

from ..codes import bit_length
from . import OK, lists, tree


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
