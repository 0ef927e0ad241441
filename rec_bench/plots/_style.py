"""Shared look: one fixed colour and marker per method in every figure, bits on divergence axes.

Every method is drawn with the same weight: interquartile bands are drawn only in panels of at most
two series, and there under every line and marker, so no band hides another method's line; legends
sit outside the axes (:func:`legend_outside`, :func:`legend_under`, :func:`legend_below`), never
over data.
"""

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


BAND_Z, LINE_Z, MARK_Z = 1, 3, 4  # bands under every line, lines under every marker
MAX_BANDS = 2  # a panel of more series draws none: overlapping bands read as one grey mass


def bands_for(n_series):
    """Whether a panel drawing ``n_series`` series draws their interquartile bands."""
    return n_series <= MAX_BANDS


def bits(v):
    """``1 bit``, ``2 bits``, ``1.5 bits``: a number of bits with its unit in the right number."""
    return f"{v:g} bit" if float(v) == 1 else f"{v:g} bits"


def _unique(handles, labels):
    seen = {}
    for h, lab in zip(handles, labels):
        if lab and not lab.startswith("_") and lab not in seen:
            seen[lab] = h
    return list(seen.values()), list(seen)


def legend_outside(ax, handles=None, labels=None, **kw):
    """The legend of ``ax`` to the right of it, outside the axes."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    handles, labels = _unique(handles, labels)
    kw.setdefault("fontsize", 7.5)
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                     frameon=False, **kw)


def legend_under(ax, handles=None, labels=None, ncol=2, **kw):
    """The legend of ``ax`` centred under its x-axis label, outside the axes."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    handles, labels = _unique(handles, labels)
    kw.setdefault("fontsize", 7.5)
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=ncol,
                     frameon=False, **kw)


def legend_below(fig, axes, extra=(), ncol=4, **kw):
    """One legend for all of ``axes`` (labels merged), centred below the figure, outside every axes;
    ``extra`` adds (handle, label) pairs."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    for h, lab in extra:
        handles.append(h)
        labels.append(lab)
    handles, labels = _unique(handles, labels)
    kw.setdefault("fontsize", 8)
    return fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=min(ncol, len(labels)), frameon=False, **kw)


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


def draw_series(ax, st, xcol, method, label=None, hollow_censored=True, annotate=True, y="mean", band=True):
    """Mean with standard-error bars and (``band``) an interquartile band under every line;
    censored cells drawn hollow and annotated with their censored fraction."""
    s = st.sort_values(xcol)
    x = s[xcol].to_numpy(float)
    c = color(method)
    mk = METHOD_MARKERS.get(method, "o")
    if band:
        ax.fill_between(x, s["q25"].to_numpy(float), s["q75"].to_numpy(float), color=c, alpha=0.12, lw=0,
                        zorder=BAND_Z)
    ok = (s["censored"] == 0).to_numpy()
    ax.plot(x, s[y].to_numpy(float), color=c, lw=1.2, alpha=0.9, zorder=LINE_Z)
    ax.errorbar(x[ok], s[y].to_numpy(float)[ok], yerr=s["sem"].to_numpy(float)[ok], fmt=mk, color=c,
                ms=4.5, capsize=2, label=label or METHOD_LABELS.get(method, method), zorder=MARK_Z)
    if hollow_censored and (~ok).any():
        ax.plot(x[~ok], s[y].to_numpy(float)[~ok], mk, mfc="none", mec=c, ms=6, mew=1.3,
                label=None, zorder=MARK_Z)
        if annotate:
            for xi, yi, f in zip(x[~ok], s[y].to_numpy(float)[~ok], s["censored"].to_numpy(float)[~ok]):
                if np.isfinite(yi):
                    ax.annotate(f"{100 * f:.0f}%", (xi, yi), textcoords="offset points", xytext=(0, 6),
                                ha="center", fontsize=7, color=c, zorder=MARK_Z)
