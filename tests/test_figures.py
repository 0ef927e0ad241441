"""Figures a reader can read: no legend over data, "1 bit" / "2 bits", no band over another method's
line. Drawn from the committed reference runs (results/reference/), every plot their specs ask for."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_bench.plots import load_all
from rec_bench.results import read_results

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"
STUDIES = ["runtime_fixed_kl", "runtime_channel", "runtime_families", "codelength_channel",
           "codelength_fixed_kl"]


def _figures(name):
    df, meta = read_results(REFERENCE / f"{name}.parquet")
    for plot in meta["spec"]["plots"]:
        yield plot["kind"], load_all()[plot["kind"]](df, **(plot.get("options") or {}))


def _data_points(fig):
    """Display coordinates of every drawn data point (line vertices, markers, band vertices)."""
    pts = []
    for ax in fig.axes:
        for ln in ax.lines:
            xy = np.column_stack([np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)])
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy):
                pts.append(ax.transData.transform(xy))
        for coll in ax.collections:
            for path in coll.get_paths():
                v = path.vertices[np.isfinite(path.vertices).all(axis=1)]
                if len(v):
                    pts.append(coll.get_transform().transform(v))
    return np.concatenate(pts) if pts else np.zeros((0, 2))


def _legends(fig):
    return [leg for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends) if leg is not None]


@pytest.mark.parametrize("name", STUDIES)
def test_no_legend_over_data_and_bits_in_the_singular(name):
    import matplotlib.pyplot as plt

    for kind, fig in _figures(name):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        pts = _data_points(fig)
        for leg in _legends(fig):
            box = leg.get_window_extent(renderer)
            inside = (pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)
            assert not inside.any(), f"{name}/{kind}: the legend covers {int(inside.sum())} data points"
        texts = [t.get_text() for ax in fig.axes for t in [ax.title, *ax.texts]] + \
                [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
        assert not [t for t in texts if "= 1 bits" in t or " 1 bits" in t], (name, kind)
        plt.close(fig)


def test_bias_figures_from_the_per_cell_table():
    import matplotlib.pyplot as plt

    table = pd.read_csv(REFERENCE / "bias_summary.csv")
    for kind in ("bias_vs_bits", "bias_runtime_vs_bits"):
        fig = load_all()[kind](table)
        fig.canvas.draw()
        assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1  # below the panels
        titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
        assert titles[0].startswith("KL = 1 bit,") and "KL = 2 bits," in titles[1]
        plt.close(fig)


def test_no_band_hides_another_methods_line():
    """Bands are drawn only in panels of at most two series, and under every line."""
    import matplotlib.pyplot as plt

    for name in STUDIES:
        for kind, fig in _figures(name):
            for ax in fig.axes:
                bands = [c for c in ax.collections if type(c).__name__ in ("PolyCollection",
                                                                           "FillBetweenPolyCollection")]
                if bands:
                    colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in bands}
                    assert len(colours) <= 2, (name, kind, ax.get_title())
                    top_band = max(c.get_zorder() for c in bands)
                    assert all(ln.get_zorder() > top_band for ln in ax.lines), (name, kind, ax.get_title())
            plt.close(fig)
