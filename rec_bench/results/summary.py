"""Per-cell statistics of a results table, the fits the figures draw, and a text summary.

Conventions: a row censored by the step budget (``censor == "steps"``) ran for max_steps steps, so
its steps are a lower bound and it is kept in runtime statistics (which are then lower bounds,
drawn hollow); a row censored by the time budget (``censor == "time"``) never ran and enters only
the censored fraction. Codelength statistics use uncensored rows only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import methods as M

# from the method registry: exact methods whose runtime is linear in D_inf (a line is fitted) and
# methods whose runtime is exp(D_inf) (drawn against 2^D_inf)
EXACT_LINEAR = tuple(n for n, m in M.METHODS.items() if m.exact and m.runtime == M.LINEAR)
EXPONENTIAL = tuple(n for n, m in M.METHODS.items() if m.runtime == M.EXPONENTIAL)


def x_column(df):
    """(column, label) of the natural x axis: the grid's D_inf, I, or the pair's D_inf."""
    cons = set(df["construction"].unique())
    if cons == {"gaussian_channel"}:
        return "grid_info", "I = mean KL (bits)"
    if cons == {"fixed_kl"}:
        return "grid_dinf", r"$D_\infty$ (bits)"
    return "dinf", r"$D_\infty$ (bits)"


def _q(p):
    def f(s):
        return s.quantile(p) if len(s) else np.nan

    f.__name__ = f"q{int(p * 100)}"
    return f


def cell_stats(df, value="steps"):
    """One row per cell: method, x values, n, censored fractions, mean/sem/quartiles of ``value``."""
    ran = df[df["censor"] != "time"] if value == "steps" else df[~df["censored"]]
    keys = ["study_cell", "cell_index", "method", "construction", "family", "code_bits"]
    base = df.groupby(keys, dropna=False, sort=False).agg(
        n=("rep", "size"), censored=("censored", "mean"),
        time_censored=("censor", lambda s: (s == "time").mean()),
        kl=("kl", "mean"), dinf=("dinf", "mean"), grid_kl=("grid_kl", "first"),
        grid_dinf=("grid_dinf", "first"),
        grid_info=("grid_info", "first"), max_steps=("max_steps", "first"))
    v = ran.groupby(keys, dropna=False, sort=False)[value].agg(
        ["mean", "sem", "count", _q(0.25), _q(0.75), "median"]).rename(columns={"count": "n_used"})
    out = base.join(v, how="left").reset_index()
    if value == "nbits":
        over = ran.assign(excess=ran["nbits"].astype(float) - ran["kl"]).groupby(
            keys, dropna=False, sort=False)["excess"].agg(["mean", "sem"])
        over.columns = ["excess_mean", "excess_sem"]
        out = out.merge(over.reset_index(), on=keys, how="left")
    for c in ("mean", "sem", "q25", "q75", "median"):
        out[c] = out[c].astype(float)
    return out.sort_values("cell_index").reset_index(drop=True)


def linear_fit(stats, method, xcol):
    """Least-squares line through the cell means of an exact method (uncensored cells): slope, intercept."""
    s = stats[(stats["method"] == method) & (stats["censored"] == 0) & stats["mean"].notna()]
    if len(s) < 2:
        return None
    slope, icept = np.polyfit(s[xcol].to_numpy(float), s["mean"].to_numpy(float), 1)
    return float(slope), float(icept)


def censoring_onset(stats, method, xcol):
    """Smallest x at which some of the method's messages are censored (None if never)."""
    s = stats[(stats["method"] == method) & (stats["censored"] > 0)]
    return None if s.empty else float(s[xcol].min())


def summary_text(df):
    lines = []
    for (cons, fam, kl), part in df.groupby(["construction", "family", "grid_kl"], sort=False, dropna=False):
        xcol, _ = x_column(part)
        st = cell_stats(part, "steps")
        cl = cell_stats(part, "nbits")
        st["nbits_minus_kl"] = cl["excess_mean"].to_numpy()
        st["x"] = st[xcol]
        at = "" if pd.isna(kl) or cons != "fixed_kl" else f", KL = {kl:g} bits"
        lines.append(f"  [{cons}, {fam}{at}, x = {xcol}]")
        cols = ["method", "code_bits", "x", "n", "censored", "mean", "median", "kl", "nbits_minus_kl"]
        tab = st[cols].rename(
            columns={"mean": "steps_mean", "median": "steps_median", "kl": "kl_mean"})
        text = tab.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        lines.append("    " + text.replace("\n", "\n    "))
        for m in EXACT_LINEAR:
            f = linear_fit(st, m, xcol)
            if f:
                lines.append(f"    fit {m}: steps = {f[0]:.3f} x {xcol} + {f[1]:.2f}")
        for m in EXPONENTIAL:
            if m in set(st["method"]):
                on = censoring_onset(st, m, xcol)
                lines.append(f"    {m}: first censored at {xcol} = {on}" if on is not None
                             else f"    {m}: never censored")
    return "\n".join(lines)
