"""The method registry: one record per method, read by everything else in the package.

The codecs (rec_bench.coding: encode, decode, vectors, streams, simulate), the study spec schema
and grid expansion, warm-up, the contract tests, benchmarks, summaries and plots all take what
they need from :data:`METHODS`: whether a method is exact, how its runtime grows, how its index is
coded and with which code by default, its options with their ranges and defaults, its compiled
runner and decoder (in its kernel's module, rec_bench.search), what it needs of a pair family,
and its label, colour and marker.

Adding a method: write its kernel with a runner and a decoder (rec_bench/search/), and append one
:class:`Method` to ``_REGISTRY`` below. See docs/design.md, "Adding a method or a family".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .pairs.kernels import GPRS_FUNCTIONS, GRC_FUNCTIONS
from .search import gprs, grc, lists, tree

# runtime classes: how the number of steps grows
LINEAR = "linear in D_inf"
DEPTH_LIMITED = "linear in D_inf, at most 2^(D+1)"
EXPONENTIAL = "exp(D_inf)"
CANDIDATES = "2^K candidates"
KL_LINEAR = "linear in KL"


@dataclass(frozen=True, kw_only=True)
class Option:
    """An integer option that sets a fixed-length code's size."""

    name: str  # "depth" (DAD*) or "bits" (ORC, MRC)
    low: int
    high: int
    default: int  # a small value for warm-up, tests and benchmarks
    help: str

    def check(self, method, value):
        if value is None:
            raise ValueError(f"{method} needs {self.name}=<int in [{self.low}, {self.high}]> ({self.help})")
        if isinstance(value, (bool, np.bool_)) or not is_integer(value) or not self.low <= value <= self.high:
            raise ValueError(f"{method} needs {self.name} to be an integer in [{self.low}, {self.high}] "
                             f"({self.help}), got {value!r}")
        return int(value)


def is_integer(v):
    """True for a value equal to an integer (3, 3.0, np.int64(3)); False for 2.5, "3", None."""
    try:
        return int(v) == v
    except (TypeError, ValueError, OverflowError):
        return False


@dataclass(frozen=True, kw_only=True)
class Method:
    """One method. Every field is keyword-only; ``id`` (its position in the registry) is set here."""

    name: str
    exact: bool
    runtime: str  # one of the runtime classes above
    summary: str
    reference: str
    runner: Callable  # compiled, see rec_bench.search.tree for the signature
    decoder: Callable  # compiled (fam, seed, path, index) -> (status, z)
    index: str  # "heap": a tree node's heap index (its path); "candidate": a 1-based list index
    label: str
    color: str
    marker: str
    code: str | None = "elias-delta"  # the default universal code of the index; None: fixed-length
    split: int | None = None  # tree.SPLIT_AT_SAMPLE or tree.SPLIT_AT_MEDIAN for heap-index methods
    option: Option | None = None  # a fixed-length method's size; None: a universal code
    kernel_option: Callable[[int], int] = lambda v: v  # option value -> the runner's option
    width: Callable[[int], int] | None = None  # option value -> fixed code length in bits
    from_width: Callable[[int], int] | None = None  # fixed code length in bits -> option value
    index_offset: int = 0  # the code carries index - index_offset
    requires: tuple = ()  # compiled functions a pair family must provide (rec_bench.pairs.registry)
    model_index: bool = True  # its index's depth can be entropy coded with an IndexModel
    id: int = field(default=-1, compare=False)

    def __post_init__(self):
        if (self.option is None) != (self.code is not None):
            raise ValueError(f"{self.name}: a method has either a size option (a fixed-length code) or a "
                             "default universal code, not both or neither")
        if self.index not in ("heap", "candidate"):
            raise ValueError(f"{self.name}: index must be 'heap' or 'candidate', got {self.index!r}")

    @property
    def fixed(self):
        """True if the code is fixed-length (sized by the option); else a universal code."""
        return self.option is not None

    @property
    def tree(self):
        return self.index == "heap"


_DEPTH = Option(name="depth", low=0, high=1023, default=4, help="the tree depth D; the code has D + 1 bits")
_BITS = Option(name="bits", low=1, high=40, default=2, help="2^K candidates, a K-bit code")
_CANDIDATES = dict(kernel_option=lambda k: 2**k, width=lambda k: k, from_width=lambda w: w, index_offset=1,
                   model_index=False)

_REGISTRY = (
    Method(
        name="as*", exact=True, runtime=LINEAR,
        summary="A* coding, splitting each region at its own sample",
        reference="Flamich, Markou and Hernandez-Lobato 2022",
        runner=tree.tree_runner(tree.SPLIT_AT_SAMPLE, False),
        decoder=tree.tree_decoder(tree.SPLIT_AT_SAMPLE),
        index="heap", label="AS*", color="#0173b2", marker="o",
        split=tree.SPLIT_AT_SAMPLE,
    ),
    Method(
        name="ad*", exact=True, runtime=LINEAR,
        summary="A* coding with dyadic splits at P's median of each region",
        reference="Flamich, Markou and Hernandez-Lobato 2022",
        runner=tree.tree_runner(tree.SPLIT_AT_MEDIAN, False),
        decoder=tree.tree_decoder(tree.SPLIT_AT_MEDIAN),
        index="heap", label="AD*", color="#de8f05", marker="s",
        split=tree.SPLIT_AT_MEDIAN,
    ),
    Method(
        name="dad*", exact=False, runtime=DEPTH_LIMITED,
        summary="AD* with the tree cut at depth D; fixed (D + 1)-bit code",
        reference="Flamich, Markou and Hernandez-Lobato 2022",
        runner=tree.tree_runner(tree.SPLIT_AT_MEDIAN, True),
        decoder=tree.tree_decoder(tree.SPLIT_AT_MEDIAN),
        index="heap", label="DAD*", color="#029e73", marker="D",
        split=tree.SPLIT_AT_MEDIAN,
        code=None, option=_DEPTH, width=lambda d: d + 1, from_width=lambda w: w - 1,
    ),
    Method(
        name="pfr", exact=True, runtime=EXPONENTIAL,
        summary="global A* coding = Poisson functional representation",
        reference="Li and El Gamal 2018; Maddison, Tarlow and Minka 2014",
        runner=lists.list_runner(lists.pfr, False),
        decoder=lists.candidate_decoder,
        index="candidate", label="PFR (global A*)", color="#d55e00", marker="^",
    ),
    Method(
        name="rs", exact=True, runtime=EXPONENTIAL,
        summary="rejection sampling, sending the accepted candidate's index",
        reference="Harsha et al. 2007",
        runner=lists.list_runner(lists.rs, False),
        decoder=lists.candidate_decoder,
        index="candidate", label="RS", color="#cc78bc", marker="v",
    ),
    Method(
        name="orc", exact=False, runtime=CANDIDATES,
        summary="ordered random coding over 2^K candidates; K-bit code",
        reference="Theis and Yosri 2022",
        runner=lists.list_runner(lists.orc, True),
        decoder=lists.candidate_decoder,
        index="candidate", label="ORC", color="#ca9161", marker="P",
        code=None, option=_BITS, **_CANDIDATES,
    ),
    Method(
        name="mrc", exact=False, runtime=CANDIDATES,
        summary="minimal random coding over 2^K candidates; K-bit code",
        reference="Havasi, Peharz and Hernandez-Lobato 2019",
        runner=lists.list_runner(lists.mrc, True),
        decoder=lists.candidate_decoder,
        index="candidate", label="MRC", color="#949494", marker="X",
        code=None, option=_BITS, **_CANDIDATES,
    ),
    Method(
        name="gprs", exact=True, runtime=KL_LINEAR,
        summary="greedy Poisson rejection sampling, splitting the interval at each rejected sample; "
                "its path is the heap index",
        reference="Flamich 2023",
        runner=gprs.gprs_runner,
        decoder=gprs.gprs_decoder,
        index="heap", label="GPRS", color="#56b4e9", marker="h",
        requires=GPRS_FUNCTIONS,
    ),
    Method(
        name="gprs-global", exact=True, runtime=EXPONENTIAL,
        summary="global greedy Poisson rejection sampling: the first point under the graph of the "
                "stretch function",
        reference="Flamich 2023",
        runner=lists.list_runner(gprs.gprs_global, False),
        decoder=lists.candidate_decoder,
        index="candidate", label="global GPRS", color="#fbafe4", marker="<",
        requires=GPRS_FUNCTIONS,
    ),
    Method(
        name="gprs-dyadic", exact=True, runtime=KL_LINEAR,
        summary="dyadic greedy Poisson rejection sampling: the interval is halved at P's median once "
                "the half away from the ratio's mode is dead; the heap index is 1, Elias gamma of the "
                "arrival number, then the node's path (a target whose ratio peaks exactly at a node's "
                "median stays in that node, at global GPRS's cost)",
        reference="Flamich 2023",
        runner=gprs.gprs_dyadic_runner,
        decoder=gprs.gprs_dyadic_decoder,
        index="heap", label="dyadic GPRS", color="#882255", marker="*",
        requires=GPRS_FUNCTIONS,
    ),
    Method(
        name="grcs", exact=True, runtime=KL_LINEAR,
        summary="greedy rejection coding on the tree split at each rejected sample: greedy rejection "
                "sampling of what is left of the target, the child chosen in proportion to its residual",
        reference="Flamich, Markou and Hernandez-Lobato 2023",
        runner=grc.grc_runner(grc.SPLIT_AT_SAMPLE),
        decoder=grc.grc_decoder(grc.SPLIT_AT_SAMPLE),
        index="heap", label="GRCS", color="#117733", marker="p",
        split=tree.SPLIT_AT_SAMPLE,
        requires=GRC_FUNCTIONS,
    ),
    Method(
        name="grcd", exact=True, runtime=KL_LINEAR,
        summary="greedy rejection coding on the dyadic tree (regions halved at P's median)",
        reference="Flamich, Markou and Hernandez-Lobato 2023",
        runner=grc.grc_runner(grc.SPLIT_AT_MEDIAN),
        decoder=grc.grc_decoder(grc.SPLIT_AT_MEDIAN),
        index="heap", label="GRCD", color="#332288", marker="d",
        split=tree.SPLIT_AT_MEDIAN,
        requires=GRC_FUNCTIONS,
    ),
)

METHODS = {}
for _i, _m in enumerate(_REGISTRY):
    object.__setattr__(_m, "id", _i)
    METHODS[_m.name] = _m


def method_spec(name):
    """The :class:`Method` called ``name`` (case-insensitive), or a ValueError listing them."""
    key = str(name).lower()
    if key not in METHODS:
        raise ValueError(f"unknown method {name!r}; available methods: {', '.join(METHODS)}")
    return METHODS[key]


def supports(method, family):
    """True if ``family`` (a pair family of rec_bench.pairs.registry) provides all that ``method``
    requires."""
    m = method if isinstance(method, Method) else method_spec(method)
    return all(hasattr(family, name) for name in m.requires)


def check_family(method, family):
    """Refuse a pair family that lacks what ``method`` needs (e.g. GPRS on a user-defined target)."""
    m = method if isinstance(method, Method) else method_spec(method)
    if not supports(m, family):
        from .pairs.registry import name

        missing = [f for f in m.requires if not hasattr(family, f)]
        raise ValueError(f"{m.name} needs the level-set masses of the density ratio ({', '.join(missing)}), "
                         f"which the pair family {name(family)} does not provide")


def default_options(method):
    """The small options that warm-up, tests and benchmarks use for ``method``: {} or {name: value}."""
    m = method_spec(method)
    return {} if m.option is None else {m.option.name: m.option.default}
