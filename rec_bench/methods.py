"""The method registry: one record per method, read by everything else in the package.

The codecs (encode, decode, simulate), the study spec schema and grid expansion, warm-up, tests,
benchmarks, summaries and plots all take what they need from :data:`METHODS`: whether a method is
exact, how its runtime grows, how its index is coded, its options with their ranges and defaults,
its compiled runner (rec_bench.search.runners) and its decoder, and its label, colour and marker.

Adding a method: write its kernel (rec_bench/search/), wrap it as a runner with the signature of
rec_bench.search.runners, and append one :class:`Method` to ``_REGISTRY`` below (append: the
compiled dispatch numbers methods by position). See docs/design.md, "Adding a method or a family".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import codes as C
from .pairs.kernels import GPRS_FUNCTIONS
from .search import gprs, lists, runners, tree

# runtime classes: how the number of steps grows
LINEAR = "linear in D_inf"
DEPTH_LIMITED = "linear in D_inf, at most 2^(D+1)"
EXPONENTIAL = "exp(D_inf)"
CANDIDATES = "2^K candidates"
KL_LINEAR = "linear in KL"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Method:
    name: str
    exact: bool
    runtime: str  # one of the runtime classes above
    summary: str
    reference: str
    runner: Callable  # compiled, see rec_bench.search.runners
    decoder: Callable  # compiled (fam, seed, path, index) -> (status, z), see rec_bench.search.runners
    index: str  # "heap": a tree node's heap index (its path); "candidate": a 1-based list index
    label: str
    color: str
    marker: str
    split: int | None = None  # tree.SPLIT_AT_SAMPLE or tree.SPLIT_AT_MEDIAN for heap-index methods
    option: Option | None = None  # a fixed-length method's size; None: a universal code
    kernel_option: Callable[[int], int] = lambda v: v  # option value -> the runner's option
    width: Callable[[int], int] | None = None  # option value -> fixed code length in bits
    from_width: Callable[[int], int] | None = None  # fixed code length in bits -> option value
    index_offset: int = 0  # the code carries index - index_offset
    requires: tuple = ()  # compiled functions a pair family must provide (rec_bench.pairs.registry)
    id: int = field(default=-1, compare=False)

    @property
    def fixed(self):
        """True if the code is fixed-length (sized by the option); else a universal code."""
        return self.option is not None

    @property
    def tree(self):
        return self.index == "heap"


_REGISTRY = (
    Method("as*", True, LINEAR, "A* coding, splitting each region at its own sample",
           "Flamich, Markou and Hernandez-Lobato 2022", runners.tree_runner(tree.SPLIT_AT_SAMPLE, False),
           runners.tree_decoder(tree.SPLIT_AT_SAMPLE), "heap", "AS*", "#0173b2", "o", split=tree.SPLIT_AT_SAMPLE),
    Method("ad*", True, LINEAR, "A* coding with dyadic splits at P's median of each region",
           "Flamich, Markou and Hernandez-Lobato 2022", runners.tree_runner(tree.SPLIT_AT_MEDIAN, False),
           runners.tree_decoder(tree.SPLIT_AT_MEDIAN), "heap", "AD*", "#de8f05", "s", split=tree.SPLIT_AT_MEDIAN),
    Method("dad*", False, DEPTH_LIMITED, "AD* with the tree cut at depth D; fixed (D + 1)-bit code",
           "Flamich, Markou and Hernandez-Lobato 2022", runners.tree_runner(tree.SPLIT_AT_MEDIAN, True),
           runners.tree_decoder(tree.SPLIT_AT_MEDIAN), "heap", "DAD*", "#029e73", "D", split=tree.SPLIT_AT_MEDIAN,
           option=Option("depth", 0, 1023, 4, "the tree depth D; the code has D + 1 bits"),
           width=lambda d: d + 1, from_width=lambda w: w - 1),
    Method("pfr", True, EXPONENTIAL, "global A* coding = Poisson functional representation",
           "Li and El Gamal 2018; Maddison, Tarlow and Minka 2014", runners.list_runner(lists.pfr, False),
           runners.candidate_decoder, "candidate", "PFR (global A*)", "#d55e00", "^"),
    Method("rs", True, EXPONENTIAL, "rejection sampling, sending the accepted candidate's index",
           "Harsha et al. 2007", runners.list_runner(lists.rs, False), runners.candidate_decoder,
           "candidate", "RS", "#cc78bc", "v"),
    Method("orc", False, CANDIDATES, "ordered random coding over 2^K candidates; K-bit code",
           "Theis and Yosri 2022", runners.list_runner(lists.orc, True), runners.candidate_decoder,
           "candidate", "ORC", "#ca9161", "P",
           option=Option("bits", 1, 40, 2, "2^K candidates, a K-bit code"), kernel_option=lambda k: 2**k,
           width=lambda k: k, from_width=lambda w: w, index_offset=1),
    Method("mrc", False, CANDIDATES, "minimal random coding over 2^K candidates; K-bit code",
           "Havasi, Peharz and Hernandez-Lobato 2019", runners.list_runner(lists.mrc, True),
           runners.candidate_decoder, "candidate", "MRC",
           "#949494", "X", option=Option("bits", 1, 40, 2, "2^K candidates, a K-bit code"),
           kernel_option=lambda k: 2**k, width=lambda k: k, from_width=lambda w: w, index_offset=1),
    Method("gprs", True, KL_LINEAR, "greedy Poisson rejection sampling, splitting the interval at each "
           "rejected sample; its path is the heap index", "Flamich 2023", runners.gprs_runner,
           runners.gprs_decoder, "heap", "GPRS", "#56b4e9", "h", requires=GPRS_FUNCTIONS),
    Method("gprs-global", True, EXPONENTIAL, "global greedy Poisson rejection sampling: the first point "
           "under the graph of the stretch function", "Flamich 2023", runners.list_runner(gprs.gprs_global, False),
           runners.candidate_decoder, "candidate", "global GPRS", "#fbafe4", "<", requires=GPRS_FUNCTIONS),
    Method("gprs-dyadic", True, KL_LINEAR, "dyadic greedy Poisson rejection sampling: the interval is halved "
           "at P's median once the half away from the ratio's mode is dead; the heap index is 1, Elias gamma "
           "of the arrival number, then the node's path (a target whose ratio peaks exactly at a node's "
           "median stays in that node, at global GPRS's cost)", "Flamich 2023",
           runners.gprs_dyadic_runner, runners.gprs_dyadic_decoder, "heap", "dyadic GPRS", "#882255", "*",
           requires=GPRS_FUNCTIONS),
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


def check_family(method, family):
    """Refuse a pair family that lacks what ``method`` needs (e.g. GPRS on a user-defined target)."""
    m = method if isinstance(method, Method) else method_spec(method)
    missing = [name for name in m.requires if not hasattr(family, name)]
    if missing:
        from .pairs.registry import name

        raise ValueError(f"{m.name} needs the level-set masses of the density ratio ({', '.join(missing)}), "
                         f"which the pair family {name(family)} does not provide")


def default_options(method):
    """The small options that warm-up, tests and benchmarks use for ``method``: {} or {name: value}."""
    m = method_spec(method)
    return {} if m.option is None else {m.option.name: m.option.default}


def check_budget(method, value, max_steps):
    """Refuse a size whose every message would exceed ``max_steps``: ORC and MRC draw all 2^K candidates."""
    m = method if isinstance(method, Method) else method_spec(method)
    if m.runtime == CANDIDATES and value is not None and m.kernel_option(value) > max_steps:
        raise ValueError(f"{m.name} with {m.option.name}={value} draws 2^{value} candidates per message, more than "
                         f"max_steps={max_steps}: every message would exceed its step budget (use {m.option.name} "
                         f"<= {int(max_steps).bit_length() - 1}, i.e. log2(max_steps), or raise max_steps)")


@dataclass(frozen=True)
class Resolved:
    """A method with its options checked: what encode, decode and simulate run."""

    method: Method
    coder: object  # rec_bench.codes coder of the index
    kernel_option: int  # the runner's option
    value: int | None  # the option's value (D or K), None for universal-code methods


def resolve_options(method, code=None, depth=None, bits=None):
    """Check the options given with ``method``; options that do not apply to it are refused.

    Universal-code methods take ``code`` ("elias-delta", the default, or "elias-gamma") and no
    size option; fixed-length methods take their size option and no ``code``.
    """
    m = method if isinstance(method, Method) else method_spec(method)
    given = {"depth": depth, "bits": bits}
    for name, value in given.items():
        if value is not None and (m.option is None or m.option.name != name):
            takes = f"takes {m.option.name}=, not {name}=" if m.option else f"takes no {name}= option"
            raise ValueError(f"{m.name} {takes}")
    if m.option is None:
        return Resolved(m, C.universal("elias-delta" if code is None else code), 0, None)
    if code is not None:
        raise ValueError(f"{m.name} writes a fixed-length code sized by "
                         f"{m.option.name}=; it takes no code= option, got code={code!r}")
    value = m.option.check(m.name, given[m.option.name])
    return Resolved(m, C.FixedLength(m.width(value)), m.kernel_option(value), value)
