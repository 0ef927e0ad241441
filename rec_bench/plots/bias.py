"""Bias figures for the approximate fixed-length methods (DAD*, ORC, MRC) at equal code bits.

Per cell (pair, method, code bits) the bias is measured with :func:`rec_bench.bias.bias_of_samples`
on the cell's decoded samples: the KS distance to Q. The noise floor is marked twice: the band
below the Kolmogorov 99.9% quantile of the KS distance of n exact samples (a KS distance inside it
is not detected at alpha = 1e-3), and the KS distance an exact method (AD*, when the study ran it
at the same pair) actually reached. Only ``fixed_kl`` pairs (one scalar Q per pair) are drawn.

Both kinds draw from a study's rows or from the per-cell table :func:`bias_cells` makes of them
(``write_summary`` keeps it as ``results/bias_summary.csv``, small enough for git: the committed
one is ``results/reference/bias_summary.csv``), so
``make figures`` redraws them when only that table is present.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..bias import bias_of_samples
from . import register
from ..methods import METHODS
from ._style import METHOD_LABELS, METHOD_MARKERS, bits, color, legend_below, method_order, setup

APPROXIMATE = tuple(n for n, m in METHODS.items() if not m.exact)  # from the method registry


def bias_cells(df):
    """One row per (pair, method, code bits): n, KS distance, p-value, detected, moment errors,
    mean/sem of steps and the cell's wall time per message."""
    from ..pairs import fixed_kl

    df = df[df["construction"] == "fixed_kl"]
    if df.empty:
        raise ValueError("the bias plots need fixed_kl pairs")
    if df["censored"].any():
        raise ValueError(f"{int(df['censored'].sum())} censored rows: the bias of a partial cell "
                         "is not measured")
    rows = []
    keys = ["grid_kl", "grid_dinf", "method", "code_bits"]
    for (kl, dinf, method, code_bits), part in df.groupby(keys, dropna=False, sort=True):
        q, _ = fixed_kl(kl, dinf)
        r = bias_of_samples(part["sample"].to_numpy(float), q)
        steps = part["steps"].to_numpy(float)
        secs = part["cell_seconds"].iloc[0] / len(part) if "cell_seconds" in part else np.nan
        rows.append({
            "grid_kl": kl, "grid_dinf": dinf, "method": method, "code_bits": code_bits,
            "extra_bits": (code_bits - np.floor(kl + 0.5)) if pd.notna(code_bits) else np.nan,
            "n": r.n, "ks": r.ks, "ks_pvalue": r.ks_pvalue, "ks_critical": r.ks_critical,
            "ks_scale": r.ks_scale, "detected": r.detected, "mean_rel_err": r.mean_rel_err,
            "mean_se": r.mean_se, "var_rel_err": r.var_rel_err, "var_se": r.var_se,
            "steps_mean": steps.mean(), "steps_sem": steps.std(ddof=1) / np.sqrt(len(steps)),
            "seconds_per_message": secs,
        })
    return pd.DataFrame(rows)


def _panels(n, plt, height=3.6):
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.9 * cols + 0.5, height * rows), squeeze=False,
                             sharey=True)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def is_cells_table(df):
    """Whether ``df`` is already a per-cell bias table (from :func:`bias_cells` or its CSV)."""
    return "ks" in df.columns and "rep" not in df.columns


def _select(df, methods=APPROXIMATE, floor_method="ad*"):
    """The fixed_kl rows of ``methods`` (study rows, cells or a bias table); ValueError if none."""
    df = df[df["construction"] == "fixed_kl"] if "construction" in df.columns else df
    if df.empty:
        raise ValueError("the bias plots need fixed_kl pairs")
    if not df["method"].isin(methods).any():
        raise ValueError(f"no cells of the methods {', '.join(methods)}")
    return df


def _pair_panels(df, methods, floor_method):
    """One panel per pair: (fig, axes, panels), where panels yields (ax, kl, dinf, part, exact):
    the approximate methods' cells at that pair and the exact floor method's cell there (if run)."""
    setup()
    import matplotlib.pyplot as plt

    cells = _select(df if is_cells_table(df) else bias_cells(df), methods)
    approx = cells[cells["method"].isin(methods)]
    pairs = approx[["grid_kl", "grid_dinf"]].drop_duplicates().sort_values(["grid_kl", "grid_dinf"])
    fig, axes = _panels(len(pairs), plt)

    def panels():
        for ax, (kl, dinf) in zip(axes, pairs.itertuples(index=False)):
            at = (cells["grid_kl"] == kl) & (cells["grid_dinf"] == dinf)
            yield ax, kl, dinf, approx[at[approx.index]], cells[at & (cells["method"] == floor_method)]

    return fig, axes, panels()


@register("bias_vs_bits", "KS distance to Q against extra code bits, per method, with the noise floor",
          select=_select, from_cells=True)
def bias_vs_bits(df, methods=APPROXIMATE, floor_method="ad*"):
    fig, axes, panels = _pair_panels(df, methods, floor_method)
    for ax, kl, dinf, part, ex in panels:
        x = part["extra_bits"]
        crit = part["ks_critical"].max()
        ax.axhspan(1e-4, crit, color="0.85", zorder=0,
                   label="noise floor: not detected (KS < 99.9% Kolmogorov quantile)")
        ax.axhline(part["ks_scale"].max(), color="0.5", lw=0.8, ls=":", label="95% quantile, exact")
        if not ex.empty:
            ax.axhline(ex["ks"].iloc[0], color=color(floor_method), lw=1.2, ls="--",
                       label=f"{METHOD_LABELS.get(floor_method, floor_method)} (exact) at the same n")
        for m in method_order(part["method"]):
            s = part[part["method"] == m].sort_values("extra_bits")
            c, mk = color(m), METHOD_MARKERS.get(m, "o")
            ax.plot(s["extra_bits"], s["ks"], color=c, lw=1.2, alpha=0.8)
            det = s["detected"].to_numpy(bool)
            ax.plot(s["extra_bits"][det], s["ks"][det], mk, color=c, ms=5, label=METHOD_LABELS.get(m, m))
            ax.plot(s["extra_bits"][~det], s["ks"][~det], mk, mfc="white", mec=c, ms=5)
        ax.set_yscale("log")
        ax.set_ylim(max(1e-4, 0.3 * min(part["ks"].min(), part["ks_scale"].min())), 1.0)
        ax.set_xticks(np.arange(x.min(), x.max() + 1, 2))
        ax.set_xlabel("code bits - KL")
        ax.set_title(f"KL = {bits(kl)}, $D_\\infty$ = {bits(dinf)} (n = {part['n'].max():,})", fontsize=9)
    axes[0].set_ylabel("KS distance to Q")
    fig.tight_layout()
    from matplotlib.lines import Line2D

    hollow = Line2D([], [], marker="o", ls="none", mfc="white", mec="0.3", ms=5)
    legend_below(fig, axes[:1], extra=[(hollow, "hollow marker: bias not detected (KS p >= 1e-3)")], ncol=4)
    return fig


@register("bias_runtime_vs_bits", "steps per message against code bits: DAD* searches, ORC/MRC evaluate 2^K",
          select=_select, from_cells=True)
def bias_runtime_vs_bits(df, methods=APPROXIMATE, floor_method="ad*"):
    fig, axes, panels = _pair_panels(df, methods, floor_method)
    for ax, kl, dinf, part, ex in panels:
        b = np.sort(part["code_bits"].unique())
        ax.plot(b, 2.0**b, color="k", lw=0.8, ls=":", label="$2^K$")
        if not ex.empty:
            ax.axhline(ex["steps_mean"].iloc[0], color=color(floor_method), lw=1.2, ls="--",
                       label=f"{METHOD_LABELS.get(floor_method, floor_method)} (no depth limit)")
        for m in method_order(part["method"]):
            s = part[part["method"] == m].sort_values("code_bits")
            ax.errorbar(s["code_bits"], s["steps_mean"], yerr=s["steps_sem"],
                        fmt=METHOD_MARKERS.get(m, "o") + "-",
                        color=color(m), ms=7 if m == "orc" else 4.5, capsize=2, lw=1.2,
                        zorder=2 if m == "orc" else 3, label=METHOD_LABELS.get(m, m))
            first = s[~s["detected"]]
            if not first.empty:  # first budget whose bias is not detected
                f = first.iloc[0]
                ax.plot(f["code_bits"], f["steps_mean"], "o", mfc="none", mec=color(m), ms=11, mew=1.5)
        ax.set_yscale("log", base=2)
        ax.set_xlabel("code bits (DAD*: D + 1; ORC, MRC: K)")
        ax.axvline(kl, color="0.6", lw=0.8)
        ax.set_title(f"KL = {bits(kl)}, $D_\\infty$ = {bits(dinf)}", fontsize=9)
    axes[0].set_ylabel("steps per message (log2)")
    fig.tight_layout()
    from matplotlib.lines import Line2D

    ringed = Line2D([], [], marker="o", ls="none", mfc="none", mec="0.3", ms=11, mew=1.5)
    grey = Line2D([], [], color="0.6", lw=0.8)
    legend_below(fig, axes[:1], extra=[(ringed, "first budget whose bias is not detected"), (grey, "KL")],
                 ncol=4)
    return fig


def write_summary(results, out):
    """Write the per-cell bias table of a bias study's results (one row per pair, method and code
    size) to ``out`` as CSV: small enough to keep in the repository, unlike the per-message rows."""
    from ..results import read_results

    df, _ = read_results(results)
    cells = bias_cells(df)
    cells.to_csv(out, index=False, float_format="%.6g")
    return cells


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m rec_bench.plots.bias RESULTS.parquet SUMMARY.csv")
    print(f"wrote {sys.argv[2]}: {len(write_summary(sys.argv[1], sys.argv[2]))} cells")
