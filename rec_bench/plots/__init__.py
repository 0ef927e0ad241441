"""Figures from study results, by kind.

A plot kind is a function ``fn(df, ax_or_none, **options) -> matplotlib Figure`` registered by
name with :func:`register`. Every module in this package is imported on first use, so adding a
kind is one small module, e.g. ``rec_bench/plots/bias.py``::

    from . import register

    @register("bias_vs_bits", "approximate methods' bias against code bits")
    def bias_vs_bits(df, **options):
        ...
        return fig

Specs name kinds under ``plots:``; ``rec-bench plot RESULTS`` draws the kinds listed in the spec
stored in the results' provenance, as PNG and PDF.

A spec's plots are checked before its study runs (:func:`check`): the options must be parameters
of the kind's function, option values that name data (``family``, ``construction``, ``methods``,
``floor_method``) must name what the study's cells hold, and a kind registered with a ``select``
function must find rows to draw in a table of the study's cells (one row per cell, with the cell
columns of ``rec_bench.results.CELL_COLUMNS``): ``select(cells, **options)`` raises ValueError
when there are none. A kind registered with ``from_cells=True`` can also draw from a per-cell
summary table (the bias kinds, from ``results/reference/bias_summary.csv``).
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil

PLOTS: dict = {}
_LOADED = False

# options whose values name data: option -> the cell column whose values they must be among
DATA_OPTIONS = {"family": "family", "construction": "construction", "methods": "method",
                "floor_method": "method"}


def register(name, summary="", select=None, from_cells=False):
    """Register a plot kind. ``select(cells, **options)``, if given, raises ValueError when a table
    of the study's cells holds nothing to draw; ``from_cells`` marks a kind that also draws from a
    per-cell summary table."""
    def deco(fn):
        fn.plot_kind, fn.summary = name, summary or (fn.__doc__ or "").strip().split("\n")[0]
        fn.select, fn.from_cells = select, from_cells
        PLOTS[name] = fn
        return fn

    return deco


def options_of(kind):
    """{option: default} of a plot kind: the parameters of its function after the data."""
    params = list(inspect.signature(load_all()[kind]).parameters.values())[1:]
    return {p.name: p.default for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


class PlotOptionError(ValueError):
    """A plot request that does not fit the data: ``option`` names the offending option (or None)."""

    def __init__(self, option, message):
        self.option = option
        super().__init__(message)


def check(kind, options, cells):
    """Check one plot request against ``cells`` (a DataFrame, one row per study cell) before the
    study runs; raises :class:`PlotOptionError` naming the problem."""
    plots = load_all()
    if kind not in plots:
        raise PlotOptionError(None, f"unknown plot kind {kind!r}; known kinds: {', '.join(sorted(plots))}")
    known = options_of(kind)
    for k, v in options.items():
        if k not in known:
            raise PlotOptionError(k, f"plot kind {kind!r} takes no option {k!r}; its options: "
                                  f"{', '.join(known) or 'none'}")
        if k in DATA_OPTIONS:
            col = DATA_OPTIONS[k]
            many = k == "methods"
            if many and not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                raise PlotOptionError(k, f"{k} must be a non-empty list of method names, got {v!r}")
            if not many and not isinstance(v, str):
                raise PlotOptionError(k, f"{k} must be a name, got {v!r}")
            held = list(dict.fromkeys(cells[col]))
            for x in (v if many else [v]):
                if x not in held:
                    raise PlotOptionError(k, f"{k}: {x!r} is not in the study's data, which holds "
                                          f"{col} {', '.join(map(str, held))}")
        elif isinstance(known[k], (int, float)) and not isinstance(known[k], bool):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise PlotOptionError(k, f"{k} must be a finite number, got {v!r}")
    select = plots[kind].select
    if select is not None:
        try:
            select(cells, **options)
        except ValueError as e:
            raise PlotOptionError(None, f"plot kind {kind!r} has nothing to draw: {e}") from None


def load_all():
    """Import every module of this package so that their kinds register."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for mod in pkgutil.iter_modules(__path__):
            if not mod.name.startswith("_"):
                importlib.import_module(f"{__name__}.{mod.name}")
    return PLOTS


def draw(kind, df, out_base, title=None, **options):
    """Draw one kind and save ``out_base``.png and .pdf; returns the two paths."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    load_all()
    if kind not in PLOTS:
        raise ValueError(f"unknown plot kind {kind!r}; known kinds: {', '.join(sorted(PLOTS))}")
    fig = PLOTS[kind](df, **options)
    if title:
        fig.suptitle(title, y=1.03, fontsize=13)
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = [out_base.with_suffix(".png"), out_base.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)
    return paths


def plot_results(path, out_dir="figures", log=print):
    """Draw every plot that the spec stored in the results' provenance asks for."""
    from pathlib import Path

    from ..results import read_results

    df, meta = read_results(path)
    spec = meta.get("spec", {})
    plots = spec.get("plots") or []
    if not plots:
        log(f"{path}: the spec asks for no plots")
    cells = df.drop_duplicates("study_cell")
    for i, p in enumerate(plots):  # all of them, before drawing any
        try:
            check(p["kind"], p.get("options") or {}, cells)
        except PlotOptionError as e:
            raise PlotOptionError(e.option, f"plots[{i}]: {e}") from None
    out = []
    for p in plots:
        base = Path(out_dir) / (p.get("file") or f"{spec.get('name', Path(path).stem)}_{p['kind']}")
        out += draw(p["kind"], df, base, title=p.get("title"), **(p.get("options") or {}))
        log(f"  {base}.png/.pdf")
    return out
