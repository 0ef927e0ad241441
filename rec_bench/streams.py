"""Vectors and streams: a factorised target in one bit string, many of them in one stream.

A latent of a learned model is a vector: Q = Q_1 x ... x Q_d against P = P_1 x ... x P_d, each
coordinate a supported pair. :func:`encode_vector` codes every coordinate with one method inside
one compiled call, coordinate i with the seed ``randomness.coordinate_seed(seed, i)`` (so it is
exactly the scalar message ``rb.encode(q_i, p_i, method, coordinate_seed(seed, i))``), and writes
the coordinates' codes one after the other, bit by bit, padded once at the end.
:func:`decode_vector` reads them back knowing only P, the method and the seed.

:class:`StreamEncoder` / :class:`StreamDecoder` append many vectors to one stream and read them
back in order, with one padding for the whole stream (the shape of constriction's stream coders:
``encode`` appends, ``get_compressed`` returns the data, a decoder reads in the same order).

With an :class:`IndexModel` (tree methods, PFR and RS), the index is not sent with a universal
code: the returned node's depth (the index's bit length minus one) is entropy coded with a
categorical model that both sides know, its path bits are sent verbatim as uniform symbols, and
depths past the model's table escape to Elias delta (or gamma). Everything then goes through one
constriction range coder. See docs/streams.md for the exact layouts.
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import codes as C
from . import randomness as rnd
from .codecs import BudgetExceeded, _seed, step_budget
from .methods import check_family, method_spec, resolve_options
from .pairs import FAMILIES, resolve
from .search import tree
from .search import vector as V

__all__ = [
    "VectorCode", "encode_vector", "decode_vector", "StreamEncoder", "StreamDecoder", "IndexModel",
    "coordinate_seed", "message_seed",
]

_CODE_NAMES = {C.ELIAS_GAMMA: "elias-gamma", C.ELIAS_DELTA: "elias-delta"}
_WS = [None]  # the tree workspace, reused across calls (compiled code holds the GIL)
_CHUNK = 16  # path bits go through the range coder as uniform symbols of up to 16 bits


def coordinate_seed(seed, i):
    """The seed of coordinate ``i`` (0-based) of a vector coded with ``seed`` (a Python int)."""
    return int(rnd.coordinate_seed(_seed(seed), int(i)))


def message_seed(seed, j):
    """The seed of vector ``j`` (0-based) of a stream whose seed is ``seed`` (a Python int)."""
    return int(rnd.message_seed(_seed(seed), int(j)))


def _workspace():
    if _WS[0] is None:
        _WS[0] = tree.new_workspace(1024)
    return _WS[0]


# ---------------------------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class _Setup:
    """What both sides must agree on for one vector: method, code and per-coordinate options."""

    method: object  # codecs.Method
    code: int  # compiled code id (codes.ELIAS_*, codes.FIXED, vector.PATH)
    code_name: str  # elias-delta, elias-gamma or fixed (with a model: the escapes' universal code)
    option: np.ndarray  # (d,) int64: batch.run_one's option
    width: np.ndarray  # (d,) int64: a fixed-length code's width
    value: np.ndarray | None  # (d,) the user's depth or bits, or None
    escape: int  # the universal code of a model's escapes
    model: bool  # the index is model-coded


_SETUPS = {}  # setups without per-coordinate options, by (method, code, shape, model identity)


def _setup(method, code, depth, bits, shape, index_model):
    key = None
    if depth is None and bits is None and isinstance(method, str) and isinstance(code, str):
        key = (method, code, shape, id(index_model))
        hit = _SETUPS.get(key)
        if hit is not None and hit[1] is index_model:
            return hit[0]
    setup = _make_setup(method, code, depth, bits, shape, index_model)
    if key is not None:
        if len(_SETUPS) > 256:
            _SETUPS.clear()
        _SETUPS[key] = (setup, index_model)
    return setup


def _make_setup(method, code, depth, bits, shape, index_model):
    m = method_spec(method)
    d = math.prod(shape)
    if m.option is None:
        r = resolve_options(m, code, depth, bits)
        opt = np.full(d, r.kernel_option, np.int64)
        width = np.zeros(d, np.int64)
        value = None
        code_id, code_name = r.coder.id, r.coder.name
    else:
        name = m.option.name
        given = {"depth": depth, "bits": bits}[name] if name in ("depth", "bits") else None
        if given is None:
            resolve_options(m, code, depth, bits)  # raises the scalar codec's message
        try:
            arr = np.broadcast_to(np.asarray(given), shape)
        except ValueError:
            raise ValueError(
                f"{m.name}'s {name} has shape {np.shape(given)}, which does not broadcast to the "
                f"vector's shape {shape}"
            ) from None
        if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
            raise ValueError(f"{m.name}'s {name} must be integers, got {given!r}")
        for v in np.unique(arr):  # each distinct value checked as the scalar codec checks it
            resolve_options(m, code, **{"depth": None, "bits": None, name: v})
        value = np.ascontiguousarray(arr.ravel().astype(np.int64))
        opt = np.array([m.kernel_option(int(v)) for v in value], np.int64)
        width = np.array([m.width(int(v)) for v in value], np.int64)
        code_id, code_name = C.FIXED, "fixed"
    escape = C.ELIAS_DELTA
    if index_model is not None:
        if not isinstance(index_model, IndexModel):
            raise ValueError(f"index_model must be an IndexModel, got {type(index_model).__name__}")
        if m.option is not None and not m.tree:
            raise ValueError(f"{m.name} sends a fixed-length candidate index; an index model codes the depth "
                             "of a tree node or the bit length of a candidate index of an exact method")
        escape = C.universal("elias-delta" if code is None else code).id if m.option is None else C.ELIAS_DELTA
        code_id = V.PATH
    return _Setup(m, code_id, code_name, opt, width, value, escape, index_model is not None)


def _proposal(p, shape):
    """(family, loc, scale) of the proposal alone, broadcast to ``shape``: all a decoder knows."""
    for fam, module in enumerate(FAMILIES):
        if type(p) is module.PROPOSAL:
            loc, scale = module.proposal_map(p)
            if loc.shape != shape:
                try:
                    fits = np.broadcast_shapes(loc.shape, shape) == shape
                except ValueError:
                    fits = False
                if not fits:
                    raise ValueError(f"the proposal's parameters (shape {loc.shape}) do not broadcast to the "
                                     f"vector's shape {shape}")
            return fam, _flat(loc, shape), _flat(scale, shape)
    names = ", ".join(sorted({m.PROPOSAL.__name__ for m in FAMILIES}))
    raise ValueError(f"unsupported proposal {type(p).__name__}; supported proposals: {names}")


def _flat(a, shape):
    """A fresh, writable, contiguous float64 copy of ``a`` broadcast to ``shape``, raveled."""
    if a.shape == shape:
        return np.array(a, np.float64).ravel()
    if a.ndim == 0:
        return np.full(math.prod(shape), float(a))
    return np.array(np.broadcast_to(a, shape), np.float64).ravel()


def _shape(p, shape):
    if shape is None:
        shape = getattr(p, "shape", ())
        if shape == ():
            raise ValueError("the proposal has scalar parameters: pass shape=(d,), the shape of the encoded vector")
    dims = list(shape) if isinstance(shape, (tuple, list)) else [shape]
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) and s >= 0 for s in dims):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    return tuple(int(s) for s in dims)


# ---------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, eq=False)
class VectorCode:
    """One encoded vector: per-coordinate arrays have the vector's shape.

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
    _index_source: tuple = field(default=(), repr=False)  # (bytes, ends of each index, ORC/MRC?)

    @property
    def shape(self):
        return self.sample.shape

    @property
    def index(self):
        """Each coordinate's index as a Python int (an object array): heap index (tree methods) or
        1-based candidate index (list methods). Heap indices may be far past 64 bits."""
        data, ends, fixed_list = self._index_source
        total = 8 * len(data)
        big = int.from_bytes(data, "big")
        out = np.empty(self.sample.size, dtype=object)
        for i, (end, bitlen) in enumerate(zip(ends.tolist(), self.index_bits.ravel().tolist())):
            if fixed_list:  # a fixed-length candidate index (ORC, MRC): the code is index - offset
                m = method_spec(self.method)
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
        return C.unpack(self.bits)[: self.nbits]

    def __len__(self):
        return self.sample.size


# ---------------------------------------------------------------------------------------------
# the index model


class IndexModel:
    """A categorical model of the returned index's depth (its bit length minus one).

    ``weights`` has K + 1 entries, proportional to P(depth = t) for t = 0 .. K - 1, then to the
    escape symbol's probability (a depth of K or more, sent as K - 1 + n with n >= 1 in a universal
    code); ``probabilities`` is the normalised table. Both sides build the same constriction
    ``Categorical(weights, perfect=False)`` from the same float64 weights (constriction normalises
    and quantises them), so the table (``to_json``/``from_json``, ``save``/``load``) is all they
    share. A model that fits badly costs bits, never correctness.
    """

    FORMAT = "rec_bench.index_model"

    def __init__(self, weights, **meta):
        w = np.array(weights, dtype=np.float64).ravel()
        if w.size < 2 or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError("an index model needs at least 2 finite non-negative weights with a positive sum")
        if w.sum() < np.finfo(np.float64).tiny:  # constriction cannot normalise a subnormal total
            raise ValueError(f"an index model's weights must sum to a normal float64 (>= 2.2e-308), got "
                             f"{w.sum():g}: scale them up")
        self.weights = w
        self.probabilities = w / w.sum()
        self._cost = -np.log2(np.maximum(self.probabilities, 2.0**-24))  # bits per symbol
        self.meta = dict(meta)
        self._categorical = None

    @property
    def size(self):
        """K: the number of depths the table covers (0 .. K - 1)."""
        return self.probabilities.size - 1

    @property
    def categorical(self):
        if self._categorical is None:
            import constriction

            self._categorical = constriction.stream.model.Categorical(self.weights, perfect=False)
        return self._categorical

    def __eq__(self, other):
        return isinstance(other, IndexModel) and np.array_equal(self.weights, other.weights)

    __hash__ = None

    def __repr__(self):
        meta = ", ".join(f"{k}={v!r}" for k, v in self.meta.items())
        return f"IndexModel(K={self.size}{', ' if meta else ''}{meta})"

    # ---- building
    @classmethod
    def fit(cls, depths, *, pseudo_count=0.5, **meta):
        """The table of observed ``depths``: counts plus ``pseudo_count`` for every depth up to the
        largest seen, and the escape symbol weighted as ``pseudo_count`` observations."""
        d = np.asarray(depths)
        if d.size == 0 or d.dtype.kind not in "iu" or np.any(d < 0):
            raise ValueError("fit needs a non-empty array of non-negative integer depths")
        counts = np.bincount(d.ravel()).astype(np.float64)
        return cls(np.append(counts + pseudo_count, pseudo_count), **{"n": int(d.size), **meta})

    @classmethod
    def from_pairs(cls, q, p, method="ad*", *, seed=0, depth=None, max_steps=None, **meta):
        """Fit the depths that ``method`` returns on the coordinates of (q, p), one message each."""
        depths = _simulate_depths(q, p, method, seed, depth, max_steps)
        return cls.fit(depths, method=method_spec(method).name, seed=int(seed), **meta)

    @classmethod
    def for_kl(cls, kl_bits, method="ad*", *, n=100_000, seed=0, depth=None):
        """The model for a KL budget of ``kl_bits`` per coordinate, by simulation on n posteriors of
        the Gaussian channel at I = kl_bits (``rb.gaussian_channel(kl_bits, n, seed)``: N(mu, 2^-2I)
        against N(0, 1), mean KL I). Shipped tables (AS*, AD* at KL 1, 2, 3.4, 5, 8 with the default
        n and seed) are loaded instead of simulated; the simulation gives them back exactly."""
        m = method_spec(method)
        key = (m.name, float(kl_bits), int(n), int(seed), depth)
        for table in _builtin_tables():
            meta = table.meta
            if (meta.get("method"), meta.get("kl_bits"), meta.get("n"), meta.get("seed"), meta.get("depth")) == key:
                return table
        return _simulate_for_kl(kl_bits, m.name, n, seed, depth)

    # ---- using
    def information(self, depths, code="elias-delta"):
        """Bits per coordinate of the model-coded index: -log2 P(symbol), the escape's universal
        code, and the path bits (the depth itself). Uses the float table with probabilities floored
        at 2^-24, as the coder does with its 24-bit quantised table (which differs from the float
        table in about the 24th bit)."""
        d = np.asarray(depths, dtype=np.int64)
        k = self.size
        bits = self._cost[np.minimum(d, k)] + d
        esc = d >= k
        if np.any(esc):
            lens = np.array([len(C.universal(code).encode(int(v))) for v in (d[esc] - k + 1).ravel()])
            bits[esc] += lens.reshape(bits[esc].shape)
        return bits

    # ---- serialising
    def to_dict(self):
        return {"format": self.FORMAT, "version": 1, **self.meta, "weights": self.weights.tolist()}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict) or d.get("format") != cls.FORMAT:
            raise ValueError(f"not an index model: expected a mapping with format {cls.FORMAT!r}")
        if "weights" not in d:
            raise ValueError("not an index model: no weights")
        meta = {k: v for k, v in d.items() if k not in ("format", "version", "weights")}
        return cls(d["weights"], **meta)

    def to_json(self):
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise ValueError(f"not an index model: {e}") from None

    def save(self, path):
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path):
        return cls.from_json(Path(path).read_text())


_TABLES_FILE = Path(__file__).resolve().parent / "tables" / "index_models.json"
_TABLES = []
BUILTIN_KLS = (1.0, 2.0, 3.4, 5.0, 8.0)
BUILTIN_METHODS = ("as*", "ad*")


def _builtin_tables():
    if not _TABLES and _TABLES_FILE.exists():
        _TABLES.extend(IndexModel.from_dict(d) for d in json.loads(_TABLES_FILE.read_text()))
    return _TABLES


def _simulate_depths(q, p, method, seed, depth, max_steps):
    setup_pair = resolve(q, p)
    m = method_spec(method)
    setup = _setup(m.name, None, depth, None, setup_pair.shape, None)
    _, _, _, _, _, index_bits, _, _ = _run_encode(setup, setup_pair, np.array([_seed(seed)], np.uint64),
                                                  setup_pair.params.shape[0], step_budget(max_steps), V.PATH,
                                                  np.zeros(64, np.uint8), 0)
    return index_bits - 1


def _simulate_for_kl(kl_bits, method, n, seed, depth):
    from .pairs import gaussian_channel

    q, p = gaussian_channel(kl_bits, n, seed)
    depths = _simulate_depths(q, p, method, seed, depth, None)
    return IndexModel.fit(depths, method=method, kl_bits=float(kl_bits), n=int(n), seed=int(seed), depth=depth,
                          construction="gaussian_channel")


def write_builtin_tables(path=_TABLES_FILE):
    """Regenerate the shipped tables (``python -c 'import rec_bench.streams as s; s.write_builtin_tables()'``)."""
    tables = [_simulate_for_kl(k, m, 100_000, 0, None).to_dict() for m in BUILTIN_METHODS for k in BUILTIN_KLS]
    Path(path).parent.mkdir(exist_ok=True)
    Path(path).write_text(json.dumps(tables, indent=1) + "\n")
    _TABLES.clear()


# ---------------------------------------------------------------------------------------------
# encoding


def _where(row, d, n):
    """Where a row of a batch of n vectors of d coordinates sits, for error messages."""
    if n == 1:
        return f"coordinate {row}"
    return f"vector {row // d}, coordinate {row % d}"


def _run_encode(setup, pair, seeds, d, budget, code, buf, pos):
    """The compiled encoder over len(seeds) vectors of d coordinates; raises BudgetExceeded.

    Returns (pos, buf, x, steps, drawn, index_bits, code_bits, ideal), arrays of one entry per row.
    """
    st, row, pos, buf, ws, x, steps, drawn, index_bits, code_bits, ideal = V.encode(
        setup.method.id, setup.method.tree, setup.method.index_offset, pair.family, pair.params, pair.loc, pair.scale, seeds, d, budget, setup.option,
        setup.width, code, buf, pos, _workspace()
    )
    _WS[0] = ws
    if st == V.INTERRUPTED:
        raise KeyboardInterrupt
    if st != V.OK:
        raise BudgetExceeded(
            f"{setup.method.name} did not finish {_where(row, d, seeds.size)} within max_steps={budget} steps "
            f"(D_inf = {pair.params[row, 0] / math.log(2):.4g} bits); raise max_steps"
        )
    return pos, buf, x, steps, drawn, index_bits, code_bits, ideal


def _seeds(seeds, n):
    """A uint64 array of n seeds, each validated like a scalar seed."""
    if isinstance(seeds, np.ndarray):
        if seeds.dtype.kind not in "iuO":
            raise ValueError(f"seeds must be integers, got dtype {seeds.dtype}")
        shape, values = seeds.shape, seeds.tolist()
    else:
        values = list(seeds)
        shape = (len(values),)
    if shape != (n,):
        raise ValueError(f"seeds must be one per vector, shape ({n},), got shape {shape}")
    return np.array([_seed(s) for s in values], np.uint64)


def _int_bits(v, nbits):
    """The nbits-bit binary form of the int v, most significant first, as a 0/1 uint8 array."""
    return np.frombuffer(format(v, f"0{nbits}b").encode(), np.uint8) - np.uint8(48)


class _BitSink:
    """A growing bit buffer (uint8, most significant bit first), zero past ``pos``."""

    def __init__(self, nbytes=64):
        self.buf = np.zeros(nbytes, np.uint8)
        self.pos = 0

    def data(self):
        return self.buf[: (self.pos + 7) >> 3].tobytes()


class _ModelSink:
    """A constriction range encoder with the model-coded index's symbol layout (docs/streams.md)."""

    def __init__(self):
        import constriction

        self.coder = constriction.stream.queue.RangeEncoder()
        self.uniform = constriction.stream.model.Uniform()
        self.bit = constriction.stream.model.Uniform(2)
        self.count = 0

    def bits(self, b):
        """Send the bits ``b`` (a 0/1 uint8 array) as uniform symbols of 16 bits, then one of the rest."""
        n = b.size
        if n == 0:
            return
        nfull, rest = divmod(n, _CHUNK)
        padded = np.zeros(_CHUNK * (nfull + (rest > 0)), np.uint8)
        padded[:n] = b
        words = np.packbits(padded).view(">u2").astype(np.int32)
        sizes = np.full(words.size, 1 << _CHUNK, np.int32)
        if rest:
            words[-1] >>= _CHUNK - rest
            sizes[-1] = 1 << rest
        self.coder.encode(words, self.uniform, sizes)

    def universal(self, n, code):
        """A universal code of n >= 1, in the calls the decoder mirrors: the prefix bit by bit,
        then (delta) the length's bits below its top bit, then the value's bits below its top bit."""
        length = n.bit_length()
        if code == C.ELIAS_GAMMA:
            self.coder.encode(np.array([0] * (length - 1) + [1], np.int32), self.bit)
        else:
            lb = length.bit_length()
            self.coder.encode(np.array([0] * (lb - 1) + [1], np.int32), self.bit)
            self.bits(_int_bits(length, lb)[1:])
        self.bits(_int_bits(n, length)[1:])

    def vector(self, model, depths, paths, escape):
        """One vector: its depth symbols, its escapes' universal codes, its path bits."""
        k = model.size
        self.coder.encode(np.minimum(depths, k).astype(np.int32), model.categorical)
        for t in depths[depths >= k].tolist():
            self.universal(int(t) - k + 1, escape)
        self.bits(paths)
        self.count += 1

    def data(self):
        words = self.coder.get_compressed()
        return _varint(self.count) + _varint(words.size) + words.astype(">u4").tobytes()


def _varint(n):
    """LEB128: 7 bits per byte, least significant group first, high bit set on all but the last."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(data, pos, what):
    n = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError(f"truncated stream: it ends inside its header ({what})")
        if shift > 63:
            raise ValueError(f"corrupted stream: its header's {what} is too long")
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, pos


def _encode_into(sink, pair, setup, seeds, budget, index_model):
    """Append len(seeds) vectors (the rows of ``pair``, in order) to ``sink``; returns the
    VectorCode's fields (arrays of the pair's shape) with the source of its ``index``."""
    check_family(setup.method, FAMILIES[pair.family])
    n = seeds.size
    d = pair.params.shape[0] // n if n else 0
    if isinstance(sink, _BitSink):
        pos0 = sink.pos
        sink.pos, sink.buf, x, steps, drawn, index_bits, code_bits, ideal = _run_encode(
            setup, pair, seeds, d, budget, setup.code, sink.buf, sink.pos
        )
        first = pos0 >> 3  # the vectors' own bytes, for ``VectorCode.index``
        source = (sink.buf[first : (sink.pos + 7) >> 3].tobytes(), pos0 - 8 * first + np.cumsum(code_bits),
                  setup.method.fixed and not setup.method.tree)
    else:
        pos, buf, x, steps, drawn, index_bits, _, ideal = _run_encode(
            setup, pair, seeds, d, budget, V.PATH, np.zeros(max(16, pair.params.shape[0]), np.uint8), 0
        )
        depths = index_bits - 1
        paths = np.unpackbits(buf, count=pos)
        ends = np.cumsum(depths)
        for j in range(n):
            a = ends[j * d - 1] if j else 0
            b = ends[(j + 1) * d - 1] if d else 0
            sink.vector(index_model, depths[j * d : (j + 1) * d], paths[a:b], setup.escape)
        code_bits = index_model.information(depths, _CODE_NAMES[setup.escape])
        source = (buf[: (pos + 7) >> 3].tobytes(), ends, False)
    shape = pair.shape
    return dict(
        method=setup.method.name, sample=x.reshape(shape), steps=steps.reshape(shape),
        index_bits=index_bits.reshape(shape),
        code_bits=code_bits.reshape(shape), ideal_bits=ideal.reshape(shape), code=setup.code_name,
        option=None if setup.value is None else setup.value.reshape(shape), index_model=index_model,
        _index_source=source,
    )


def encode_vector(q, p, method="ad*", seed=0, *, max_steps=None, code=None, depth=None, bits=None,
                  index_model=None):
    """Encode one sample of the factorised target Q = prod_i Q_i against P = prod_i P_i.

    ``q`` and ``p`` are distributions with array parameters (broadcast against each other; the
    vector is their broadcast shape, coordinates in C order). Coordinate i is coded as the scalar
    message of seed ``coordinate_seed(seed, i)``; the codes follow each other bit by bit and the
    whole is padded once, with zeros, to a whole byte. ``depth`` (DAD*) and ``bits`` (ORC, MRC)
    may be arrays: one value per coordinate. ``index_model`` (an :class:`IndexModel`) codes each
    index's depth with that model instead of the universal ``code`` (which then codes the
    escapes). A coordinate that needs more than ``max_steps`` steps raises BudgetExceeded.
    Returns a :class:`VectorCode`.
    """
    seed = _seed(seed)
    pair = resolve(q, p)
    setup = _setup(method, code, depth, bits, pair.shape, index_model)
    budget = step_budget(max_steps)
    sink = _BitSink(max(16, 2 * pair.params.shape[0])) if index_model is None else _ModelSink()
    fields = _encode_into(sink, pair, setup, np.array([seed], np.uint64), budget, index_model)
    data = sink.data()
    return VectorCode(bits=data, nbits=sink.pos if index_model is None else 8 * len(data), seed=int(seed), **fields)


# ---------------------------------------------------------------------------------------------
# decoding

_ERRORS = {
    V.TRUNCATED: "truncated code: the data ends inside the code of {where}",
    V.LONG_PREFIX: "corrupted code: the universal code of {where} has a prefix longer than any index's",
    V.INDEX_ZERO: "corrupted code: the heap index of {where} is 0, which names no node",
    V.INDEX_TOO_LARGE: "corrupted code: the candidate index of {where} is beyond any search budget",
    V.EMPTY_REGION: "corrupted code: the path of {where} leads to a region of zero probability",
}


def _run_decode(setup, fam, loc, scale, seeds, d, depths, buf, pos, end):
    st, row, pos, x = V.decode(setup.method.id, setup.method.tree, setup.method.index_offset, fam, loc, scale, seeds, d, setup.width, setup.code, depths, buf,
                               pos, end)
    if st != V.OK:
        raise ValueError(_ERRORS[st].format(where=_where(row, d, seeds.size)))
    return pos, x


class _BitSource:
    def __init__(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a code is bytes, got {type(data).__name__}")
        self.buf = np.frombuffer(bytes(data), np.uint8).copy()
        self.pos = 0
        self.end = 8 * self.buf.size

    def exhausted(self):
        return bool(V.trailing_ok(self.buf, self.pos, self.end))

    def finish(self):
        if not self.exhausted():
            raise ValueError(
                f"corrupted code: {self.end - self.pos} bits follow the last code, expected fewer than 8 zero "
                "padding bits"
            )


class _ModelSource:
    def __init__(self, data):
        import constriction

        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a code is bytes, got {type(data).__name__}")
        data = bytes(data)
        self.count, pos = _read_varint(data, 0, "vector count")
        nwords, pos = _read_varint(data, pos, "word count")
        if len(data) - pos != 4 * nwords:
            kind = "truncated" if len(data) - pos < 4 * nwords else "corrupted"
            raise ValueError(
                f"{kind} stream: its header announces {nwords} 32-bit words ({4 * nwords} bytes), "
                f"{len(data) - pos} bytes follow"
            )
        words = np.frombuffer(data, ">u4", offset=pos).astype(np.uint32)
        self.coder = constriction.stream.queue.RangeDecoder(words)
        self.uniform = constriction.stream.model.Uniform()
        self.bit = constriction.stream.model.Uniform(2)
        self.capacity = 32 * nwords  # no vector's path bits can exceed what the stream holds
        self.read_count = 0

    def _decode(self, *args):
        try:
            return self.coder.decode(*args)
        except ValueError:
            raise
        except Exception as e:  # constriction signals data that no encoder wrote with an AssertionError
            raise ValueError(f"corrupted stream: the range decoder refused it ({e})") from None

    def bits(self, nbits):
        """``nbits`` bits (a 0/1 uint8 array), read as :meth:`_ModelSink.bits` wrote them."""
        if nbits > self.capacity:
            raise ValueError(f"corrupted stream: it names {nbits} path bits, more than its {self.capacity} bits hold")
        nfull, rest = divmod(nbits, _CHUNK)
        n = nfull + (rest > 0)
        if n == 0:
            return np.zeros(0, np.uint8)
        sizes = np.full(n, 1 << _CHUNK, np.int32)
        if rest:
            sizes[-1] = 1 << rest
        words = np.asarray(self._decode(self.uniform, sizes), dtype=np.int64)
        if rest:
            words[-1] <<= _CHUNK - rest
        return np.unpackbits(words.astype(">u2").view(np.uint8), count=nbits)

    def value(self, nbits):
        """The int made of the next ``nbits`` bits."""
        return int("".join("01"[b] for b in self.bits(nbits).tolist()) or "0", 2)

    def _prefix(self, limit):
        zeros = 0
        while self._decode(self.bit) == 0:
            zeros += 1
            if zeros > limit:
                raise ValueError("corrupted stream: an escape's universal code has a prefix longer than any depth's")
        return zeros

    def universal(self, code):
        if code == C.ELIAS_GAMMA:
            z = self._prefix(min(V.GAMMA_PREFIX_LIMIT, self.capacity))
            return (1 << z) | self.value(z)
        z = self._prefix(V.DELTA_PREFIX_LIMIT)
        length = (1 << z) | self.value(z)
        if length - 1 > self.capacity:
            raise ValueError("corrupted stream: an escaped depth is longer than the stream")
        return (1 << (length - 1)) | self.value(length - 1)

    def vector(self, model, d, escape):
        """(depths, path bits) of the next vector of d coordinates."""
        if self.read_count >= self.count:
            raise ValueError(f"the stream holds {self.count} vectors; all of them have been read")
        k = model.size
        depths = np.asarray(self._decode(model.categorical, d), dtype=np.int64) if d else np.zeros(0, np.int64)
        for i in np.flatnonzero(depths == k).tolist():
            t = k - 1 + self.universal(escape)
            if t > self.capacity:
                raise ValueError("corrupted stream: an escaped depth is longer than the stream")
            depths[i] = t
        paths = self.bits(int(depths.sum()))
        self.read_count += 1
        return depths, paths

    def exhausted(self):
        return self.read_count == self.count

    def finish(self):
        if self.read_count != self.count:
            raise ValueError(f"the stream holds {self.count} vectors, {self.read_count} were read")
        if not self.coder.maybe_exhausted():
            raise ValueError("corrupted stream: data follows its last vector")


_NO_DEPTHS = np.zeros(0, np.int64)


def _decode_from(source, p, setup, seeds, shape, index_model):
    """Read len(seeds) vectors (together, ``shape``: the vector's shape, or (n, vector shape))."""
    n = seeds.size
    fam, loc, scale = _proposal(p, shape)
    d = loc.size // n if n else 0
    if isinstance(source, _BitSource):
        source.pos, x = _run_decode(setup, fam, loc, scale, seeds, d, _NO_DEPTHS, source.buf, source.pos, source.end)
        return x.reshape(shape)
    parts = [source.vector(index_model, d, setup.escape) for _ in range(n)]
    depths = np.concatenate([a for a, _ in parts]) if parts else _NO_DEPTHS
    paths = np.concatenate([b for _, b in parts]) if parts else np.zeros(0, np.uint8)
    if setup.method.option is not None and setup.method.option.name == "depth" and np.any(depths > setup.option):
        i = int(np.flatnonzero(depths > setup.option)[0])
        raise ValueError(f"corrupted stream: the depth {depths[i]} of {_where(i, d, n)} exceeds DAD*'s depth "
                         f"{setup.option[i]}")
    buf = np.append(np.packbits(paths), np.uint8(0))
    _, x = _run_decode(setup, fam, loc, scale, seeds, d, depths, buf, 0, paths.size)
    return x.reshape(shape)


def decode_vector(data, p, method=None, seed=None, *, shape=None, code=None, depth=None, bits=None,
                  index_model=None):
    """The vector encoded in ``data`` (bytes, or a :class:`VectorCode`), knowing only P and the seed.

    ``shape`` is the vector's shape; it defaults to the proposal's (pass it when P has scalar
    parameters shared by every coordinate). Method, seed, code, options and index model must be
    the encoder's: those left None are taken from a :class:`VectorCode` passed as ``data``, and
    otherwise must be given (method and seed; the code defaults to Elias delta, the model to none).
    A truncated or malformed code, or
    anything after it but fewer than 8 zero padding bits, raises ValueError.
    """
    if isinstance(data, VectorCode):
        c = data
        if c.bits is None:
            raise ValueError("this VectorCode was appended to a stream: decode the stream with StreamDecoder")
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
    shape = _shape(p, shape)
    seeds = np.array([_seed(seed)], np.uint64)
    setup = _setup(method, code, depth, bits, shape, index_model)
    source = _BitSource(data) if index_model is None else _ModelSource(data)
    x = _decode_from(source, p, setup, seeds, shape, index_model)
    source.finish()
    return x


# ---------------------------------------------------------------------------------------------
# streams


def _check_stream_options(method, code, index_model):
    m = method_spec(method)
    if m.option is None:
        C.universal("elias-delta" if code is None else code)
    elif code is not None:
        resolve_options(m, code)  # raises: a fixed-length method takes no code
    if index_model is not None:
        if not isinstance(index_model, IndexModel):
            raise ValueError(f"index_model must be an IndexModel, got {type(index_model).__name__}")
        if m.fixed and not m.tree:
            raise ValueError(f"{m.name} sends a fixed-length candidate index; an index model codes depths of "
                             "tree nodes and candidate indices of AS*, AD*, DAD*, PFR and RS")


def _count(n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of vectors must be a non-negative integer, got {n!r}")
    return int(n)


class StreamEncoder:
    """Append vectors to one stream; ``get_compressed()`` returns it, padded once at its end.

    Method, code, step budget and index model are the stream's; ``depth`` and ``bits`` are
    defaults that each call may override. Vector j of the stream (j = 0, 1, ... in the order of
    appending) has the seed ``message_seed(seed, j)`` unless the call gives its own.
    """

    def __init__(self, method="ad*", seed=0, *, code=None, depth=None, bits=None, index_model=None,
                 max_steps=None):
        self.method = method_spec(method).name
        self.seed = int(_seed(seed))
        self.code = code
        self.depth, self.bits = depth, bits
        self.index_model = index_model
        self.budget = step_budget(max_steps)
        _check_stream_options(self.method, code, index_model)
        self._sink = _BitSink(1024) if index_model is None else _ModelSink()
        self.count = 0

    def _options(self, depth, bits):
        return self.depth if depth is None else depth, self.bits if bits is None else bits

    def encode(self, q, p, *, seed=None, depth=None, bits=None):
        """Append one vector (shape: the broadcast shape of q's and p's parameters); returns its
        :class:`VectorCode` (``bits`` None: the bits are in the stream)."""
        s = _seed(message_seed(self.seed, self.count) if seed is None else seed)
        pair = resolve(q, p)
        setup = _setup(self.method, self.code, *self._options(depth, bits), pair.shape, self.index_model)
        fields = _encode_into(self._sink, pair, setup, np.array([s], np.uint64), self.budget, self.index_model)
        self.count += 1
        nbits = None if self.index_model is not None else int(fields["code_bits"].sum())
        return VectorCode(bits=None, nbits=nbits, seed=int(s), **fields)

    def encode_many(self, q, p, *, seeds=None, depth=None, bits=None):
        """Append n vectors in one compiled call: the parameters of q and p broadcast to (n, ...),
        the first axis running over vectors. The same as n calls of :meth:`encode` with the rows, bit
        for bit; ``seeds`` (n,) defaults to the vectors' message seeds. Returns one
        :class:`VectorCode` whose arrays have shape (n, ...) and whose ``seed`` is the array of seeds."""
        pair = resolve(q, p)
        if len(pair.shape) == 0:
            raise ValueError("encode_many needs parameters with a leading axis that runs over vectors")
        n = pair.shape[0]
        s = V.message_seeds(np.uint64(self.seed), self.count, n) if seeds is None else _seeds(seeds, n)
        setup = _setup(self.method, self.code, *self._options(depth, bits), pair.shape, self.index_model)
        fields = _encode_into(self._sink, pair, setup, s, self.budget, self.index_model)
        self.count += n
        nbits = None if self.index_model is not None else int(fields["code_bits"].sum())
        return VectorCode(bits=None, nbits=nbits, seed=s, **fields)

    def num_bits(self):
        """Bits in the stream so far (universal codes: exact, before padding; model-coded: the range
        coder's words, its header not included)."""
        if self.index_model is None:
            return self._sink.pos
        return int(self._sink.coder.num_bits())

    def get_compressed(self):
        """The stream as bytes: every vector's code, then one padding (see docs/streams.md)."""
        return self._sink.data()

    def __len__(self):
        return self.count


class StreamDecoder:
    """Read the vectors of a stream back in the order they were appended.

    Takes the encoder's method, seed, code, options and index model. :meth:`decode` reads one
    vector, :meth:`decode_many` several; :meth:`finish` checks that nothing but the final padding
    is left.
    """

    def __init__(self, data, method="ad*", seed=0, *, code=None, depth=None, bits=None,
                 index_model=None):
        self.method = method_spec(method).name
        self.seed = int(_seed(seed))
        self.code = code
        self.depth, self.bits = depth, bits
        self.index_model = index_model
        _check_stream_options(self.method, code, index_model)
        self._source = _BitSource(data) if index_model is None else _ModelSource(data)
        self.count = 0

    def _options(self, depth, bits):
        return self.depth if depth is None else depth, self.bits if bits is None else bits

    def decode(self, p, *, shape=None, seed=None, depth=None, bits=None):
        """The next vector (shape: ``shape``, or the proposal's)."""
        shape = _shape(p, shape)
        s = np.array([_seed(message_seed(self.seed, self.count) if seed is None else seed)], np.uint64)
        setup = _setup(self.method, self.code, *self._options(depth, bits), shape, self.index_model)
        x = _decode_from(self._source, p, setup, s, shape, self.index_model)
        self.count += 1
        return x

    def decode_many(self, p, n, *, shape=None, seeds=None, depth=None, bits=None):
        """The next n vectors, as an array of shape (n, ``shape``); ``shape`` is one vector's shape
        (default: the proposal's), and P's parameters broadcast to (n, shape)."""
        n = _count(n)
        shape = (n, *_shape(p, shape))
        s = V.message_seeds(np.uint64(self.seed), self.count, n) if seeds is None else _seeds(seeds, n)
        setup = _setup(self.method, self.code, *self._options(depth, bits), shape, self.index_model)
        x = _decode_from(self._source, p, setup, s, shape, self.index_model)
        self.count += n
        return x

    def maybe_exhausted(self):
        """True when no further vector can follow: a model-coded stream's announced count has been
        read, or only fewer than 8 zero bits are left (universal codes; a fixed-length code can be
        all zeros, so with DAD*, ORC or MRC the reader must know the count)."""
        return self._source.exhausted()

    def finish(self):
        """Raise ValueError unless the whole stream has been read (up to its final padding)."""
        self._source.finish()

    def __len__(self):
        return self.count
