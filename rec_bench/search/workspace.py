"""The search workspace: an arena of tree nodes and a heap, shared by every search that returns a
tree node (AS*, AD*, DAD*, and GPRS, which lays its path into it as a chain of nodes).

A node's ``link`` is 2 * parent + bit (the root's is -1) and ``dep`` its depth, so its path, the
heap index without its leading 1, is read back from the arena at any depth (``path_of``). The
workspace is allocated once per batch and grown by doubling, not per message.
"""

import math

import numpy as np
from numba import njit

# columns of the arena's region table; LMASS = log P(B), stored when the node is created so that
# popping it does not evaluate the mass again
ZA, LFA, LSA, ZB, LFB, LSB, GUMBEL, LMASS = range(8)
NCOLS = 8


@njit(cache=True)
def new_workspace(capacity):
    """Arena and heap arrays for searches: reused across messages, grown when a search needs more."""
    return (
        np.empty((capacity, NCOLS)),  # region, Gumbel and log mass
        np.empty(capacity, np.int64),  # link = 2 * parent + bit (root: -1)
        np.empty(capacity, np.int32),  # depth
        np.empty(capacity, np.uint64),  # randomness key
        np.empty(capacity),  # heap: bounds
        np.empty(capacity, np.int64),  # heap: arena indices
    )


@njit(cache=True)
def grow(ws, used):
    reg, link, dep, key, hb, hn = ws
    bigger = new_workspace(2 * reg.shape[0])
    bigger[0][:used] = reg[:used]
    bigger[1][:used] = link[:used]
    bigger[2][:used] = dep[:used]
    bigger[3][:used] = key[:used]
    bigger[4][:used] = hb[:used]
    bigger[5][:used] = hn[:used]
    return bigger


@njit(cache=True)
def reserve(ws, n):
    """The workspace, grown by doubling until it holds at least n nodes."""
    while ws[0].shape[0] < n:
        ws = grow(ws, ws[0].shape[0])
    return ws


@njit(cache=True)
def path_of(ws, node):
    """The path bits (root first) of an arena node: the heap index without its leading 1."""
    link, dep = ws[1], ws[2]
    bits = np.empty(dep[node], np.uint8)
    while link[node] >= 0:
        bits[dep[node] - 1] = link[node] & 1
        node = link[node] >> 1
    return bits


@njit(cache=True, inline="always")
def log2_heap_index(ws, node):
    """log2 of the node's heap index h = 1.b1b2...bd (binary) * 2^d, from its top 53 path bits."""
    link, dep = ws[1], ws[2]
    d = dep[node]
    frac = 0.0
    while link[node] >= 0:
        frac = (frac + (link[node] & 1)) * 0.5
        node = link[node] >> 1
    return d + math.log2(1.0 + frac)
