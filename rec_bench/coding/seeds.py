"""Seeds: their validation and their derivation for vectors and streams.

A scalar message uses its seed as it is. Coordinate i of a vector coded with seed s uses
``coordinate_seed(s, i)``; vector j of a stream with seed s uses ``message_seed(s, j)``
(rec_bench.randomness defines both, compiled).
"""

import numpy as np
from numba import njit

from .. import randomness as rnd


def check_seed(seed):
    """``seed`` as a uint64, or a ValueError: seeds are integers in [0, 2**64)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return np.uint64(int(seed))


def check_seeds(seeds, n):
    """A uint64 array of n seeds, one per vector, each checked like a scalar seed."""
    if isinstance(seeds, np.ndarray):
        if seeds.dtype.kind not in "iuO":
            raise ValueError(f"seeds must be integers, got dtype {seeds.dtype}")
        shape, values = seeds.shape, seeds.tolist()
    else:
        values = list(seeds)
        shape = (len(values),)
    if shape != (n,):
        raise ValueError(f"seeds must be one per vector, shape ({n},), got shape {shape}")
    return np.array([check_seed(s) for s in values], np.uint64)


def coordinate_seed(seed, i):
    """The seed of coordinate ``i`` (0-based) of a vector coded with ``seed`` (a Python int)."""
    return int(rnd.coordinate_seed(check_seed(seed), int(i)))


def message_seed(seed, j):
    """The seed of vector ``j`` (0-based) of a stream whose seed is ``seed`` (a Python int)."""
    return int(rnd.message_seed(check_seed(seed), int(j)))


@njit(cache=True)
def _message_seeds(seed, start, n):
    out = np.empty(n, np.uint64)
    for j in range(n):
        out[j] = rnd.message_seed(seed, start + j)
    return out


def message_seeds(seed, start, n):
    """``message_seed(seed, j)`` for j = start .. start + n - 1, as a uint64 array."""
    return _message_seeds(check_seed(seed), np.int64(start), np.int64(n))
