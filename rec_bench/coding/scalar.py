"""Every method behind one symmetric API: ``encode`` / ``decode`` of one sample.

``encode(q, p, method, seed)`` runs the search and returns a :class:`Code` whose ``bits`` are a
real prefix-free bit string; ``decode(bits, p, method, seed)`` turns those bits back into exactly
``code.sample`` knowing only the proposal P, the method (with its options) and the shared seed.
A scalar message is one row of the vector codec (rec_bench.coding.vector) whose seed is used as
it is; array-valued parameters make it a vector. What each method is and how its index is coded
comes from the registry, rec_bench.methods.
"""

from dataclasses import dataclass, field

import numpy as np

from ..methods import method_spec
from ..pairs import proposal_family, resolve
from .rows import run_decode, run_encode
from .seeds import check_seed
from .setup import check_budget, check_family, resolve_options, step_budget
from .sinks import BitSource
from .blocks import check_block
from .vector import VectorCode, decode_vector, encode_vector

__all__ = ["Code", "encode", "decode"]

_NO_DEPTHS = np.zeros(0, np.int64)


@dataclass(frozen=True)
class Code:
    """One encoded message."""

    method: str
    bits: bytes  # the code, most significant bit first, zero-padded to whole bytes
    nbits: int  # its real length in bits
    sample: float  # the sample the decoder will reproduce
    steps: int
    index: int  # heap index (tree methods) or 1-based candidate index (list methods)
    ideal_bits: float  # log2(index)
    seed: int
    code: str  # name of the code: elias-delta, elias-gamma or fixed
    option: int | None = field(default=None)  # depth D (DAD*) or K (ORC, MRC)

    @property
    def bitstring(self):
        """The code as a '0'/'1' string of length ``nbits``."""
        return "".join(map(str, np.unpackbits(np.frombuffer(self.bits, np.uint8), count=self.nbits)))

    def __len__(self):
        return self.nbits


def _index(data, nbits, bitlen, m, width):
    """The index a code of ``nbits`` bits ends with (ORC, MRC: the whole fixed-length code)."""
    v = int.from_bytes(data, "big") >> (8 * len(data) - nbits)
    if m.fixed and not m.tree:
        return (v & ((1 << width) - 1)) + m.index_offset
    return (1 << (bitlen - 1)) | (v & ((1 << (bitlen - 1)) - 1))


def encode(q, p, method="ad*", seed=0, *, max_steps=None, code=None, depth=None, bits=None, index_model=None,
           block=None):
    """Encode one sample of Q, using proposal P and the shared ``seed``; returns a :class:`Code`.

    With array-valued parameters, Q and P are factorised targets and proposals (one coordinate per
    element): the whole vector is coded in one stream and a rec_bench.VectorCode returned (see
    rec_bench.encode_vector, which also takes an ``index_model``).

    ``depth`` is DAD*'s tree depth D, ``bits`` the K of ORC and MRC (2^K candidates); the other
    methods write their index with the universal ``code`` (the method's default, "elias-delta", or
    "elias-gamma"). An option the method does not take is refused. A search that needs more than
    ``max_steps`` steps raises :class:`BudgetExceeded`. ``block=b`` (b >= 2; PFR, RS, ORC, MRC)
    codes a vector's coordinates b at a time, one message per block (rec_bench.encode_vector).
    """
    pair = resolve(q, p)
    if (pair.shape != () or index_model is not None or np.ndim(depth) or np.ndim(bits)
            or check_block(method, block) is not None):
        return encode_vector(q, p, method, seed, max_steps=max_steps, code=code, depth=depth, bits=bits,
                             index_model=index_model, block=block, _pair=pair)
    r = resolve_options(method, code, depth, bits)
    m = r.method
    check_family(m, pair.family)
    s = check_seed(seed)
    budget = step_budget(max_steps)
    check_budget(m, r.value, budget)
    out, buf, pos = run_encode(m, pair.family, pair.params, pair.loc, pair.scale, np.array([s], np.uint64), 1,
                                False, budget, np.array([r.kernel_option], np.int64),
                                np.array([r.width], np.int64), r.code)
    data = buf[: (pos + 7) >> 3].tobytes()
    index = _index(data, pos, int(out.index_bits[0]), m, r.width)
    return Code(m.name, data, pos, float(out.x[0]), int(out.steps[0]), index, float(out.ideal[0]), int(seed),
                r.code_name, r.value)


def decode(data, p, method=None, seed=None, *, code=None, depth=None, bits=None, shape=None,
           index_model=None, block=None):
    """The sample encoded in ``data``, knowing only P, the method (with its options) and the seed.

    A vector (a rec_bench.VectorCode, a proposal with array parameters, or ``shape`` given) is
    decoded by rec_bench.decode_vector and returned as an array.

    ``data`` is the code's bytes, and then ``method`` and ``seed`` must be given (a default would
    silently decode another sample), with the options encode took; or a :class:`Code`, which
    carries them. A truncated, malformed or padded-out code raises ValueError.
    """
    if (isinstance(data, VectorCode) or shape is not None or index_model is not None
            or getattr(p, "shape", ()) != () or (block is not None and block != 1)):
        return decode_vector(data, p, method, seed, shape=shape, code=code, depth=depth, bits=bits,
                             index_model=index_model, block=block)
    if isinstance(data, Code):
        c = data
        method = c.method if method is None else method
        seed = c.seed if seed is None else seed
        m = method_spec(method)
        if m.name != c.method:
            raise ValueError(f"this Code was made by {c.method}, not {m.name}")
        if m.option is None:
            code = c.code if code is None else code
        elif m.option.name == "depth":
            depth = c.option if depth is None else depth
        else:
            bits = c.option if bits is None else bits
        data = c.bits
    if method is None or seed is None:
        raise ValueError("decode needs the method and the seed the code was made with "
                         "(decode(data, p, method, seed, ...))")
    r = resolve_options(method, code, depth, bits)
    s = check_seed(seed)
    fam, loc, scale = proposal_family(p)
    source = BitSource(data)
    x, source.pos = run_decode(r.method, fam, loc, scale, np.array([s], np.uint64), 1,
                               False, np.array([r.width], np.int64), r.code, _NO_DEPTHS, source.buf, 0,
                               source.end)
    source.finish()
    return float(x[0])
