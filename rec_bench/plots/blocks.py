"""Blocks: runtime and bias against code bits per coordinate, for messages of b coordinates.

From a study whose methods carry ``block`` (rec_bench.coding.blocks; studies/blocks.yaml): each
cell codes messages of b copies of one ``fixed_kl`` pair, so its bits per coordinate are
nbits / b and it is compared with the per-coordinate methods (b = 1, AS* and AD* among them) at
equal total bits. Three panels against mean code bits per coordinate, a curve per (method, b)
running over K for ORC and MRC, a point for the exact methods: candidates (steps) per coordinate,
seconds per coordinate (the cell's wall time over its messages' coordinates), and the bias: the KS
distance of the blocks' first coordinates to Q and of the Gaussianised sum of each block
(``block_joint``) to N(0, 1) (rec_bench.bias.bias_of_block_samples), with the KS distance that
alpha = 1e-3 detects. A hollow marker: not detected.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats

from . import register
from ._style import METHOD_LABELS, METHOD_MARKERS, color, legend_below, method_order, setup

LINESTYLES = {1: ":", 2: "-.", 4: "--"}
ALPHA = 1e-3


def _select(df, methods=None):
    if "block_size" not in df.columns:
        raise ValueError("the blocks figure needs a study with blocks (a method with block: ...)")
    df = df[df["construction"] == "fixed_kl"]
    if methods:
        df = df[df["method"].isin(methods)]
    if df.empty:
        raise ValueError("no fixed_kl rows with blocks")
    return df


def _select_cells(cells, methods=None):
    if methods and not cells["method"].isin(methods).any():
        raise ValueError(f"no cells of methods {', '.join(methods)}")
    if not (cells["construction"] == "fixed_kl").any():
        raise ValueError("no fixed_kl cells")
    return cells


def block_cells(df):
    """One row per cell (method, block size, K): bits, candidates and seconds per coordinate, and
    the KS distances (first coordinate against Q, joint against N(0, 1)) with their p-values."""
    from ..pairs import fixed_kl

    rows = []
    for (kl, dinf, m, b, k), g in df.groupby(["grid_kl", "grid_dinf", "method", "block_size", "bits"],
                                             dropna=False, sort=True):
        ok = g[~g["censored"]]
        q, _ = fixed_kl(float(kl), float(dinf))
        row = {"grid_kl": kl, "grid_dinf": dinf, "method": m, "block_size": int(b), "bits": k,
               "n": len(g), "censored": int(g["censored"].sum()),
               "bits_per_coordinate": float(ok["nbits"].astype(float).mean()) / b,
               "steps_per_coordinate": float(g["steps"].mean()) / b,
               "seconds_per_coordinate": float(g["cell_seconds"].iloc[0]) / (len(g) * b)}
        if len(ok) > 1 and not g["censored"].any():
            first = stats.kstest(ok["sample"].to_numpy(), q.scipy().cdf)
            row.update(ks=first.statistic, ks_pvalue=first.pvalue)
            if b > 1:
                joint = stats.kstest(ok["block_joint"].to_numpy(), "norm")
                row.update(ks_joint=joint.statistic, ks_joint_pvalue=joint.pvalue)
        row["ks_critical"] = float(stats.kstwo(len(g)).ppf(1 - ALPHA))
        rows.append(row)
    return pd.DataFrame(rows)


@register("blocks", "runtime and bias against code bits per coordinate, blocks of b coordinates",
          select=_select_cells)
def blocks(df, methods=None, title=None):
    setup()
    import matplotlib.pyplot as plt

    cells = block_cells(_select(df, methods))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    kl = float(cells["grid_kl"].iloc[0])
    for m in method_order(cells["method"]):
        for b, g in cells[cells["method"] == m].groupby("block_size"):
            g = g.sort_values("bits_per_coordinate")
            ls = LINESTYLES.get(int(b), "-")
            label = f"{METHOD_LABELS.get(m, m)}, b = {int(b)}"
            mk = METHOD_MARKERS.get(m, "o")
            x = g["bits_per_coordinate"]
            for ax, y in ((axes[0], "steps_per_coordinate"), (axes[1], "seconds_per_coordinate")):
                ax.plot(x, g[y], ls=ls, marker=mk, color=color(m), ms=5, lw=1.2, label=label)
                cen = g["censored"] > 0
                if cen.any():
                    ax.plot(x[cen], g[y][cen], mk, mfc="white", mec=color(m), ms=7)
            if "ks" in g:
                for col, face in (("ks", None), ("ks_joint", "white")):
                    if col not in g or g[col].isna().all():
                        continue
                    h = g[g[col].notna()]
                    det = h[col + "_pvalue"] < ALPHA
                    axes[2].plot(h["bits_per_coordinate"], h[col], ls=ls, color=color(m), lw=1.0, alpha=0.8)
                    axes[2].plot(h["bits_per_coordinate"][det], h[col][det], mk, color=color(m), ms=5,
                                 mfc=face or color(m))
                    axes[2].plot(h["bits_per_coordinate"][~det], h[col][~det], mk, color=color(m), ms=5,
                                 mfc="white", alpha=0.5)
    for ax in axes:
        ax.axvline(kl, color="k", lw=0.8, label=f"KL = {kl:g} bits a coordinate")
        ax.set_xlabel("code bits per coordinate")
    axes[2].axhline(cells["ks_critical"].max(), color="0.4", lw=0.8, ls="--",
                    label=f"KS detected at alpha = {ALPHA:g}")
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].set_ylabel("candidates (steps) per coordinate")
    axes[1].set_ylabel("seconds per coordinate")
    axes[2].set_ylabel("KS distance: first coordinate (filled), block sum (white)")
    axes[0].set_title("runtime: candidates")
    axes[1].set_title("runtime: wall time")
    axes[2].set_title("bias of the decoded blocks")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    legend_below(fig, [axes[0], axes[2]], ncol=5)
    return fig

