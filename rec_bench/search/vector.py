"""A whole vector of messages in one compiled call: search every coordinate, write or read its code.

A factorised target Q = Q_1 x ... x Q_d against P = P_1 x ... x P_d is coded coordinate by
coordinate with one method. Coordinate i is exactly a scalar message whose seed is
``randomness.coordinate_seed(seed, i)``; its code follows coordinate i - 1's bit by bit in one
bit buffer (uint8, most significant bit first), so every code must be self-delimiting (Elias gamma
or delta) or of a length both sides know (fixed length: DAD* depth D + 1 bits, ORC/MRC K bits,
which may differ per coordinate). The bits are those of ``rec_bench.codes``, bit for bit:

* Elias gamma of n: floor(log2 n) zeros, then n in binary;
* Elias delta of n: Elias gamma of L = bit length of n, then the L - 1 bits of n below its top bit;
* fixed length: the heap index h (DAD*) or the candidate index minus one (ORC, MRC) in its width;
* ``PATH`` (internal, for the model-coded index): only the index's bits below its top bit, the
  bit length being sent by other means (rec_bench.streams codes the depth with a model).

A tree method's index is the heap index of the returned arena node, ``1`` followed by the node's
path (``tree.path_of``): it is written bit by bit, never held in a machine word, so any depth
works. A list method's index is a positive int64.

Errors are status codes (``OK`` ... ``EMPTY_REGION``) together with the coordinate they occurred
at; rec_bench.streams turns them into BudgetExceeded or ValueError.
"""

import numpy as np
from numba import njit

from .. import randomness as rnd
from ..codes import ELIAS_DELTA, ELIAS_GAMMA, FIXED, bit_length, code_length
from .. import search
from . import batch, tree

PATH = 3  # code id: the index's bits below its top bit only

OK = 0
CENSORED = 1  # encode: a coordinate's search used its whole step budget
TRUNCATED = 2  # decode: the data ends inside a code
LONG_PREFIX = 3  # decode: a universal code's prefix has more zeros than any index can have
INDEX_ZERO = 4  # decode: a fixed-length heap index of 0
INDEX_TOO_LARGE = 5  # decode: a candidate index of 2^63 or more
EMPTY_REGION = 6  # decode: a path that leads to a region of zero probability
INTERRUPTED = 7  # encode: Ctrl-C arrived during a search

# the limits of rec_bench.codes: leading zeros of an Elias gamma code, of an Elias delta's prefix
GAMMA_PREFIX_LIMIT = 4096
DELTA_PREFIX_LIMIT = 32
MAX_LIST_BITS = 63  # a candidate index is below 2^63


@njit(cache=True, inline="always")
def _get(buf, pos):
    return (buf[pos >> 3] >> (7 - (pos & 7))) & 1


@njit(cache=True, inline="always")
def _set(buf, pos):
    buf[pos >> 3] |= np.uint8(1 << (7 - (pos & 7)))


@njit(cache=True)
def _put(buf, pos, value, nbits):
    """Write the low ``nbits`` bits of ``value`` (int64, nbits <= 63) at ``pos``; buf is zero there."""
    for k in range(nbits):
        if (value >> (nbits - 1 - k)) & 1:
            _set(buf, pos + k)
    return pos + nbits


@njit(cache=True)
def _read(buf, pos, nbits):
    """The int64 made of ``nbits`` (<= 63) bits at ``pos``."""
    v = 0
    for k in range(nbits):
        v = (v << 1) | _get(buf, pos + k)
    return v


@njit(cache=True)
def _ensure(buf, nbits):
    """``buf``, or a zero-extended copy at least twice as long, so that it holds ``nbits`` bits."""
    need = (nbits + 7) >> 3
    if need <= buf.shape[0]:
        return buf
    bigger = np.zeros(max(need, 2 * buf.shape[0]), np.uint8)
    bigger[: buf.shape[0]] = buf
    return bigger


@njit(cache=True)
def code_length_of(code, bitlen, width):
    """Bits of the code of an index of bit length ``bitlen``: rec_bench.codes' universal and fixed
    codes, or for ``PATH`` (the model-coded index) the index's bits below its top bit."""
    if code == PATH:
        return bitlen - 1
    return code_length(code, bitlen, width)


@njit(cache=True)
def _write_length_prefix(buf, pos, code, bitlen, width):
    """Everything of the code before the index's bits below its top bit; returns the new pos."""
    if code == ELIAS_GAMMA:
        pos += bitlen - 1
        _set(buf, pos)
        return pos + 1
    if code == ELIAS_DELTA:
        lb = bit_length(bitlen)
        pos += lb - 1
        return _put(buf, pos, bitlen, lb)
    if code == FIXED:
        pos += width - bitlen
        _set(buf, pos)
        return pos + 1
    return pos


@njit(cache=True)
def encode(method, is_tree, offset, fam, prm, loc, scale, seeds, d, max_steps, option, width, code, buf, pos, ws):
    """Search every coordinate of n = len(seeds) vectors of d coordinates each and append their codes
    to the bit buffer ``buf`` at bit ``pos``, vector after vector.

    Row i = j d + k of ``prm`` (n d, 4), ``loc`` and ``scale`` (n d,) is coordinate k of vector j,
    whose seed is ``coordinate_seed(seeds[j], k)``. ``is_tree``: the method's index is a heap
    index (a path), else a candidate index, written minus ``offset`` in a fixed-length code.
    ``option`` (n d,) is batch.run_one's option
    per coordinate (DAD*: depth D; ORC, MRC: 2^K), ``width`` (n d,) a fixed-length code's width
    (D + 1, or K). ``buf`` must be zero from ``pos`` on; it is grown by doubling when needed (the
    returned buffer is the one to keep).

    Returns (status, row, pos, buf, ws, x, steps, samples_drawn, index_bits, code_bits, log2 index),
    arrays of n d entries: status OK, or CENSORED at ``row`` (nothing after it is meaningful).
    """
    rows = prm.shape[0]
    x = np.empty(rows)
    steps = np.zeros(rows, np.int64)
    drawn = np.zeros(rows, np.int64)
    index_bits = np.zeros(rows, np.int64)
    code_bits = np.zeros(rows, np.int64)
    ideal = np.zeros(rows)
    for i in range(rows):
        cs = rnd.coordinate_seed(seeds[i // d], i % d)
        st, s, dr, z, bitlen, lg, node, ws = batch.run_one(method, fam, prm[i], cs, max_steps, option[i], ws)
        steps[i] = s
        drawn[i] = dr
        if st != OK:
            status = INTERRUPTED if st == search.INTERRUPTED else CENSORED
            return status, i, pos, buf, ws, x, steps, drawn, index_bits, code_bits, ideal
        x[i] = loc[i] + scale[i] * z
        index_bits[i] = bitlen
        ideal[i] = lg
        if code == FIXED and not is_tree:  # ORC, MRC: the candidate index minus one in K bits
            code_bits[i] = width[i]
            buf = _ensure(buf, pos + width[i])
            pos = _put(buf, pos, node - offset, width[i])
            continue
        clen = code_length_of(code, bitlen, width[i])
        code_bits[i] = clen
        buf = _ensure(buf, pos + clen)
        pos = _write_length_prefix(buf, pos, code, bitlen, width[i])
        if is_tree:
            path = tree.path_of(ws, node)
            for k in range(path.shape[0]):
                if path[k]:
                    _set(buf, pos + k)
            pos += path.shape[0]
        else:
            pos = _put(buf, pos, node, bitlen - 1)  # the index's bits below its top bit
    return OK, rows, pos, buf, ws, x, steps, drawn, index_bits, code_bits, ideal


@njit(cache=True)
def _zeros(buf, pos, end, limit):
    """(status, number of zeros at pos); TRUNCATED if they run to ``end``, LONG_PREFIX past limit."""
    start = pos
    while pos < end and _get(buf, pos) == 0:
        pos += 1
        if pos - start > limit:
            return LONG_PREFIX, 0
    if pos == end:
        return TRUNCATED, 0
    return OK, pos - start


@njit(cache=True)
def decode(method, is_tree, offset, fam, loc, scale, seeds, d, width, code, depths, buf, pos, end):
    """Read the codes of n = len(seeds) vectors of d coordinates from bit ``pos`` of ``buf`` (``end``:
    bits available) and decode them; rows as in :func:`encode`.

    ``width`` (n d,) are fixed-length widths, ``depths`` (n d,) the index bit lengths minus one for
    the ``PATH`` code (unused otherwise). Returns (status, row, pos, x): status OK, or the error at
    ``row``.
    """
    rows = loc.shape[0]
    x = np.empty(rows)
    no_path = np.zeros(0, np.uint8)
    for i in range(rows):
        cs = rnd.coordinate_seed(seeds[i // d], i % d)
        if code == FIXED and not is_tree:
            if pos + width[i] > end:
                return TRUNCATED, i, pos, x
            index = _read(buf, pos, width[i]) + offset
            pos += width[i]
            st, z = batch.decode_one(method, fam, cs, no_path, index)
            x[i] = loc[i] + scale[i] * z
            continue
        # the bit length L of the index; pos then points at its L - 1 bits below the top bit
        if code == ELIAS_GAMMA:
            st, zeros = _zeros(buf, pos, end, GAMMA_PREFIX_LIMIT)
            if st != OK:
                return st, i, pos, x
            bitlen = zeros + 1
            pos += bitlen
        elif code == ELIAS_DELTA:
            st, zeros = _zeros(buf, pos, end, DELTA_PREFIX_LIMIT)
            if st != OK:
                return st, i, pos, x
            if pos + 2 * zeros + 1 > end:
                return TRUNCATED, i, pos, x
            bitlen = _read(buf, pos + zeros, zeros + 1)
            pos += 2 * zeros + 1
        elif code == FIXED:  # DAD*: the heap index in ``width`` bits
            if pos + width[i] > end:
                return TRUNCATED, i, pos, x
            lead = 0
            while lead < width[i] and _get(buf, pos + lead) == 0:
                lead += 1
            if lead == width[i]:
                return INDEX_ZERO, i, pos, x
            bitlen = width[i] - lead
            pos += lead + 1
        else:
            bitlen = depths[i] + 1
        if pos + bitlen - 1 > end:
            return TRUNCATED, i, pos, x
        if is_tree:
            path = np.empty(bitlen - 1, np.uint8)
            for k in range(bitlen - 1):
                path[k] = _get(buf, pos + k)
            st, z = batch.decode_one(method, fam, cs, path, 0)
            if st != OK:
                return EMPTY_REGION, i, pos, x
        else:
            if bitlen > MAX_LIST_BITS:
                return INDEX_TOO_LARGE, i, pos, x
            index = (np.int64(1) << (bitlen - 1)) | _read(buf, pos, bitlen - 1)
            st, z = batch.decode_one(method, fam, cs, no_path, index)
        pos += bitlen - 1
        x[i] = loc[i] + scale[i] * z
    return OK, rows, pos, x


@njit(cache=True)
def trailing_ok(buf, pos, end):
    """True when the bits from ``pos`` to ``end`` are fewer than 8 and all zero (final padding)."""
    if end - pos >= 8:
        return False
    for k in range(pos, end):
        if _get(buf, k):
            return False
    return True


@njit(cache=True)
def message_seeds(seed, start, n):
    """``message_seed(seed, j)`` for j = start .. start + n - 1."""
    out = np.empty(n, np.uint64)
    for j in range(n):
        out[j] = rnd.message_seed(seed, start + j)
    return out
