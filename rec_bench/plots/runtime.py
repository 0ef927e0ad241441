"""Runtime figures: search steps against D_inf (or I), with A*'s linear fits and the 2^D_inf law."""

from __future__ import annotations

import numpy as np

from ..results.summary import EXACT_LINEAR, EXPONENTIAL, cell_stats, censoring_onset, linear_fit, x_column
from . import register
from ._style import (METHOD_LABELS, METHOD_MARKERS, bands_for, bits, color, draw_series, legend_outside,
                     method_order, setup)


def _filter(df, family=None, construction=None, methods=None):
    if family:
        df = df[df["family"] == family]
    if construction:
        df = df[df["construction"] == construction]
    if methods:
        df = df[df["method"].isin(methods)]
    if df.empty:
        raise ValueError(f"no rows to plot (family={family}, construction={construction}, methods={methods})")
    return df


def _runtime(df, xcol, xlabel, family=None, construction=None, methods=None, title=None):
    setup()
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    df = _filter(df, family, construction, methods)
    st = cell_stats(df, "steps")
    ms = method_order(st["method"])
    fig = plt.figure(figsize=(14, 5.2))
    gs = fig.add_gridspec(2, 2, height_ratios=[3.2, 1], width_ratios=[1, 1.05], hspace=0.08)
    ax0 = fig.add_subplot(gs[:, 0])
    ax1 = fig.add_subplot(gs[0, 1])
    axc = fig.add_subplot(gs[1, 1], sharex=ax1)
    var = "I" if xcol == "grid_info" else r"$D_\infty$"
    # (a) linear axes: the A* methods and their fitted lines
    xs = np.linspace(st[xcol].min(), st[xcol].max(), 100)
    for m in ms:
        if m not in EXACT_LINEAR:
            continue
        s = st[st["method"] == m]
        fit = linear_fit(s, m, xcol)
        lab = METHOD_LABELS[m] + (f": slope {fit[0]:.3f} steps/bit" if fit else "")
        draw_series(ax0, s, xcol, m, label=lab, band=bands_for(sum(x in EXACT_LINEAR for x in ms)))
        if fit:
            ax0.plot(xs, fit[0] * xs + fit[1], "--", color=color(m), lw=1)
    ax0.set_xlabel(xlabel)
    ax0.set_ylabel("steps per message")
    ax0.set_title(f"(a) A* coding, linear in {var} (dashed: least-squares fit; band: quartiles)", fontsize=10)
    lin = st[st["method"].isin(EXACT_LINEAR)]
    if len(lin):  # headroom: the legend's corner (upper left) stays above rising lines
        ax0.set_ylim(0, 1.3 * max(lin["q75"].max(), lin["mean"].max()))
    ax0.legend(fontsize=8, loc="upper left")
    # (b) log2 axis: every method, with the 2^x law and the step budget; no bands, so that every
    # method's line shows (the quartiles of the linear methods are in (a))
    for m in ms:
        draw_series(ax1, st[st["method"] == m], xcol, m, annotate=False, band=False)
    expo = [m for m in EXPONENTIAL if m in ms]
    if expo:
        budget = st.loc[st["method"].isin(expo), "max_steps"].max()
        if xcol != "grid_info":
            xe = np.linspace(st[xcol].min(), min(st[xcol].max(), np.log2(budget) + 3), 200)
            ax1.plot(xe, 2.0**xe, ":", color="k", lw=1.4,
                     label=r"$2^{D_\infty}$ (mean of " + ", ".join(METHOD_LABELS[m] for m in expo) + ")")
        ax1.axhline(budget, color="0.3", ls="-.", lw=0.9, label=f"step budget {int(budget):,}")
    ax1.set_yscale("log", base=2)
    ymax = max(st["mean"].max(), budget if expo else 1)  # the exponential methods' budget, not A*'s
    ax1.set_ylim(0.5, ymax * 4)
    ax1.set_ylabel("steps per message (log2)")
    ax1.set_title("(b) all methods: mean steps; hollow: some messages censored (the mean is a lower bound)",
                  fontsize=10)
    handles, labels = ax1.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="o", ls="none", mfc="none", mec="k"))
    labels.append("censored cell")
    legend_outside(ax1, handles, labels)
    plt.setp(ax1.get_xticklabels(), visible=False)
    # (c) censored fraction per method
    for m in ms:
        s = st[st["method"] == m].sort_values(xcol)
        if s["censored"].gt(0).any():
            axc.plot(s[xcol], 100 * s["censored"], marker=METHOD_MARKERS.get(m, "o"), ms=3.5, color=color(m),
                     label=f"{METHOD_LABELS[m]} (from {bits(censoring_onset(st, m, xcol))})")
    if not st["censored"].gt(0).any():
        axc.text(0.5, 0.5, "no censored messages", transform=axc.transAxes, ha="center", va="center")
    else:
        legend_outside(axc, fontsize=7)
    axc.set_ylim(-5, 105)
    axc.set_ylabel("censored %")
    axc.set_xlabel(xlabel)
    if title:
        fig.suptitle(title, y=0.995)
    fig.subplots_adjust(top=0.88 if title else 0.93, wspace=0.22)
    return fig


def _one_kl(df, family=None, construction=None, methods=None, kl=None):
    """The rows at one fixed KL: ``kl`` (bits) when given; a table whose fixed-KL rows hold several
    KLs must name one, as their series would otherwise run together."""
    df = _filter(df, family, construction, methods)
    kls = sorted(df["grid_kl"].dropna().unique())
    if kl is not None:
        df = df[np.isclose(df["grid_kl"], kl)]
        if df.empty:
            held = ", ".join(f"{k:g}" for k in kls)
            raise ValueError(f"no rows at kl = {kl:g} bits; the table holds KL {held} bits")
    elif len(kls) > 1:
        raise ValueError(f"the table holds fixed-KL rows at KL {', '.join(f'{k:g}' for k in kls)} bits; "
                         "choose one with kl=")
    return df


@register("runtime_vs_dinf", "steps against D_inf: A* fits (linear axes) and all methods against 2^D_inf",
          select=_one_kl)
def runtime_vs_dinf(df, family=None, construction=None, methods=None, kl=None):
    df = _one_kl(df, family, construction, kl=kl)
    xcol, xlabel = x_column(df)
    if xcol == "grid_info":
        xcol, xlabel = "dinf", r"mean $D_\infty$ over messages (bits)"
    return _runtime(df, xcol, xlabel, methods=methods)


def _channel(df, methods=None):
    return _filter(df, construction="gaussian_channel", methods=methods)


@register("runtime_vs_info", "steps against the Gaussian channel's I", select=_channel)
def runtime_vs_info(df, methods=None):
    df = _channel(df)
    return _runtime(df, "grid_info", "I = mean KL (bits)", methods=methods)
