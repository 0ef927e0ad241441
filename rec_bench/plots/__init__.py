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
"""

from __future__ import annotations

import importlib
import pkgutil

PLOTS: dict = {}
_LOADED = False


def register(name, summary=""):
    def deco(fn):
        fn.plot_kind, fn.summary = name, summary or (fn.__doc__ or "").strip().split("\n")[0]
        PLOTS[name] = fn
        return fn

    return deco


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
    out = []
    for p in plots:
        base = Path(out_dir) / (p.get("file") or f"{spec.get('name', Path(path).stem)}_{p['kind']}")
        out += draw(p["kind"], df, base, title=p.get("title"), **(p.get("options") or {}))
        log(f"  {base}.png/.pdf")
    return out
