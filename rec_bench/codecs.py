"""Codecs: every method behind one symmetric API (``encode`` / ``decode``).

``encode(q, p, method, seed)`` runs the search and returns a :class:`Code` whose ``bits`` are a
real prefix-free bit string; ``decode(bits, p, method, seed)`` turns those bits back into exactly
``code.sample`` knowing only the proposal P, the method (with its options) and the shared seed.
What each method is and how its index is coded comes from the registry, rec_bench.methods.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import codes as C
from .methods import check_family, is_integer, method_spec, resolve_options
from .pairs import FAMILIES, proposal_family, resolve
from .search import INTERRUPTED, OK, batch, tree

DEFAULT_MAX_STEPS = 2**22
_NO_PATH = np.zeros(0, np.uint8)
MAX_STEPS_LIMIT = 2**62


class BudgetExceeded(RuntimeError):
    """A search used its whole step budget without finishing."""


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
        return C.unpack(self.bits)[: self.nbits]

    def __len__(self):
        return self.nbits


def _seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return np.uint64(int(seed))


def method_options(method, code=None, depth=None, bits=None):
    """Validated (code object, compiled option, option value) for ``method``: the shared check of
    encode, decode and simulate. Options that do not apply to the method are refused."""
    r = resolve_options(method, code, depth, bits)
    return r.coder, r.kernel_option, r.value


def step_budget(max_steps):
    """The per-message step budget: ``max_steps`` validated, or the default."""
    if max_steps is None:
        return DEFAULT_MAX_STEPS
    if isinstance(max_steps, (bool, np.bool_)) or not is_integer(max_steps) or not 1 <= max_steps <= MAX_STEPS_LIMIT:
        raise ValueError(f"max_steps must be an integer in [1, 2**62], got {max_steps!r}")
    return int(max_steps)


def encode(q, p, method="ad*", seed=0, *, max_steps=None, code=None, depth=None, bits=None, index_model=None):
    """Encode one sample of Q, using proposal P and the shared ``seed``; returns a :class:`Code`.

    With array-valued parameters, Q and P are factorised targets and proposals (one coordinate per
    element): the whole vector is coded in one stream and a rec_bench.streams.VectorCode returned
    (see rec_bench.streams.encode_vector, which also takes an ``index_model``).

    ``depth`` is DAD*'s tree depth D, ``bits`` the K of ORC and MRC (2^K candidates); the other
    methods write their index with the universal ``code`` ("elias-delta", the default, or
    "elias-gamma"). An option the method does not take is refused. A search that needs more than
    ``max_steps`` steps raises :class:`BudgetExceeded`.
    """
    pair = resolve(q, p)
    if pair.shape != () or index_model is not None or np.ndim(depth) or np.ndim(bits):
        from .streams import encode_vector

        return encode_vector(q, p, method, seed, max_steps=max_steps, code=code, depth=depth, bits=bits,
                             index_model=index_model)
    r = resolve_options(method, code, depth, bits)
    m = r.method
    check_family(m, FAMILIES[pair.family])
    budget = step_budget(max_steps)
    status, steps, _, z, _, log2_index, node, ws = batch.run_single(
        m.id, pair.family, pair.params[0], _seed(seed), budget, r.kernel_option, tree.new_workspace(1024)
    )
    if status == INTERRUPTED:
        raise KeyboardInterrupt
    if status != OK:
        raise BudgetExceeded(
            f"{m.name} did not finish within max_steps={budget} steps "
            f"(D_inf = {pair.params[0, 0] / math.log(2):.4g} bits); raise max_steps"
        )
    if m.tree:
        index = int("1" + "".join(map(str, tree.path_of(ws, node))), 2)
    else:
        index = int(node)
    bitstring = r.coder.encode(index - m.index_offset)
    sample = float(pair.loc[0]) + float(pair.scale[0]) * float(z)
    return Code(m.name, C.pack(bitstring), len(bitstring), sample, int(steps), index,
                float(log2_index), int(seed), r.coder.name, r.value)


def decode(data, p, method=None, seed=None, *, code=None, depth=None, bits=None, shape=None, index_model=None):
    """The sample encoded in ``data``, knowing only P, the method (with its options) and the seed.

    A vector (a rec_bench.streams.VectorCode, a proposal with array parameters, or ``shape``
    given) is decoded by rec_bench.streams.decode_vector and returned as an array.

    ``data`` is the code's bytes, and then ``method`` and ``seed`` must be given (a default would
    silently decode another sample), with the options encode took; or a :class:`Code`, which
    carries them. A truncated, malformed or padded-out code raises ValueError.
    """
    from .streams import VectorCode, decode_vector

    if (isinstance(data, VectorCode) or shape is not None or index_model is not None
            or any(np.ndim(a) for a in getattr(p, "params", lambda: ())())):
        return decode_vector(data, p, method, seed, shape=shape, code=code, depth=depth, bits=bits,
                             index_model=index_model)
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
    m = r.method
    seed = _seed(seed)
    fam, loc, scale = proposal_family(p)

    stream = C.unpack(data)
    index, used = r.coder.decode(stream)
    C.check_padding(stream, used)
    index += m.index_offset
    if index < 1:
        raise ValueError("corrupted code: heap index 0 names no node")
    if m.tree:
        path = np.ascontiguousarray(np.frombuffer(format(index, "b")[1:].encode(), np.uint8) - ord("0"))
        index = 0
    else:
        if index >= 2**63:
            raise ValueError(f"corrupted code: candidate index {index} is beyond any search budget")
        path = _NO_PATH
    status, z = batch.decode_single(m.id, fam, seed, path, index)
    if status != OK:
        raise ValueError("corrupted code: its path leads to a region of zero probability")
    return loc + scale * float(z)
