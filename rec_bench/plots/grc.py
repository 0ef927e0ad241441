"""The O(KL) methods side by side: steps against D_inf at fixed KL, with fitted slopes.

``grc_runtime`` draws, from a fixed-KL runtime table (studies/runtime_fixed_kl.yaml), the mean
steps of A* coding (AS*, AD*), GPRS (split and dyadic) and greedy rejection coding (GRCS, GRCD)
against D_inf at one KL (2 bits by default), each with its least-squares line through the cell
means and the line's slope in steps per bit of D_inf: (a) all of them on linear axes, where A*
coding climbs with D_inf, (b) GPRS and GRC alone, whose steps stay put. Their code lengths against
KL, with the bounds, are the ``codelength_vs_kl`` figure of studies/codelength_channel.yaml
restricted to the same methods.
"""

from __future__ import annotations

import numpy as np

from ..results.summary import cell_stats, linear_fit
from . import register
from ._style import METHOD_LABELS, bits, color, draw_series, legend_below, setup

A_STAR = ("as*", "ad*")
O_KL = ("gprs", "gprs-dyadic", "grcs", "grcd")


def _rows(df, kl=2.0):
    df = df[(df["construction"] == "fixed_kl") & df["method"].isin(A_STAR + O_KL)]
    df = df[np.isclose(df["grid_kl"], kl)]
    if not df["method"].isin(("grcs", "grcd")).any():
        raise ValueError(f"grc_runtime needs grcs or grcd rows of the fixed_kl construction at KL = {kl:g} "
                         "bits")
    return df


@register("grc_runtime", "mean steps of A* coding, GPRS and GRC against D_inf at fixed KL, with fitted "
          "slopes", select=_rows)
def grc_runtime(df, kl=2.0):
    setup()
    import matplotlib.pyplot as plt

    df = _rows(df, kl)
    st = cell_stats(df, "steps")
    present = [m for m in A_STAR + O_KL if (st["method"] == m).any()]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.6))
    xs = np.linspace(st["grid_dinf"].min(), st["grid_dinf"].max(), 100)
    for ax, methods in ((ax0, present), (ax1, [m for m in present if m in O_KL])):
        for m in methods:
            s = st[st["method"] == m]
            fit = linear_fit(s, m, "grid_dinf")
            label = METHOD_LABELS.get(m, m) + (f": slope {fit[0]:+.4f} steps/bit" if fit else "")
            draw_series(ax, s, "grid_dinf", m, label=label, band=False)
            if fit:
                ax.plot(xs, fit[0] * xs + fit[1], "--", color=color(m), lw=0.9)
        ax.set_xlabel(r"$D_\infty$ (bits)")
        ax.set_ylabel("mean steps per message")
    ax0.set_ylim(0, None)
    okl = st[st["method"].isin(O_KL)]
    if len(okl):
        ax1.set_ylim(0, 1.35 * float((okl["mean"] + okl["sem"]).max()))
    ax0.set_title(f"(a) KL = {bits(kl)}: A* coding grows with " + r"$D_\infty$", fontsize=10)
    ax1.set_title("(b) GPRS and greedy rejection coding: flat (dashed: least-squares lines)", fontsize=10)
    fig.tight_layout()
    legend_below(fig, [ax0], ncol=3)
    return fig
