"""Blocks: b coordinates of a vector coded as one message (``block=b``).

A vector of d coordinates (C order) is cut into ceil(d / b) blocks of b consecutive coordinates,
the last one shorter when b does not divide d. Block k of a vector coded with seed s is one message
of a candidate-list method (PFR, RS, ORC, MRC; rec_bench.search.blocks) with the seed
``coordinate_seed(s, k)``, and its index is written as a scalar list method writes it: ORC and MRC
index - 1 in K bits (K may differ per block), PFR and RS the universal code (Elias delta by
default). The blocks' codes follow each other bit by bit. ``block=1`` (or None) is not this
module: it is the per-coordinate code of rec_bench.coding.vector, bit for bit.

One pair family per vector (as for every vector): each coordinate of a block has its own
parameters, and all share the family, so a block never mixes proposals.

:func:`encode_blocks` / :func:`decode_blocks` take any sink or source of rec_bench.coding.sinks
(a BitSink writes the codes in place from compiled code; through an entropy coder, fixed-length
indices go as raw bits, universal codes likewise after their total length, below). The
searches run in parallel over blocks (Numba threads); results do not depend on the threads.
Through an entropy coder, universal codes are preceded by their total length (Elias delta of
total + 1, sent as put_universal sends it), so that a decoder reads them as one run of raw bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import randomness as rnd
from ..methods import Method, is_integer, method_spec
from ..pairs import proposal_family, resolve
from ..search import blocks as kernels
from ..status import INDEX_TOO_LARGE, INTERRUPTED, OK, TRUNCATED
from .codes import (ELIAS_DELTA, FIXED, MAX_LIST_BITS, code_length, ensure, get_uint, get_universal, put_uint,
                    put_universal, read_int, write_int)
from .seeds import check_seed, check_seeds
from .setup import ERRORS, BudgetExceeded, check_budget, check_family, resolve_options, step_budget
from .sinks import BitSink, BitSource

__all__ = ["BLOCK_METHODS", "check_block", "block_setup", "encode_blocks", "decode_blocks", "BlockCode",
           "vector_fields"]

BLOCK_METHODS = tuple(kernels.KERNELS)
NO_LIMIT = 2**62  # candidates of PFR and RS: bounded by the step budget alone
CALL_WORK = 2**24  # candidate coordinates per parallel call at most: Ctrl-C is seen between calls


def check_block(method, block):
    """The block size b >= 2, or None for today's per-coordinate code (block None or 1)."""
    if block is None:
        return None
    if isinstance(block, (bool, np.bool_)) or not is_integer(block) or block < 1:
        raise ValueError(f"block must be a positive integer (coordinates per message), got {block!r}")
    if block == 1:
        return None
    m = method if isinstance(method, Method) else method_spec(method)
    if m.name not in kernels.KERNELS:
        raise ValueError(f"block={int(block)} needs a method that uses only the density ratio "
                         f"({', '.join(BLOCK_METHODS)}); {m.name} codes one coordinate at a time")
    return int(block)


@dataclass(frozen=True, eq=False)
class BlockSetup:
    """What both sides agree on for vectors of d coordinates in blocks of b."""

    method: Method
    kernel: int  # rec_bench.search.blocks.PFR, RS, ORC or MRC
    block: int
    d: int
    offsets: np.ndarray  # (nb,) first coordinate of each block
    sizes: np.ndarray  # (nb,) coordinates of each block (the last may be shorter)
    candidates: np.ndarray  # (nb,) 2^K (ORC, MRC), or NO_LIMIT
    width: np.ndarray  # (nb,) K (ORC, MRC), or 0
    value: np.ndarray | None  # (nb,) K per block, or None
    code: int  # FIXED, or the universal code of rec_bench.coding.codes
    code_name: str

    @property
    def nb(self):
        return self.sizes.size

    @property
    def fixed(self):
        return self.code == FIXED

    @property
    def min_bits(self):
        return int(self.width.min(initial=1)) if self.fixed else 1


def block_setup(method, code, bits, d, block):
    """The :class:`BlockSetup` of ``method`` (with ``code`` or ``bits``) for d coordinates in blocks
    of ``block``; ``bits`` (ORC, MRC) is one K, or one per block (shape (ceil(d / b),))."""
    m = method if isinstance(method, Method) else method_spec(method)
    b = check_block(m, block)
    if b is None:
        raise ValueError("block_setup is for blocks of 2 or more coordinates")
    nb = -(-d // b)
    offsets = np.arange(nb, dtype=np.int64) * b
    sizes = np.minimum(b, d - offsets).astype(np.int64)
    if m.option is None:
        r = resolve_options(m, code, None, bits)
        return BlockSetup(method=m, kernel=kernels.KERNELS[m.name], block=b, d=d, offsets=offsets,
                          sizes=sizes, candidates=np.full(nb, NO_LIMIT, np.int64),
                          width=np.zeros(nb, np.int64), value=None, code=r.code, code_name=r.code_name)
    if bits is None:
        resolve_options(m, code, None, None)  # the scalar codec's message
    try:
        arr = np.broadcast_to(np.asarray(bits), (nb,))
    except ValueError:
        raise ValueError(f"{m.name}'s bits has shape {np.shape(bits)}: give one K, or one per block "
                         f"({nb} blocks of {b} coordinates)") from None
    if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
        raise ValueError(f"{m.name}'s bits must be integers, got {bits!r}")
    for v in np.unique(arr):
        resolve_options(m, code, None, v)
    value = arr.astype(np.int64)
    return BlockSetup(method=m, kernel=kernels.KERNELS[m.name], block=b, d=d, offsets=offsets, sizes=sizes,
                      candidates=np.left_shift(np.int64(1), value), width=value.copy(), value=value,
                      code=FIXED, code_name="fixed")


@njit(cache=True)
def _layout(seeds, d, offsets, sizes, candidates, width):
    """Per block of n vectors: (seeds, first row, size, candidates, width), vector-major."""
    n, nb = seeds.size, sizes.size
    bs = np.empty(n * nb, np.uint64)
    starts = np.empty(n * nb, np.int64)
    sz = np.empty(n * nb, np.int64)
    cand = np.empty(n * nb, np.int64)
    wd = np.empty(n * nb, np.int64)
    for v in range(n):
        for k in range(nb):
            t = v * nb + k
            bs[t] = rnd.coordinate_seed(seeds[v], k)
            starts[t] = v * d + offsets[k]
            sz[t] = sizes[k]
            cand[t] = candidates[k]
            wd[t] = width[k]
    return bs, starts, sz, cand, wd


@njit(cache=True)
def _write(index, fixed, width, code, buf, pos):
    """The blocks' codes into ``buf`` from bit ``pos`` (zero from there); returns (buf, pos)."""
    for t in range(index.size):
        buf = ensure(buf, pos + 2 * MAX_LIST_BITS + 16)
        if fixed:
            pos = put_uint(buf, pos, index[t] - 1, width[t])
        else:
            pos = write_int(buf, pos, code, index[t], 0)
    return buf, pos


@njit(cache=True)
def _read(fixed, width, code, buf, pos, end, index):
    """Read index.size blocks' codes from bit ``pos``; returns (status, block, pos)."""
    for t in range(index.size):
        if fixed:
            if pos + width[t] > end:
                return TRUNCATED, t, pos
            index[t] = get_uint(buf, pos, width[t]) + 1
            pos += width[t]
        else:
            st, v, pos = read_int(buf, pos, end, code, 0)
            if st != OK:
                return st, t, pos
            index[t] = v
    return OK, index.size, pos


@njit(cache=True)
def _code_bits(index, fixed, width, code):
    out = np.empty(index.size, np.int64)
    for t in range(index.size):
        if index[t] <= 0:
            out[t] = -1
        elif fixed:
            out[t] = width[t]
        else:
            bl = 0
            v = index[t]
            while v:
                bl += 1
                v >>= 1
            out[t] = code_length(code, bl, 0)
    return out


def _where(t, nb, n):
    v, k = divmod(int(t), nb)
    return f"block {k}" if n == 1 else f"vector {v}, block {k}"


def search_blocks(s, pair, seeds, budget, *, threads=None):
    """Search every block of the len(seeds) vectors of ``pair`` (vector-major rows); returns
    (status, steps, drawn, index, block seeds, starts, sizes), one entry per block. Raises
    KeyboardInterrupt on Ctrl-C; censored blocks are only marked (status CENSORED)."""
    import numba

    bs, starts, sizes, cand, _ = _layout(seeds, s.d, s.offsets, s.sizes, s.candidates, s.width)
    m = bs.size
    status = np.zeros(m, np.int8)
    steps = np.zeros(m, np.int64)
    drawn = np.zeros(m, np.int64)
    index = np.zeros(m, np.int64)
    prm = pair.params
    if threads == 1 or m < 2:
        t = kernels.search_each(s.kernel, pair.family, prm, bs, starts, sizes, cand, budget, status, steps,
                                drawn, index)
        if t >= 0 and status[t] == INTERRUPTED:
            raise KeyboardInterrupt
    else:
        old = numba.get_num_threads()
        if threads is not None:
            numba.set_num_threads(int(threads))
        try:
            dinf = np.add.reduceat(prm[:, 0], starts) if prm.shape[0] else np.zeros(1)
            expect = min(float(budget), float(cand.max()), math.exp(min(float(dinf.max()), 60.0)) + 1.0)
            per = max(1, int(expect * s.block))
            step = max(1, CALL_WORK // per)
            for lo in range(0, m, step):
                hi = min(m, lo + step)
                kernels.search_all(s.kernel, pair.family, prm, bs[lo:hi], starts[lo:hi], sizes[lo:hi],
                                   cand[lo:hi], budget, status[lo:hi], steps[lo:hi], drawn[lo:hi],
                                   index[lo:hi])
        finally:
            numba.set_num_threads(old)
    return status, steps, drawn, index, bs, starts, sizes


@dataclass(eq=False)
class BlockCode:
    """Blocks of n vectors as encoded: per-block arrays have shape (n, nb), the sample (n, shape)."""

    method: str
    block: int
    sample: np.ndarray
    index: np.ndarray  # 1-based candidate index of each block
    steps: np.ndarray  # candidates evaluated
    drawn: np.ndarray  # coordinate draws
    code_bits: np.ndarray
    ideal_bits: np.ndarray  # log2 index
    kl: np.ndarray  # the block's KL (bits)
    dinf: np.ndarray  # the block's D_inf (bits)
    seeds: np.ndarray  # (n,) the vectors' seeds
    option: np.ndarray | None  # (nb,) K per block (ORC, MRC)
    code: str
    status: np.ndarray | None = None  # rec_bench.status per block (only from simulate: write=False)

    @property
    def nbits(self):
        return int(self.code_bits.sum())


def _block_sums(values, n, d, offsets):
    """Sums of per-coordinate values (n * d,) over each block: (n, nb)."""
    v = np.asarray(values, np.float64).reshape(n, d)
    return np.add.reduceat(v, offsets, axis=1) if d else np.zeros((n, 0))


def encode_blocks(sink, q, p, method, seeds, *, block, bits=None, code=None, max_steps=None, threads=None,
                  write=True, _pair=None):
    """Append n vectors, each in blocks of ``block`` coordinates, to ``sink``; returns a BlockCode.

    q and p broadcast to (n, ...) (the first axis runs over vectors, each vector's coordinates are
    the rest in C order; a scalar-parameter pair with ``seeds`` of one is one vector of its shape).
    ``seeds`` (n,): each vector's seed (block k of vector v: ``coordinate_seed(seeds[v], k)``).
    ``bits``: ORC's and MRC's K (one, or one per block); ``code``: PFR's and RS's universal code.
    A block that needs more than ``max_steps`` candidates raises BudgetExceeded (with ``write``
    off, the censored blocks are marked and nothing is written). ``threads``: Numba threads for
    the searches (default: all).
    """
    pair = resolve(q, p) if _pair is None else _pair
    seeds = np.asarray(seeds, np.uint64) if isinstance(seeds, np.ndarray) and seeds.dtype == np.uint64 \
        else check_seeds(seeds, len(seeds))
    n = seeds.size
    rows = pair.params.shape[0]
    if n == 0 and rows == 0 and len(pair.shape) >= 1 and pair.shape[0] == 0:
        d = math.prod(pair.shape[1:])  # an empty batch of vectors
    elif n == 0 or rows % n:
        raise ValueError(f"the pair has {rows} coordinates, not a whole number per vector for {n} seeds")
    else:
        d = rows // n
    m = method if isinstance(method, Method) else method_spec(method)
    check_family(m, pair.family)
    s = block_setup(m, code, bits, d, block)
    budget = step_budget(max_steps)
    if s.value is not None and s.value.size:
        check_budget(m, int(s.value.max()), budget)
    status, steps, drawn, index, bs, starts, sizes = search_blocks(s, pair, seeds, budget, threads=threads)
    bad = np.flatnonzero(status != OK)
    if write and bad.size:
        t = int(bad[0])
        dinf = pair.params[starts[t] : starts[t] + sizes[t], 0].sum() / math.log(2)
        raise BudgetExceeded(f"{m.name} did not finish {_where(t, s.nb, n)} within max_steps={budget} "
                             f"candidates (block D_inf = {dinf:.4g} bits); raise max_steps")
    index[bad] = 0
    x = np.empty(rows)
    kernels.regenerate(pair.family, bs, starts, sizes, index, pair.loc, pair.scale, x)
    fixed, width = s.fixed, np.tile(s.width, n)
    if write:
        _put(sink, index, fixed, width, s.code)
    code_bits = _code_bits(index, fixed, width, s.code)
    with np.errstate(divide="ignore"):
        ideal = np.where(index > 0, np.log2(np.maximum(index, 1)), np.nan)
    from ..pairs import FAMILIES

    module = FAMILIES[pair.family]
    with np.errstate(all="ignore"):
        kl = np.broadcast_to(module.kl(q, p), pair.shape).ravel() / math.log(2)
    shape = (n, s.nb)
    return BlockCode(method=m.name, block=s.block, sample=x.reshape(pair.shape),
                     index=index.reshape(shape), steps=steps.reshape(shape), drawn=drawn.reshape(shape),
                     code_bits=code_bits.reshape(shape), ideal_bits=ideal.reshape(shape),
                     kl=_block_sums(kl, n, d, s.offsets),
                     dinf=_block_sums(pair.params[:, 0] / math.log(2), n, d, s.offsets), seeds=seeds,
                     option=s.value, code=s.code_name, status=status.reshape(shape))


def vector_fields(c, one):
    """A BlockCode's fields as rec_bench.coding.vector.VectorCode takes them (``one``: a single
    vector, whose per-block arrays are (nb,))."""
    index = c.index[0] if one else c.index
    bitlen = np.zeros(index.shape, np.int64)
    pos = index > 0
    bitlen[pos] = np.floor(np.log2(index[pos])).astype(np.int64) + 1
    big = pos & (index >= 2**52)  # log2 rounds up just below a power of two: count the bits exactly
    bitlen[big] = [int(v).bit_length() for v in index[big].tolist()]
    pick = (lambda a: a[0]) if one else (lambda a: a)
    return dict(method=c.method, sample=c.sample, steps=pick(c.steps), index_bits=bitlen,
                code_bits=pick(c.code_bits), ideal_bits=pick(c.ideal_bits), code=c.code, option=c.option,
                index_model=None, _index_source=index, block=c.block)


def _put(sink, index, fixed, width, code):
    if isinstance(sink, BitSink):
        sink.buf, sink.pos = _write(index, fixed, width, code, sink.buf, sink.pos)
        return
    tmp = np.zeros(16, np.uint8)
    tmp, nbits = _write(index, fixed, width, code, tmp, 0)
    if not fixed:  # universal codes: their total length first (Elias delta of nbits + 1)
        put_universal(sink, nbits + 1, ELIAS_DELTA)
    sink.put_bits(tmp[: (nbits + 7) >> 3], nbits)


def decode_blocks(source, p, n, method, seeds, *, shape, block, bits=None, code=None):
    """The n vectors (array (n, *shape)) that :func:`encode_blocks` appended, read from ``source``
    (a BitSource at the vectors' first bit, or an entropy coder's source), knowing only P, the
    method with its options, the block size and the seeds. A malformed code raises ValueError."""
    seeds = np.asarray(seeds, np.uint64) if isinstance(seeds, np.ndarray) and seeds.dtype == np.uint64 \
        else check_seeds(seeds, n)
    if seeds.size != n:
        raise ValueError(f"seeds must be one per vector, {n}, got {seeds.size}")
    shape = tuple(shape)
    d = math.prod(shape)
    s = block_setup(method, code, bits, d, block)
    m_blocks = n * s.nb
    fam, loc, scale = proposal_family(p, (n, *shape))
    width = np.tile(s.width, n)
    if isinstance(source, BitSource):
        if m_blocks * s.min_bits > source.bits_left():
            raise ValueError(f"truncated code: {m_blocks} blocks need at least {m_blocks * s.min_bits} bits, "
                             f"the data holds {source.bits_left()}")
        index = np.empty(m_blocks, np.int64)
        st, t, source.pos = _read(s.fixed, width, s.code, source.buf, source.pos, source.end, index)
        if st != OK:
            raise ValueError(ERRORS[st].format(where=_where(t, s.nb, n)))
    else:
        total = int(width.sum()) if s.fixed else get_universal(source, ELIAS_DELTA, source.capacity) - 1
        if not s.fixed and total < m_blocks:
            raise ValueError(f"corrupted stream: {m_blocks} blocks' codes announced in {total} bits")
        packed = source.get_bits(total)
        buf = np.zeros(packed.size + 8, np.uint8)
        buf[: packed.size] = packed
        index = np.empty(m_blocks, np.int64)
        st, t, pos = _read(s.fixed, width, s.code, buf, 0, total, index)
        if st != OK:
            raise ValueError(ERRORS[st].format(where=_where(t, s.nb, n)))
        if pos != total:
            raise ValueError(f"corrupted stream: the blocks' codes take {pos} bits, {total} were announced")
    if np.any(index <= 0) or np.any(index >= 2**63 - 1):
        t = int(np.flatnonzero((index <= 0) | (index >= 2**63 - 1))[0])
        raise ValueError(ERRORS[INDEX_TOO_LARGE].format(where=_where(t, s.nb, n)))
    bs, starts, sizes, _, _ = _layout(seeds, d, s.offsets, s.sizes, s.candidates, s.width)
    x = np.empty(n * d)
    kernels.regenerate(fam, bs, starts, sizes, index, loc, scale, x)
    return x.reshape((n, *shape))


def decode_block_bits(data, p, method, seed, *, shape, block, bits=None, code=None):
    """One vector's block code (bytes, padded once) back into its sample."""
    source = BitSource(data)
    x = decode_blocks(source, p, 1, method, np.array([check_seed(seed)], np.uint64), shape=shape, block=block,
                      bits=bits, code=code)
    source.finish()
    return x.reshape(shape)


