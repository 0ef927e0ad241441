"""Codecs: every method behind one symmetric API (``encode`` / ``decode``) and a method registry.

``encode(q, p, method, seed)`` runs the search and returns a :class:`Code` whose ``bits`` are a
real prefix-free bit string; ``decode(bits, p, method, seed)`` turns those bits back into exactly
``code.sample`` knowing only the proposal P, the method (with its options) and the shared seed.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import codes as C
from .pairs import proposal_family, resolve
from .search import batch, lists, tree

DEFAULT_MAX_STEPS = 2**22


@dataclass(frozen=True)
class Method:
    name: str
    id: int
    exact: bool
    summary: str
    reference: str
    option: str | None = None  # "depth" (DAD*) or "bits" (ORC, MRC): a fixed-length code's size

    @property
    def tree(self):
        return self.id in batch.TREE_METHODS


METHODS = {
    m.name: m
    for m in (
        Method("as*", batch.AS, True, "A* coding, splitting each region at its own sample",
               "Flamich, Markou and Hernandez-Lobato 2022"),
        Method("ad*", batch.AD, True, "A* coding with dyadic splits at P's median of each region",
               "Flamich, Markou and Hernandez-Lobato 2022"),
        Method("dad*", batch.DAD, False, "AD* with the tree cut at depth D; fixed (D + 1)-bit code",
               "Flamich, Markou and Hernandez-Lobato 2022", option="depth"),
        Method("pfr", batch.PFR, True, "global A* coding = Poisson functional representation",
               "Li and El Gamal 2018; Maddison, Tarlow and Minka 2014"),
        Method("rs", batch.RS, True, "rejection sampling, sending the accepted candidate's index",
               "Harsha et al. 2007"),
        Method("orc", batch.ORC, False, "ordered random coding over 2^K candidates; K-bit code",
               "Theis and Yosri 2022", option="bits"),
        Method("mrc", batch.MRC, False, "minimal random coding over 2^K candidates; K-bit code",
               "Havasi, Peharz and Hernandez-Lobato 2019", option="bits"),
    )
}


def method_spec(name):
    """The :class:`Method` called ``name`` (case-insensitive), or a ValueError listing them."""
    key = str(name).lower()
    if key not in METHODS:
        raise ValueError(f"unknown method {name!r}; available methods: {', '.join(METHODS)}")
    return METHODS[key]


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
    samples_drawn: int
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


def method_options(m, code, depth, bits):
    """Validated (code object, compiled option, option value) for method ``m``: the shared check of
    encode, decode and simulate."""
    if m.option == "depth":
        if depth is None or int(depth) != depth or not 0 <= depth <= 1023:
            raise ValueError(f"{m.name} needs depth=D, an integer in [0, 1023], got {depth!r}")
        return C.FixedLength(int(depth) + 1), int(depth), int(depth)
    if m.option == "bits":
        if bits is None or int(bits) != bits or not 1 <= bits <= 40:
            raise ValueError(f"{m.name} needs bits=K, an integer in [1, 40] (2^K candidates), got {bits!r}")
        return C.FixedLength(int(bits)), 2 ** int(bits), int(bits)
    if depth is not None or bits is not None:
        raise ValueError(f"{m.name} takes no depth or bits option")
    return C.universal(code), 0, None


def step_budget(max_steps):
    """The per-message step budget: ``max_steps`` validated, or the default."""
    if max_steps is None:
        return DEFAULT_MAX_STEPS
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    return int(max_steps)


def encode(q, p, method="ad*", seed=0, *, max_steps=None, code="elias-delta", depth=None, bits=None):
    """Encode one sample of Q, using proposal P and the shared ``seed``; returns a :class:`Code`.

    ``depth`` is DAD*'s tree depth D, ``bits`` the K of ORC and MRC (2^K candidates); other methods
    write their index with the universal ``code``. A search that needs more than ``max_steps``
    steps raises :class:`BudgetExceeded`.
    """
    m = method_spec(method)
    coder, option, opt_value = method_options(m, code, depth, bits)
    pair = resolve(q, p)
    if pair.shape != ():
        raise ValueError(f"encode takes one target, got parameters of shape {pair.shape}; use simulate for many")
    budget = step_budget(max_steps)
    status, steps, drawn, z, _, log2_index, node, ws = batch.run_one(
        m.id, pair.family, pair.params[0], _seed(seed), budget, option, tree.new_workspace(1024)
    )
    if status != batch.OK:
        raise BudgetExceeded(
            f"{m.name} did not finish within max_steps={budget} steps "
            f"(D_inf = {pair.params[0, 0] / math.log(2):.4g} bits); raise max_steps"
        )
    if m.tree:
        index = int("1" + "".join(map(str, tree.path_of(ws, node))), 2)
    else:
        index = int(node)
    if m.option == "bits":
        bitstring = coder.encode(index - 1)
    else:
        bitstring = coder.encode(index)
    sample = float(pair.loc[0]) + float(pair.scale[0]) * float(z)
    return Code(m.name, C.pack(bitstring), len(bitstring), sample, int(steps), int(drawn), index,
                float(log2_index), int(seed), coder.name, opt_value)


def decode(data, p, method=None, seed=None, *, code=None, depth=None, bits=None):
    """The sample encoded in ``data`` (bytes, or a :class:`Code`), knowing only P and the seed.

    Takes the same options as :func:`encode`. ``method``, ``seed`` and the options default to those
    of a :class:`Code` passed as ``data``; with plain bytes they default to "ad*", 0 and
    "elias-delta". A truncated, malformed or padded-out code raises ValueError.
    """
    if isinstance(data, Code):
        c = data
        method = c.method if method is None else method
        seed = c.seed if seed is None else seed
        code = c.code if code is None else code
        option = method_spec(method).option
        depth = c.option if option == "depth" and depth is None else depth
        bits = c.option if option == "bits" and bits is None else bits
        data = c.bits
    m = method_spec("ad*" if method is None else method)
    coder, _, _ = method_options(m, "elias-delta" if code in (None, "fixed") else code, depth, bits)
    seed = _seed(0 if seed is None else seed)
    fam, loc, scale = proposal_family(p)

    stream = C.unpack(data)
    index, used = coder.decode(stream)
    C.check_padding(stream, used)
    if m.option == "bits":
        index += 1
    if index < 1:
        raise ValueError("corrupted code: heap index 0 names no node")
    if m.tree:
        path = np.frombuffer(format(index, "b")[1:].encode(), np.uint8) - ord("0")
        rule = tree.SPLIT_AT_SAMPLE if m.id == batch.AS else tree.SPLIT_AT_MEDIAN
        status, z = tree.decode_walk(fam, np.zeros(4), seed, rule, np.ascontiguousarray(path, np.uint8))
        if status != tree.OK:
            raise ValueError("corrupted code: its path leads to a region of zero probability")
    else:
        if index >= 2**63:
            raise ValueError(f"corrupted code: candidate index {index} is beyond any search budget")
        z = lists.candidate_at(fam, seed, index)
    return loc + scale * float(z)
