"""Codelength figures: bits sent against KL (Gaussian channel) and against D_inf at fixed KL."""

from __future__ import annotations

import numpy as np

from ..results.summary import cell_stats
from . import register
from ._style import METHOD_LABELS, bands_for, bits, draw_series, legend_below, method_order, setup


def _bounds(ax, k, c, lw=1.0):
    ax.plot(k, k, color="k", lw=lw, label="KL (lower reference)")
    ax.plot(k, k + np.log2(k + 1) + c, color="k", ls="--", lw=lw, label=f"KL + log2(KL+1) + {c:g}")
    ax.plot(k, k + 2 * np.log2(k + 1) + c, color="k", ls=":", lw=lw, label=f"KL + 2 log2(KL+1) + {c:g}")


def _rows(construction):
    def select(df, c=1.0, methods=None):
        df = df[df["construction"] == construction]
        if methods:
            df = df[df["method"].isin(methods)]
        if df.empty:
            of = f" of methods {', '.join(methods)}" if methods else ""
            raise ValueError(f"no {construction} rows{of}")
        return df

    return select


@register("codelength_vs_kl", "bits sent against KL on the Gaussian channel, with the KL + O(log KL) curves",
          select=_rows("gaussian_channel"))
def codelength_vs_kl(df, c=1.0, methods=None):
    setup()
    import matplotlib.pyplot as plt

    df = codelength_vs_kl.select(df, methods=methods)
    st = cell_stats(df, "nbits")
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.3))
    band = bands_for(len(st.groupby(["method", "code_bits"], dropna=False)))
    for m in method_order(st["method"]):
        s = st[st["method"] == m]
        for cb, g in s.groupby("code_bits", dropna=False):
            draw_series(ax0, g, "kl", m, label=METHOD_LABELS.get(m, m) if not g["code_bits"].notna().any()
                        else f"{METHOD_LABELS.get(m, m)} {bits(int(cb))}", band=band)
            ex = g.assign(mean=g["excess_mean"], sem=g["excess_sem"], q25=g["q25"] - g["kl"],
                          q75=g["q75"] - g["kl"])
            draw_series(ax1, ex, "kl", m, label=METHOD_LABELS.get(m, m), band=band)
    k = np.linspace(0, st["kl"].max() * 1.02, 200)
    _bounds(ax0, k, c)
    ax1.axhline(0, color="k", lw=1)
    ax1.plot(k, np.log2(k + 1) + c, color="k", ls="--", lw=1)
    ax1.plot(k, 2 * np.log2(k + 1) + c, color="k", ls=":", lw=1)
    for ax in (ax0, ax1):
        ax.set_xlabel("KL = mean over messages (bits)  [= I]")
    ax0.set_ylabel("codelength (bits)")
    ax1.set_ylabel("codelength - KL (bits)")
    ax0.set_title("Gaussian channel: bits sent per message")
    ax1.set_title("overhead above KL")
    fig.tight_layout()
    legend_below(fig, [ax0], ncol=4)
    return fig


@register("codelength_vs_dinf", "bits sent against D_inf at fixed KL: flat, following KL",
          select=_rows("fixed_kl"))
def codelength_vs_dinf(df, c=1.0, methods=None):
    setup()
    import matplotlib.pyplot as plt

    df = codelength_vs_dinf.select(df, methods=methods)
    st = cell_stats(df, "nbits")
    kls = sorted(st["grid_kl"].unique())
    fig, axes = plt.subplots(1, len(kls), figsize=(4.2 * len(kls) + 0.5, 4.3), squeeze=False)
    for ax, kv in zip(axes[0], kls):
        part = st[st["grid_kl"] == kv]
        ms = method_order(part["method"])
        for m in ms:
            draw_series(ax, part[part["method"] == m], "grid_dinf", m, label=METHOD_LABELS.get(m, m),
                        band=bands_for(len(ms)))
        d = np.linspace(part["grid_dinf"].min(), part["grid_dinf"].max(), 100)
        ax.axhline(kv, color="k", lw=1, label="KL")
        ax.axhline(kv + np.log2(kv + 1) + c, color="k", ls="--", lw=1, label=f"KL + log2(KL+1) + {c:g}")
        ax.axhline(kv + 2 * np.log2(kv + 1) + c, color="k", ls=":", lw=1, label=f"KL + 2 log2(KL+1) + {c:g}")
        ax.plot(d, d, color="r", lw=0.8, alpha=0.6, label=r"$D_\infty$ (for contrast)")
        drawn = part["q75"].max() if bands_for(len(ms)) else part["mean"].max()
        top = max(drawn, kv + 2 * np.log2(kv + 1) + c)
        ax.set_ylim(0, top * 1.25)
        ax.set_xlabel(r"$D_\infty$ (bits)")
        ax.set_title(f"KL = {bits(kv)}", fontsize=10)
    axes[0][0].set_ylabel("codelength (bits)")
    fig.tight_layout()
    legend_below(fig, axes[0], ncol=5)
    return fig
