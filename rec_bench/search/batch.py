"""Many messages in one compiled call: what ``rec_bench.simulate`` and the studies run.

``run_one`` dispatches on the method's number (its position in rec_bench.methods) over the
registry's runners (rec_bench.search.runners).
"""

import math

import numpy as np
from numba import njit

from .._dispatch import chain
from .._signals import interrupted
from ..codes import code_length
from ..methods import METHODS
from . import INTERRUPTED, OK, tree

# run_one(method, fam, prm, seed, max_steps, option, ws)
#   -> (status, steps, samples_drawn, z, index bit length, log2 index, node, ws)
run_one = chain([m.runner for m in METHODS.values()], 6, "run_one")
# decode_one(method, fam, seed, path, index) -> (status, z)
decode_one = chain([m.decoder for m in METHODS.values()], 4, "decode_one")

POLL_MESSAGES = 256  # messages between Ctrl-C polls (long messages poll inside their own loops)


@njit(cache=True)
def run_batch(method, fam, prm, loc, scale, seeds, max_steps, option, code, width):
    """Run len(seeds) messages; row j uses parameters prm[j], proposal map (loc[j], scale[j]).

    Returns (done, status, steps, samples_drawn, nbits, log2 index, sample): arrays over the
    messages (sample NaN when censored) and ``done``, the number of messages run: fewer than
    len(seeds) only if Ctrl-C interrupted the batch.
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
        if j % POLL_MESSAGES == POLL_MESSAGES - 1 and interrupted():
            return j, status, steps, drawn, nbits, ideal, x
        st, s, d, z, bitlen, lg, _, ws = run_one(method, fam, prm[j], seeds[j], max_steps, option, ws)
        if st == INTERRUPTED:
            return j, status, steps, drawn, nbits, ideal, x
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
    return n, status, steps, drawn, nbits, ideal, x


@njit(cache=True)
def run_single(method, fam, prm, seed, max_steps, option, ws):
    """``run_one`` as a cached entry point for Python callers (rec_bench.encode)."""
    return run_one(method, fam, prm, seed, max_steps, option, ws)


@njit(cache=True)
def decode_single(method, fam, seed, path, index):
    """``decode_one`` as a cached entry point for Python callers (rec_bench.decode)."""
    return decode_one(method, fam, seed, path, index)
