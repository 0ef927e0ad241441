"""Vectors: a factorised target in one bit string.

A latent of a learned model is a vector: Q = Q_1 x ... x Q_d against P = P_1 x ... x P_d, each
coordinate a supported pair. :func:`encode_vector` codes every coordinate with one method inside
one compiled call, coordinate i with the seed ``coordinate_seed(seed, i)`` (so it is exactly the
scalar message ``rb.encode(q_i, p_i, method, coordinate_seed(seed, i))``), and writes the
coordinates' codes one after the other, bit by bit, padded once at the end.
:func:`decode_vector` reads them back knowing only P, the method and the seed.

With an :class:`IndexModel` the vector goes through constriction's range coder instead (the
layout of :func:`put_model_vector`; docs/streams.md): the depth symbols of its coordinates, the
escapes' universal codes, then its path bits, framed as a stream of one vector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..methods import method_spec
from ..pairs import proposal_family, resolve
from .rows import run_decode, run_encode
from .codes import NAMES, PATH, get_universal, put_universal
from .blocks import check_block, decode_block_bits, encode_blocks, vector_fields
from .index_model import IndexModel
from .seeds import check_seed
from .setup import check_budget, check_family, check_rows, setup, step_budget, vector_shape
from .sinks import CHUNK, BitSink, BitSource, ByteReader, RangeSink, RangeSource, varint

__all__ = ["VectorCode", "encode_vector", "decode_vector"]

_NO_DEPTHS = np.zeros(0, np.int64)


@dataclass(eq=False, slots=True)
class VectorCode:
    """One encoded vector: per-coordinate arrays have the vector's shape (with ``block`` = b, the
    vector is coded in blocks of b coordinates, rec_bench.coding.blocks, and ``steps``,
    ``index_bits``, ``code_bits``, ``ideal_bits`` and ``option`` have one entry per block).

    ``bits`` is the code of the whole vector, padded once at its end (None for a vector appended to
    a stream: its bits are in the stream). ``nbits`` is its real length: the coordinates' codes
    added up (universal and fixed-length codes), or, with an index model, the whole range-coded
    message with its header and the coder's final flush (8 * len(bits); None inside a stream, where
    a range coder gives no message whole bits of its own). ``code_bits`` is each coordinate's code
    length: an integer for the universal and fixed codes, the model's information content (depth
    symbol, escape code and path bits) with an index model.
    """

    method: str
    bits: bytes | None
    nbits: int | None
    sample: np.ndarray
    steps: np.ndarray
    index_bits: np.ndarray  # bit length of each coordinate's index (tree methods: depth + 1)
    code_bits: np.ndarray
    ideal_bits: np.ndarray  # log2 of each index
    seed: "int | np.ndarray"  # the vector's seed (an array of one per vector from encode_many)
    code: str  # elias-delta, elias-gamma or fixed; with an index model, the escapes' code
    option: np.ndarray | None = None  # depth D (DAD*) or K (ORC, MRC) per coordinate
    index_model: "IndexModel | None" = None  # set when the index is model-coded
    _index_source: tuple = field(default=(), repr=False)  # (bytes, end of each index, ORC/MRC?)
    block: int | None = None  # coordinates per message (rec_bench.coding.blocks); None: one each

    @property
    def shape(self):
        return self.sample.shape

    @property
    def index(self):
        """Each coordinate's index as a Python int (an object array): heap index (tree methods) or
        1-based candidate index (list methods). Heap indices may be far past 64 bits. With
        ``block``: one candidate index per block (shape (blocks,), or (n, blocks))."""
        if self.block is not None:
            return np.array(self._index_source.tolist(), dtype=object).reshape(self._index_source.shape)
        data, ends, fixed_list = self._index_source
        if not isinstance(ends, np.ndarray):  # (offset, code lengths): ends made when first asked for
            ends = ends[0] + np.cumsum(ends[1])
        total = 8 * len(data)
        big = int.from_bytes(data, "big")
        out = np.empty(self.sample.size, dtype=object)
        m = method_spec(self.method)
        for i, (end, bitlen) in enumerate(zip(ends.tolist(), self.index_bits.ravel().tolist())):
            if fixed_list:  # a fixed-length candidate index (ORC, MRC): the code is index - offset
                w = m.width(int(self.option.ravel()[i]))
                out[i] = ((big >> (total - end)) & ((1 << w) - 1)) + m.index_offset
            else:  # the code (or the model-coded path) ends with the index's bits below its top bit
                low = (big >> (total - end)) & ((1 << (bitlen - 1)) - 1)
                out[i] = (1 << (bitlen - 1)) | low
        return out.reshape(self.sample.shape)

    @property
    def bitstring(self):
        """The code as a '0'/'1' string of length ``nbits`` (None inside a stream)."""
        if self.bits is None:
            return None
        return "".join(map(str, np.unpackbits(np.frombuffer(self.bits, np.uint8), count=self.nbits)))

    def __len__(self):
        return self.sample.size


# ---- the model-coded layout of one vector --------------------------------------------------------

def put_model_vector(sink, model, depths, packed, nbits, escape):
    """One vector through an entropy coder's ``sink``: the d depth symbols min(depth, K), each
    escape's universal code of depth - K + 1 (in coordinate order), then the vector's path bits
    (``nbits`` of them, packed from a 16-bit boundary) as 16-bit uniform symbols."""
    k = model.size
    sink.put_symbols(np.minimum(depths, k), model.categorical)
    for t in depths[depths >= k].tolist():
        put_universal(sink, int(t) - k + 1, escape)
    sink.put_bits(packed, nbits)


def get_model_vector(source, model, d, escape, dad_depth=None):
    """(depths, packed path bits, their number) of the next vector of d coordinates."""
    k = model.size
    depths = source.get_symbols(d, model.categorical)
    for i in np.flatnonzero(depths == k).tolist():
        t = k - 1 + get_universal(source, escape, source.capacity)
        if t > source.capacity:
            raise ValueError("corrupted stream: an escaped depth is longer than the stream")
        depths[i] = t
    if dad_depth is not None and np.any(depths > dad_depth):
        i = int(np.flatnonzero(depths > dad_depth)[0])
        raise ValueError(f"corrupted stream: the depth {depths[i]} of coordinate {i} exceeds DAD*'s depth "
                         f"{dad_depth[i]}")
    nbits = int(depths.sum())
    return depths, source.get_bits(nbits), nbits


def model_frame(count, words):
    """A model-coded stream's bytes: varint count of vectors, varint count of 32-bit words, the words."""
    return varint(count) + varint(words.size) + words.astype(">u4").tobytes()


def read_model_frame(data):
    """(count, RangeSource) of a model-coded stream's bytes."""
    r = ByteReader(data, "stream")
    n = r.varint("vector count")
    nwords = r.varint("word count")
    if r.left() != 4 * nwords:
        kind = "truncated" if r.left() < 4 * nwords else "corrupted"
        raise ValueError(f"{kind} stream: its header announces {nwords} 32-bit words ({4 * nwords} bytes), "
                         f"{r.left()} bytes follow")
    return n, RangeSource(np.frombuffer(r.rest(), ">u4").astype(np.uint32))


# ---- encoding ---------------------------------------------------------------------------------------

def encode_into(sink, pair, s, seeds, budget):
    """Append len(seeds) vectors (the rows of ``pair``, in order) to ``sink`` (a BitSink, or an
    entropy coder's sink with ``s.index_model``); returns the VectorCode's fields."""
    check_family(s.method, pair.family)
    if s.value is not None and s.value.size:
        check_budget(s.method, int(s.value.max()), budget)
    n = seeds.size
    d = pair.params.shape[0] // n if n else 0
    model = s.index_model
    if model is None:
        pos0 = sink.pos
        out, sink.buf, sink.pos = run_encode(s.method, pair.family, pair.params, pair.loc, pair.scale, seeds,
                                             d, True, budget, s.option, s.width, s.code, buf=sink.buf,
                                             pos=sink.pos)
        first = pos0 >> 3  # the vectors' own bytes, for ``VectorCode.index``
        source = (sink.buf[first : (sink.pos + 7) >> 3].tobytes(), (pos0 - 8 * first, out.code_bits),
                  s.method.fixed and not s.method.tree)
        code_bits = out.code_bits
    else:
        out, buf, pos = run_encode(s.method, pair.family, pair.params, pair.loc, pair.scale, seeds, d, True,
                                    budget, s.option, s.width, PATH, align=CHUNK)
        depths = out.index_bits - 1
        start = 0
        ends = np.empty(depths.size, np.int64)
        for j in range(n):
            part = depths[j * d : (j + 1) * d]
            nbits = int(part.sum())
            put_model_vector(sink, model, part, buf[start >> 3 : (start + nbits + 7) >> 3], nbits, s.escape)
            ends[j * d : (j + 1) * d] = start + np.cumsum(part)
            start = (start + nbits + CHUNK - 1) // CHUNK * CHUNK
        code_bits = model.information(depths, NAMES[s.escape])
        source = (buf[: (pos + 7) >> 3].tobytes(), ends, False)
    shape = pair.shape
    if len(shape) == 1:  # the rows are the vector already
        return dict(method=s.method.name, sample=out.x, steps=out.steps, index_bits=out.index_bits,
                    code_bits=code_bits, ideal_bits=out.ideal, code=s.code_name, option=s.value,
                    index_model=model, _index_source=source)
    return dict(method=s.method.name, sample=out.x.reshape(shape), steps=out.steps.reshape(shape),
                index_bits=out.index_bits.reshape(shape), code_bits=code_bits.reshape(shape),
                ideal_bits=out.ideal.reshape(shape), code=s.code_name,
                option=None if s.value is None else s.value.reshape(shape), index_model=model,
                _index_source=source)


def new_sink(index_model, rows_hint=16):
    return BitSink(max(16, 2 * rows_hint)) if index_model is None else RangeSink()


def encode_vector(q, p, method="ad*", seed=0, *, max_steps=None, code=None, depth=None, bits=None,
                  index_model=None, block=None, _pair=None):
    """Encode one sample of the factorised target Q = prod_i Q_i against P = prod_i P_i.

    ``q`` and ``p`` are distributions with array parameters (broadcast against each other; the
    vector is their broadcast shape, coordinates in C order). Coordinate i is coded as the scalar
    message of seed ``coordinate_seed(seed, i)``; the codes follow each other bit by bit and the
    whole is padded once, with zeros, to a whole byte. ``depth`` (DAD*) and ``bits`` (ORC, MRC)
    may be arrays: one value per coordinate. ``index_model`` (an :class:`IndexModel`) codes each
    index's depth with that model instead of the universal ``code`` (which then codes the
    escapes). A coordinate that needs more than ``max_steps`` steps raises BudgetExceeded.
    ``block=b`` (PFR, RS, ORC, MRC) codes b consecutive coordinates as one message
    (rec_bench.coding.blocks; ``bits`` then is K per block); ``block=1`` is the default code.
    Returns a :class:`VectorCode`.
    """
    seed = check_seed(seed)
    pair = resolve(q, p) if _pair is None else _pair
    b = check_block(method, block)
    if b is not None:
        check_block_options(method, depth, index_model)
        sink = BitSink(max(16, pair.params.shape[0]))
        c = encode_blocks(sink, q, p, method, np.array([seed], np.uint64), block=b, bits=bits, code=code,
                          max_steps=max_steps, _pair=pair)
        return VectorCode(bits=sink.data(), nbits=sink.pos, seed=int(seed), **vector_fields(c, True))
    check_model(index_model)
    s = setup(method, code, depth, bits, pair.shape, index_model)
    budget = step_budget(max_steps)
    sink = new_sink(index_model, pair.params.shape[0])
    fields = encode_into(sink, pair, s, np.array([seed], np.uint64), budget)
    if index_model is None:
        return VectorCode(bits=sink.data(), nbits=sink.pos, seed=int(seed), **fields)
    data = model_frame(1, sink.words())
    return VectorCode(bits=data, nbits=8 * len(data), seed=int(seed), **fields)


def check_block_options(method, depth, index_model):
    """Refuse the options that block messages do not take."""
    if depth is not None:
        raise ValueError(f"{method_spec(method).name} takes no depth= option")
    if index_model is not None:
        raise ValueError("block messages send one candidate index per block (a fixed K bits, or a universal "
                         "code); an index model codes per-coordinate depths: use block=1 with it")


def check_model(index_model):
    if index_model is not None and not isinstance(index_model, IndexModel):
        raise ValueError(f"index_model must be an IndexModel, got {type(index_model).__name__}")


# ---- decoding ---------------------------------------------------------------------------------------

def check_size(source, n, d, index_model, s=None):
    """Refuse n vectors of d coordinates that ``source`` cannot hold, before anything is allocated:
    every coordinate's code has at least one bit (``s.min_bits`` once its setup is known), and a
    model-coded depth at least the table's least cost."""
    if isinstance(source, BitSource):
        check_rows(n * d, source.bits_left(), 1 if s is None else s.min_bits)
    elif n * d:
        check_rows(n * d, source.capacity, index_model.min_symbol_bits, "stream")


def decode_from(source, p, s, seeds, shape, d):
    """Read len(seeds) vectors of d coordinates from ``source`` (together of ``shape``)."""
    n = seeds.size
    check_size(source, n, d, s.index_model, s)
    fam, loc, scale = proposal_family(p, shape)
    if isinstance(source, BitSource):
        x, source.pos = run_decode(s.method, fam, loc, scale, seeds, d, True, s.width, s.code, _NO_DEPTHS,
                                    source.buf, source.pos, source.end)
        return x.reshape(shape)
    dad = s.option if s.method.option is not None and s.method.tree else None
    parts, start = [], 0
    depths = np.empty(n * d, np.int64)
    for j in range(n):
        dj, packed, nbits = get_model_vector(source, s.index_model, d, s.escape,
                                             None if dad is None else dad[j * d : (j + 1) * d])
        depths[j * d : (j + 1) * d] = dj
        parts.append((start, packed, nbits))
        start = (start + nbits + CHUNK - 1) // CHUNK * CHUNK
    buf = np.zeros((start >> 3) + 2, np.uint8)
    for at, packed, nbits in parts:
        buf[at >> 3 : (at >> 3) + packed.size] = packed
    x, _ = run_decode(s.method, fam, loc, scale, seeds, d, True, s.width, PATH, depths, buf, 0, 8 * buf.size,
                       align=CHUNK)
    return x.reshape(shape)


def decode_vector(data, p, method=None, seed=None, *, shape=None, code=None, depth=None, bits=None,
                  index_model=None, block=None):
    """The vector encoded in ``data`` (bytes, or a :class:`VectorCode`), knowing only P and the seed.

    ``shape`` is the vector's shape; it defaults to the proposal's (pass it when P has scalar
    parameters shared by every coordinate). Method, seed, code, options and index model must be
    the encoder's: those left None are taken from a :class:`VectorCode` passed as ``data``, and
    otherwise must be given (method and seed; the code defaults to the method's, the model to
    none). A truncated or malformed code, or anything after it but fewer than 8 zero padding bits,
    raises ValueError. ``block`` must be the encoder's (taken from a VectorCode).
    """
    if isinstance(data, VectorCode):
        c = data
        if c.bits is None:
            raise ValueError("this VectorCode was appended to a stream: decode the stream with StreamDecoder")
        block = c.block if block is None else block
        method = c.method if method is None else method
        seed = c.seed if seed is None else seed
        code = (None if c.code == "fixed" else c.code) if code is None else code
        index_model = c.index_model if index_model is None else index_model
        opt = method_spec(method).option
        opt = None if opt is None else opt.name
        depth = c.option if opt == "depth" and depth is None else depth
        bits = c.option if opt == "bits" and bits is None else bits
        shape = c.shape if shape is None else shape
        data = c.bits
    if method is None or seed is None:
        raise ValueError("decode_vector needs the method and the seed the vector was encoded with")
    shape = vector_shape(p, shape)
    b = check_block(method, block)
    if b is not None:
        check_block_options(method, depth, index_model)
        return decode_block_bits(data, p, method, seed, shape=shape, block=b, bits=bits, code=code)
    seeds = np.array([check_seed(seed)], np.uint64)
    check_model(index_model)
    d = math.prod(shape)
    if index_model is None:
        source = BitSource(data)
        check_size(source, 1, d, None)
        x = decode_from(source, p, setup(method, code, depth, bits, shape, None), seeds, shape, d)
        source.finish()
        return x
    count, source = read_model_frame(data)
    if count != 1:
        raise ValueError("corrupted code: a vector's model-coded stream holds one vector, this one "
                         f"announces {count}")
    check_size(source, 1, d, index_model)
    x = decode_from(source, p, setup(method, code, depth, bits, shape, index_model), seeds, shape, d)
    if not source.exhausted():
        raise ValueError("corrupted stream: data follows its last vector")
    return x

