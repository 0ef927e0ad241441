"""Shared look: one fixed colour and marker per method in every figure, bits on divergence axes."""

from __future__ import annotations

import numpy as np

from ..methods import METHODS

# one fixed colour, marker and label per method (from the method registry; seaborn "colorblind"
# palette) so that a method looks the same in every figure; a method the registry does not know
# (results from another version) is drawn in grey with its own name
METHOD_COLORS = {name: m.color for name, m in METHODS.items()}
METHOD_MARKERS = {name: m.marker for name, m in METHODS.items()}


class _Labels(dict):
    def __missing__(self, method):
        return method


METHOD_LABELS = _Labels({name: m.label for name, m in METHODS.items()})


def color(method):
    return METHOD_COLORS.get(method, "#333333")


def setup():
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def method_order(methods):
    order = list(METHOD_COLORS)
    return sorted(set(methods), key=lambda m: order.index(m) if m in order else len(order))


def draw_series(ax, st, xcol, method, label=None, hollow_censored=True, annotate=True, y="mean"):
    """Mean with standard-error bars and an interquartile band; censored cells drawn hollow and
    annotated with their censored fraction."""
    s = st.sort_values(xcol)
    x = s[xcol].to_numpy(float)
    c = color(method)
    mk = METHOD_MARKERS.get(method, "o")
    ax.fill_between(x, s["q25"].to_numpy(float), s["q75"].to_numpy(float), color=c, alpha=0.15, lw=0)
    ok = (s["censored"] == 0).to_numpy()
    ax.plot(x, s[y].to_numpy(float), color=c, lw=1.2, alpha=0.8)
    ax.errorbar(x[ok], s[y].to_numpy(float)[ok], yerr=s["sem"].to_numpy(float)[ok], fmt=mk, color=c,
                ms=4.5, capsize=2, label=label or METHOD_LABELS.get(method, method))
    if hollow_censored and (~ok).any():
        ax.plot(x[~ok], s[y].to_numpy(float)[~ok], mk, mfc="none", mec=c, ms=6, mew=1.3,
                label=None)
        if annotate:
            for xi, yi, f in zip(x[~ok], s[y].to_numpy(float)[~ok], s["censored"].to_numpy(float)[~ok]):
                if np.isfinite(yi):
                    ax.annotate(f"{100 * f:.0f}%", (xi, yi), textcoords="offset points", xytext=(0, 6),
                                ha="center", fontsize=7, color=c)
