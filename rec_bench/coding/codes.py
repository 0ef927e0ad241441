"""The index codes, compiled, over a bit buffer: the one definition of every code's bits.

A bit buffer is a uint8 array read and written most significant bit first; a position is a bit
offset. Every code maps a positive integer (a heap index: ``1`` followed by a tree node's path; or
a 1-based candidate index) to bits and back:

* Elias gamma of n: floor(log2 n) zeros, then n in binary; 2 floor(log2 n) + 1 bits.
* Elias delta of n (the default): Elias gamma of L = bit length of n, then the L - 1 bits of n
  below its top bit; about log2 n + 2 log2(log2 n + 1) + 1 bits.
* Fixed length (DAD*, ORC, MRC): n in exactly ``width`` bits (ORC and MRC write index - 1).
* ``PATH``: only the index's bits below its top bit, its bit length being sent by other means (the
  model-coded index of rec_bench.coding.index_model entropy codes the depth).

Each code is written as a *head* (everything before the index's bits below its top bit) and the
index's low bits, so that a tree node's path, which may be far longer than a machine word, is
written and read bit by bit and never held in an integer. Decoding never reads past ``end`` and
reports malformed input with the statuses of rec_bench.status.
"""

import numpy as np
from numba import njit

from .._math import bit_length
from ..status import INDEX_ZERO, LONG_PREFIX, OK, TRUNCATED

ELIAS_GAMMA = 0
ELIAS_DELTA = 1
FIXED = 2
PATH = 3

UNIVERSAL = {"elias-delta": ELIAS_DELTA, "elias-gamma": ELIAS_GAMMA}  # by name; the default first
NAMES = {ELIAS_GAMMA: "elias-gamma", ELIAS_DELTA: "elias-delta", FIXED: "fixed", PATH: "path"}

# leading zeros a decoder accepts: an Elias gamma code's, an Elias delta's length prefix
GAMMA_PREFIX_LIMIT = 4096
DELTA_PREFIX_LIMIT = 32
MAX_LIST_BITS = 63  # a candidate index is below 2^63


def universal(name):
    """The number of the universal code called ``name`` ('elias-delta' or 'elias-gamma')."""
    try:
        return UNIVERSAL[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown code {name!r}; choose one of {sorted(UNIVERSAL)}") from None


# ---- bits ----------------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def get_bit(buf, pos):
    return (buf[pos >> 3] >> (7 - (pos & 7))) & 1


@njit(cache=True, inline="always")
def set_bit(buf, pos):
    buf[pos >> 3] |= np.uint8(1 << (7 - (pos & 7)))


@njit(cache=True, inline="always")
def put_uint(buf, pos, value, nbits):
    """Write the low ``nbits`` bits of ``value`` (int64, nbits <= 63) at ``pos``; buf is zero there."""
    for k in range(nbits):
        if (value >> (nbits - 1 - k)) & 1:
            set_bit(buf, pos + k)
    return pos + nbits


@njit(cache=True, inline="always")
def get_uint(buf, pos, nbits):
    """The int64 made of the ``nbits`` (<= 63) bits at ``pos``."""
    v = np.int64(0)
    for k in range(nbits):
        v = (v << 1) | get_bit(buf, pos + k)
    return v


@njit(cache=True)
def ensure(buf, nbits):
    """``buf``, or a zero-extended copy at least twice as long, so that it holds ``nbits`` bits."""
    need = (nbits + 7) >> 3
    if need <= buf.shape[0]:
        return buf
    bigger = np.zeros(max(need, 2 * buf.shape[0]), np.uint8)
    bigger[: buf.shape[0]] = buf
    return bigger


@njit(cache=True)
def padding_ok(buf, pos, end):
    """True when the bits from ``pos`` to ``end`` are fewer than 8 and all zero (the final padding)."""
    if end - pos >= 8:
        return False
    for k in range(pos, end):
        if get_bit(buf, k):
            return False
    return True


# ---- codes -----------------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def code_length(code, bitlen, width):
    """Bits of the code of an index of bit length ``bitlen`` (``width``: a fixed code's)."""
    if code == ELIAS_GAMMA:
        return 2 * bitlen - 1
    if code == ELIAS_DELTA:
        return bitlen + 2 * (bit_length(bitlen) - 1)
    if code == PATH:
        return bitlen - 1
    return width


@njit(cache=True, inline="always")
def write_head(buf, pos, code, bitlen, width):
    """Everything of the code of an index of bit length ``bitlen`` before its bits below the top
    bit; ``buf`` is zero from ``pos`` on. Returns the new position."""
    if code == ELIAS_GAMMA:
        pos += bitlen - 1
        set_bit(buf, pos)
        return pos + 1
    if code == ELIAS_DELTA:
        lb = bit_length(bitlen)
        pos += lb - 1
        return put_uint(buf, pos, bitlen, lb)
    if code == FIXED:
        pos += width - bitlen
        set_bit(buf, pos)
        return pos + 1
    return pos


@njit(cache=True, inline="always")
def _zeros(buf, pos, end, limit):
    """(status, number of zeros at pos): TRUNCATED if they run to ``end``, LONG_PREFIX past limit."""
    start = pos
    while pos < end and get_bit(buf, pos) == 0:
        pos += 1
        if pos - start > limit:
            return LONG_PREFIX, 0
    if pos == end:
        return TRUNCATED, 0
    return OK, pos - start


@njit(cache=True, inline="always")
def read_head(buf, pos, end, code, width, depth):
    """Parse a code's head at ``pos``: (status, bit length L of the index, position of its L - 1
    bits below the top bit). ``depth``: for ``PATH``, the bit length minus one, sent elsewhere."""
    if code == ELIAS_GAMMA:
        st, zeros = _zeros(buf, pos, end, GAMMA_PREFIX_LIMIT)
        if st != OK:
            return st, 0, pos
        return OK, zeros + 1, pos + zeros + 1
    if code == ELIAS_DELTA:
        st, zeros = _zeros(buf, pos, end, DELTA_PREFIX_LIMIT)
        if st != OK:
            return st, 0, pos
        if pos + 2 * zeros + 1 > end:
            return TRUNCATED, 0, pos
        return OK, get_uint(buf, pos + zeros, zeros + 1), pos + 2 * zeros + 1
    if code == FIXED:
        if pos + width > end:
            return TRUNCATED, 0, pos
        lead = 0
        while lead < width and get_bit(buf, pos + lead) == 0:
            lead += 1
        if lead == width:
            return INDEX_ZERO, 0, pos
        return OK, width - lead, pos + lead + 1
    return OK, depth + 1, pos


@njit(cache=True)
def write_int(buf, pos, code, n, width):
    """The code of the positive int64 ``n`` at ``pos`` (buf zero from there, long enough)."""
    bitlen = bit_length(n)
    pos = write_head(buf, pos, code, bitlen, width)
    return put_uint(buf, pos, n, bitlen - 1)


@njit(cache=True)
def read_int(buf, pos, end, code, width):
    """(status, n, new position) of the code of an int at ``pos``."""
    st, bitlen, pos = read_head(buf, pos, end, code, width, 0)
    if st != OK:
        return st, np.int64(0), pos
    if bitlen > MAX_LIST_BITS or pos + bitlen - 1 > end:
        return TRUNCATED if pos + bitlen - 1 > end else LONG_PREFIX, np.int64(0), pos
    return OK, (np.int64(1) << (bitlen - 1)) | get_uint(buf, pos, bitlen - 1), pos + bitlen - 1


# ---- the same universal codes through an entropy coder's sink (rec_bench.coding.sinks) ------------
# An entropy coder cannot be driven from compiled code, so a universal code sent through one is
# split where a decoder must decide: its zero-run prefix goes as flags (one symbol a bit), the
# fields whose lengths the prefix gives go as raw bits. The bits are those written above.


def _packed(v, nbits):
    nbytes = (nbits + 7) // 8
    return np.frombuffer((v << (8 * nbytes - nbits)).to_bytes(nbytes, "big"), np.uint8)


def _unpacked(packed, nbits):
    data = bytes(packed)
    return int.from_bytes(data, "big") >> (8 * len(data) - nbits) if nbits else 0


def put_universal(sink, n, code):
    """Send the positive int ``n`` in the universal ``code`` through ``sink``."""
    length = n.bit_length()
    if code == ELIAS_GAMMA:
        sink.put_flags([0] * (length - 1) + [1])
    else:
        lb = length.bit_length()
        sink.put_flags([0] * (lb - 1) + [1])
        sink.put_bits(_packed(length & ((1 << (lb - 1)) - 1), lb - 1), lb - 1)
    sink.put_bits(_packed(n & ((1 << (length - 1)) - 1), length - 1), length - 1)


def get_universal(source, code, max_bits):
    """Read what :func:`put_universal` sent; ``max_bits`` bounds the value's bit length (a longer
    one is a ValueError: no encoder wrote it)."""
    limit = min(GAMMA_PREFIX_LIMIT, max_bits) if code == ELIAS_GAMMA else DELTA_PREFIX_LIMIT
    zeros = 0
    while source.get_flag() == 0:
        zeros += 1
        if zeros > limit:
            raise ValueError("corrupted stream: a universal code has a prefix longer than any index's")
    if code == ELIAS_GAMMA:
        length = zeros + 1
    else:
        length = (1 << zeros) | _unpacked(source.get_bits(zeros), zeros)
    if length - 1 > max_bits:
        raise ValueError("corrupted stream: a universal code names more bits than the stream holds")
    return (1 << (length - 1)) | _unpacked(source.get_bits(length - 1), length - 1)
