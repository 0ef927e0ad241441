"""Shared randomness: a counter-based generator keyed by (seed, node identity, stream).

Every random number a search uses is a pure function of the seed, the identity of the node or
candidate that uses it, and a stream number. Encoder and decoder therefore agree whatever order
they visit nodes in, and results do not depend on how work is split across processes
(docs/design.md, section 3).

The mixing function is the SplitMix64 finaliser (Steele, Lea and Flood 2014), a bijection on 64-bit
words with full avalanche; SplitMix64's output sequence passes BigCrush.

* Tree nodes (AS*, AD*, DAD*). The identity of a node is its heap index h (root 1, children 2h and
  2h + 1), that is, its depth and path bits. Depths well past 62 occur (AD* pushes tail nodes about
  D_inf bits deep), so h never lives in one machine word: a node's key is chained from its parent's,
  ``key(child) = mix(key(parent) ^ BRANCH[bit])``, which identifies the whole path at any depth.
  The decoder recomputes the same chain while it walks the path. Two distinct paths share a key
  only by a 64-bit hash collision.
* Candidate lists (RS, PFR, ORC, MRC). Candidate i (1-based) has key ``mix(base + i * GAMMA)``, the
  i-th SplitMix64 output from a state derived from the seed.

A uniform is ``((mix(key ^ STREAM[s]) >> 11) + 0.5) * 2**-53``: never exactly 0 or 1.

Vectors and streams (rec_bench.streams) derive one seed per coordinate, and one per message of a
stream, with the same construction under their own domain constants, all arithmetic modulo 2^64:

* ``coordinate_seed(seed, i) = mix(mix(seed ^ 0x9216D5D98979FB1B) + (i + 1) * GAMMA)`` for the
  0-based coordinate i of a vector coded with ``seed``; coordinate i is then coded exactly as a
  scalar message with that seed;
* ``message_seed(seed, j) = mix(mix(seed ^ 0xD1310BA698DFB5AC) + (j + 1) * GAMMA)`` for the 0-based
  message j of a stream whose seed is ``seed``;

with GAMMA = 0x9E3779B97F4A7C15. For a fixed seed both are injective in i (j): GAMMA is odd and mix
is a bijection.
"""

import numpy as np
from numba import njit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_DOMAIN_TREE = np.uint64(0x243F6A8885A308D3)
_DOMAIN_LIST = np.uint64(0x13198A2E03707344)
_DOMAIN_COORDINATE = np.uint64(0x9216D5D98979FB1B)
_DOMAIN_MESSAGE = np.uint64(0xD1310BA698DFB5AC)
_BRANCH0 = np.uint64(0xA4093822299F31D0)
_BRANCH1 = np.uint64(0x082EFA98EC4E6C89)
_STREAMS = np.array(
    [0x452821E638D01377, 0xBE5466CF34E90C6C, 0xC0AC29B7C97C50DD, 0x3F84D5B5B5470917],
    dtype=np.uint64,
)
_UNIT = 2.0**-53

# stream numbers
GUMBEL = 0  # the Exp(1) variable behind a node's or candidate's Gumbel
LOCATION = 1  # the uniform behind the node's or candidate's sample from P
ACCEPT = 2  # the acceptance uniform of rejection sampling and of greedy rejection coding
CHOICE = 3  # greedy rejection coding: the uniform that picks the child


@njit(cache=True, inline="always")
def mix(z):
    """SplitMix64 finaliser: a bijective avalanche mix of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def root_key(seed):
    """Key of the root of the search tree for ``seed`` (a uint64)."""
    return mix(mix(seed ^ _DOMAIN_TREE))


@njit(cache=True, inline="always")
def child_key(parent_key, bit):
    """Key of the child ``2h + bit`` of the node whose key is ``parent_key``."""
    if bit == 0:
        return mix(parent_key ^ _BRANCH0)
    return mix(parent_key ^ _BRANCH1)


@njit(cache=True, inline="always")
def list_base(seed):
    """SplitMix64 state from which candidate keys are drawn."""
    return mix(seed ^ _DOMAIN_LIST)


@njit(cache=True, inline="always")
def candidate_key(base, i):
    """Key of candidate ``i`` (1-based) of a candidate list."""
    return mix(base + np.uint64(i) * _GAMMA)


@njit(cache=True, inline="always")
def uniform(key, stream):
    """A uniform in the open interval (0, 1), determined by (key, stream)."""
    z = mix(key ^ _STREAMS[stream])
    return (np.float64(z >> _S11) + 0.5) * _UNIT


@njit(cache=True, inline="always")
def coordinate_seed(seed, i):
    """Seed of coordinate ``i`` (0-based) of a vector coded with ``seed`` (uint64 in, uint64 out)."""
    return mix(mix(seed ^ _DOMAIN_COORDINATE) + np.uint64(i + 1) * _GAMMA)


@njit(cache=True, inline="always")
def message_seed(seed, j):
    """Seed of message ``j`` (0-based) of a stream whose seed is ``seed``."""
    return mix(mix(seed ^ _DOMAIN_MESSAGE) + np.uint64(j + 1) * _GAMMA)
