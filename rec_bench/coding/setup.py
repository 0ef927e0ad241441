"""What encoder and decoder agree on before any kernel runs: the method's options read from its
record, the step budget, the pair or proposal resolved once, and sizes checked before anything
is allocated.

``resolve_options`` checks a scalar message's options; ``setup`` the per-coordinate options of a
vector (DAD*'s depth and ORC's and MRC's K may differ per coordinate) and whether its index is
model-coded. Everything else of the coding layer reads a method through these two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..methods import CANDIDATES, Method, is_integer, method_spec
from ..methods import check_family as family_check
from ..pairs import FAMILIES
from ..status import EMPTY_REGION, INDEX_TOO_LARGE, INDEX_ZERO, LONG_PREFIX, TRUNCATED
from .codes import ELIAS_DELTA, FIXED, PATH, universal

DEFAULT_MAX_STEPS = 2**22
MAX_STEPS_LIMIT = 2**62


class BudgetExceeded(RuntimeError):
    """A search used its whole step budget without finishing."""


def step_budget(max_steps):
    """The per-message step budget: ``max_steps`` validated, or the default."""
    if max_steps is None:
        return DEFAULT_MAX_STEPS
    if (isinstance(max_steps, (bool, np.bool_)) or not is_integer(max_steps)
            or not 1 <= max_steps <= MAX_STEPS_LIMIT):
        raise ValueError(f"max_steps must be an integer in [1, 2**62], got {max_steps!r}")
    return int(max_steps)


def check_budget(method, value, max_steps):
    """Refuse a size whose every message would exceed ``max_steps``: a method whose runtime is its
    2^K candidates (ORC, MRC) draws all of them, so K above log2(max_steps) can never finish."""
    m = method if isinstance(method, Method) else method_spec(method)
    if m.runtime == CANDIDATES and value is not None and m.kernel_option(int(value)) > max_steps:
        raise ValueError(f"{m.name} with {m.option.name}={value} draws 2^{value} candidates per message, "
                         f"more than max_steps={max_steps}: every message would exceed its step budget (use "
                         f"{m.option.name} <= {int(max_steps).bit_length() - 1}, i.e. log2(max_steps), or "
                         "raise max_steps)")


@dataclass(frozen=True, kw_only=True)
class Resolved:
    """A method with its options checked: what encode, decode and simulate run."""

    method: Method
    code: int  # the index code's number (rec_bench.coding.codes: a universal code, or FIXED)
    code_name: str  # elias-delta, elias-gamma or fixed
    width: int  # a fixed-length code's width in bits (0 for a universal code)
    kernel_option: int  # the runner's option
    value: int | None  # the option's value (D or K), None for universal-code methods


def resolve_options(method, code=None, depth=None, bits=None):
    """Check the options given with ``method``; options that do not apply to it are refused.

    Universal-code methods take ``code`` (the record's default, "elias-delta", or "elias-gamma")
    and no size option; fixed-length methods take their size option and no ``code``.
    """
    m = method if isinstance(method, Method) else method_spec(method)
    given = {"depth": depth, "bits": bits}
    for name, value in given.items():
        if value is not None and (m.option is None or m.option.name != name):
            takes = f"takes {m.option.name}=, not {name}=" if m.option else f"takes no {name}= option"
            raise ValueError(f"{m.name} {takes}")
    if m.option is None:
        name = m.code if code is None else code
        return Resolved(method=m, code=universal(name), code_name=name, width=0, kernel_option=0, value=None)
    if code is not None:
        raise ValueError(f"{m.name} writes a fixed-length code sized by "
                         f"{m.option.name}=; it takes no code= option, got code={code!r}")
    value = m.option.check(m.name, given[m.option.name])
    return Resolved(method=m, code=FIXED, code_name="fixed", width=m.width(value),
                    kernel_option=m.kernel_option(value), value=value)


@dataclass(frozen=True, eq=False)
class Setup:
    """What both sides agree on for a vector: method, code and per-coordinate options."""

    method: Method
    code: int  # the kernels' code (rec_bench.coding.codes: a universal code, FIXED or PATH)
    code_name: str  # elias-delta, elias-gamma or fixed (with a model: the escapes' universal code)
    option: np.ndarray  # (d,) int64: the runner's option per coordinate
    width: np.ndarray  # (d,) int64: a fixed-length code's width per coordinate
    value: np.ndarray | None  # (d,) the user's depth or bits per coordinate, or None
    escape: int  # the universal code of a model's escapes
    index_model: object  # an IndexModel, or None

    @property
    def min_bits(self):
        """Bits every coordinate's code has at least (the model-coded index: see ``check_rows``)."""
        return 1 if self.code != FIXED else int(self.width.min(initial=1))


_SETUPS = {}  # setups without per-coordinate options, by (method, code, shape, model identity)


def setup(method, code, depth, bits, shape, index_model):
    """The :class:`Setup` of a vector of ``shape`` (cached when the options are scalars)."""
    key = None
    if depth is None and bits is None and isinstance(method, str) and (code is None or isinstance(code, str)):
        key = (method, code, shape, id(index_model))
        hit = _SETUPS.get(key)
        if hit is not None and hit[1] is index_model:
            return hit[0]
    s = _make_setup(method, code, depth, bits, shape, index_model)
    if key is not None:
        if len(_SETUPS) > 256:
            _SETUPS.clear()
        _SETUPS[key] = (s, index_model)
    return s


def _make_setup(method, code, depth, bits, shape, index_model):
    m = method_spec(method) if not isinstance(method, Method) else method
    d = math.prod(shape)
    if m.option is None:
        r = resolve_options(m, code, depth, bits)
        opt = np.full(d, r.kernel_option, np.int64)
        width = np.zeros(d, np.int64)
        value = None
        code_id, code_name = r.code, r.code_name
    else:
        name = m.option.name
        given = {"depth": depth, "bits": bits}.get(name)
        if given is None:
            resolve_options(m, code, depth, bits)  # raises the scalar codec's message
        try:
            arr = np.broadcast_to(np.asarray(given), shape)
        except ValueError:
            raise ValueError(f"{m.name}'s {name} has shape {np.shape(given)}, which does not broadcast to "
                             f"the vector's shape {shape}") from None
        if arr.dtype.kind not in "iuf" or arr.dtype == np.bool_:
            raise ValueError(f"{m.name}'s {name} must be integers, got {given!r}")
        values = np.unique(arr)
        for v in values:  # each distinct value checked as the scalar codec checks it
            resolve_options(m, code, **{"depth": None, "bits": None, name: v})
        if values.size == 1:
            v = int(values[0])
            value = np.full(d, v, np.int64)
            opt = np.full(d, m.kernel_option(v), np.int64)
            width = np.full(d, m.width(v), np.int64)
        else:
            value = np.ascontiguousarray(arr.ravel().astype(np.int64))
            opt = np.array([m.kernel_option(int(v)) for v in value], np.int64)
            width = np.array([m.width(int(v)) for v in value], np.int64)
        code_id, code_name = FIXED, "fixed"
    escape = ELIAS_DELTA
    if index_model is not None:  # an IndexModel (checked by the codecs, rec_bench.coding.vector)
        check_model_index(m)
        escape = universal(m.code if code is None else code) if m.option is None else ELIAS_DELTA
        code_id = PATH
    return Setup(method=m, code=code_id, code_name=code_name, option=opt, width=width, value=value,
                 escape=escape, index_model=index_model)


def check_model_index(m):
    """Refuse an index model for a method whose record says its index cannot take one."""
    if not m.model_index:
        from ..methods import METHODS

        able = ", ".join(k for k, r in METHODS.items() if r.model_index)
        raise ValueError(f"{m.name} sends a fixed-length candidate index; an index model codes the depth "
                         f"of a tree node or the bit length of a candidate index ({able})")


def check_family(method, fam):
    """Refuse a pair family that lacks what ``method`` needs (e.g. GPRS on a user-defined target)."""
    if method.requires:
        family_check(method, FAMILIES[fam])


# ---- shapes and sizes ------------------------------------------------------------------------


def vector_shape(p, shape):
    """The shape of a vector to decode: ``shape`` checked, or the proposal's."""
    if shape is None:
        shape = getattr(p, "shape", ())
        if shape == ():
            raise ValueError("the proposal has scalar parameters: pass shape=(d,), the shape of the encoded "
                             "vector")
    dims = list(shape) if isinstance(shape, (tuple, list)) else [shape]
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) and s >= 0
               for s in dims):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    return tuple(int(s) for s in dims)


def count(n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of vectors must be a non-negative integer, got {n!r}")
    return int(n)


def check_rows(rows, bits, per_row, what="code"):
    """Refuse, before anything is allocated, more rows than ``bits`` can hold at ``per_row`` bits
    (at least) each."""
    if rows * per_row > bits:
        raise ValueError(f"truncated {what}: {rows} coordinates need at least {rows * per_row} bits, "
                         f"the data holds {bits}")


def where(row, d, n):
    """Where a row of a batch of n vectors of d coordinates sits, for error messages."""
    if n == 1:
        return "the message" if d == 1 else f"coordinate {row}"
    return f"vector {row // d}, coordinate {row % d}"


ERRORS = {
    TRUNCATED: "truncated code: the data ends inside the code of {where}",
    LONG_PREFIX: "corrupted code: the universal code of {where} has a prefix longer than any index's",
    INDEX_ZERO: "corrupted code: the heap index of {where} is 0, which names no node",
    INDEX_TOO_LARGE: "corrupted code: the candidate index of {where} is beyond any search budget",
    EMPTY_REGION: "corrupted code: the path of {where} leads to a region of zero probability",
}
