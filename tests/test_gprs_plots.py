"""The gprs_runtime figure: draws GPRS, AS* and AD* with the published runs of Flamich (2023) from a
small synthetic table, and refuses tables it cannot draw with an error naming the problem."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rec_bench.plots import PlotOptionError, check, draw, load_all  # noqa: E402
from rec_bench.plots.gprs import A_STAR_RELIABLE_BITS, PUBLISHED, published  # noqa: E402

KIND = "gprs_runtime"


def table(construction, methods, xs, kls=(2.0,), n=40, seed=0, censor=None):
    """Rows shaped as a study's: one cell per (KL, x, method), ``n`` messages each."""
    rng = np.random.default_rng(seed)
    rows = []
    cell = 0
    for kl in kls:
        for x in xs:
            for m in methods:
                steps = 1 + rng.poisson(3.0 if m.startswith("gprs") else x, n)
                censored = np.zeros(n, bool)
                if censor and censor[0] == m:
                    censored[: censor[1]] = True
                    steps[: censor[1]] = 100
                fixed = construction == "fixed_kl"
                rows.append(pd.DataFrame({
                    "study_cell": f"{construction}-{cell}", "cell_index": cell, "construction": construction,
                    "family": "Normal/Normal", "grid_kl": kl if fixed else np.nan,
                    "grid_dinf": x if fixed else np.nan, "grid_info": np.nan if fixed else x,
                    "method": m, "code_bits": pd.array([pd.NA] * n, "Int64"), "max_steps": 100,
                    "rep": np.arange(n), "kl": kl if fixed else x, "dinf": x if fixed else x + 2.0,
                    "steps": steps, "nbits": pd.array(steps + 3, "Int64"), "censored": censored,
                    "censor": np.where(censored, "steps", ""),
                }))
                cell += 1
    return pd.concat(rows, ignore_index=True)


def containers(ax):
    """{legend label: (x, y)} of the errorbar series drawn on ``ax``."""
    out = {}
    for c in ax.containers:
        line = c.lines[0]
        out[c.get_label()] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return out


def hollow(ax):
    return {ln.get_label(): (np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float))
            for ln in ax.lines if ln.get_markerfacecolor() == "none"}


def test_fixed_kl_figure_draws_means_and_the_published_points():
    df = table("fixed_kl", ["as*", "ad*", "gprs"], [4.0, 10.0, 30.0], kls=(2.0, 1.5))
    fig = load_all()[KIND](df)
    ax0, ax1 = fig.axes[:2]
    series = containers(ax0)
    for kl in (2.0, 1.5):
        for m, label in (("gprs", "GPRS"), ("as*", "AS*"), ("ad*", "AD*")):
            x, y = series[f"{label}, KL = {kl:g} bits"]
            rows = df[(df.method == m) & (df.grid_kl == kl)]
            np.testing.assert_allclose(x, [4.0, 10.0, 30.0])
            np.testing.assert_allclose(y, rows.groupby("grid_dinf")["steps"].mean().to_numpy())
    assert set(containers(ax1)) == {"GPRS, KL = 2 bits", "GPRS, KL = 1.5 bits"}
    pub = published("gprs_and_a_star_runtime_vs_inf_div.csv")
    marks = hollow(ax0)
    (gx, gy), = [v for k, v in marks.items() if k.startswith("GPRS, " + PUBLISHED)]
    np.testing.assert_allclose(gx, pub.infdiv)
    np.testing.assert_allclose(gy, pub.mean_sac_gprs_runtime)
    (ax_, ay), = [v for k, v in marks.items() if k.startswith("A*, " + PUBLISHED)]
    kept = pub.infdiv <= A_STAR_RELIABLE_BITS  # the float32 A* is no reference beyond
    assert 0 < kept.sum() < len(pub)
    np.testing.assert_allclose(ax_, pub.infdiv[kept])
    np.testing.assert_allclose(ay, pub.mean_a_star_runtime[kept])
    assert "1.5 bits" in next(k for k in marks if k.startswith("GPRS, "))  # where they sit, said
    labels = [t.get_text() for t in ax0.get_legend().get_texts()]
    assert all(PUBLISHED in t for t in labels[-2:]) and not any(PUBLISHED in t for t in labels[:-2])
    plt.close(fig)


def test_channel_figure_with_global_gprs_quartiles(tmp_path):
    df = table("gaussian_channel", ["as*", "gprs", "gprs-dyadic", "gprs-global"], [1.0, 4.0, 8.0],
               censor=("gprs-global", 30))
    fig = load_all()[KIND](df)
    ax0, ax1 = fig.axes[:2]
    assert set(containers(ax0)) == {"AS*", "GPRS", "dyadic GPRS"}
    pub = published("gprs_and_a_star.csv")
    marks = hollow(ax0)
    np.testing.assert_allclose(marks[f"GPRS, {PUBLISHED}"][1], pub.mean_sac_gprs_runtime)
    assert not any("dyadic" in k for k in marks)  # another dyadic rule, counted otherwise: not drawn
    # global GPRS: 30 of 40 messages censored in every cell, so the median and the upper quartile
    # are unknown (lower bounds) and not drawn; the lower quartile is
    (med,) = [ln for ln in ax1.lines if ln.get_label() == "global GPRS: median"]
    assert np.isnan(np.asarray(med.get_ydata(), float)).all()
    glob = published("global_gprs_and_a_star.csv")
    np.testing.assert_allclose(hollow(ax1)[f"median, {PUBLISHED}"][1], glob.median_gprs_runtime)
    plt.close(fig)
    paths = draw(KIND, df.assign(censored=False, censor=""), tmp_path / "g", title="t")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in paths)


def test_a_channel_table_without_global_gprs_is_one_panel():
    fig = load_all()[KIND](table("gaussian_channel", ["gprs", "ad*"], [2.0, 6.0]))
    assert len(fig.axes) == 1
    plt.close(fig)


@pytest.mark.parametrize("make, options, message", [
    (lambda: table("fixed_kl", ["as*", "ad*"], [4.0]), {},
     "needs gprs rows; the table holds method as\\*, ad\\*"),
    (lambda: table("explicit", ["gprs"], [4.0]), {},
     "needs fixed_kl or gaussian_channel rows; the table holds construction explicit"),
    (lambda: pd.concat([table("fixed_kl", ["gprs"], [4.0]), table("gaussian_channel", ["gprs"], [2.0])]), {},
     "holds both fixed_kl and gaussian_channel rows; choose one with construction="),
    (lambda: table("fixed_kl", ["gprs"], [4.0]), {"construction": "gaussian_channel"},
     "needs fixed_kl or gaussian_channel rows; the table holds construction fixed_kl"),
])
def test_tables_it_cannot_draw_are_refused_by_name(make, options, message):
    df = make()
    with pytest.raises(ValueError, match=message):
        load_all()[KIND](df, **options)
    cells = df.drop_duplicates("study_cell")
    if options:  # an option naming data the study lacks is refused by name before the kind is asked
        with pytest.raises(PlotOptionError,
                           match="construction: 'gaussian_channel' is not in the study's data"):
            check(KIND, options, cells)
    else:
        with pytest.raises(PlotOptionError, match="has nothing to draw: .*" + message):  # before a study runs
            check(KIND, options, cells)


def test_a_construction_it_does_not_draw_is_refused():
    df = pd.concat([table("fixed_kl", ["gprs"], [4.0]), table("explicit", ["gprs"], [4.0])])
    with pytest.raises(ValueError,
                       match="draws the constructions fixed_kl, gaussian_channel, not 'explicit'"):
        load_all()[KIND](df, construction="explicit")
    with pytest.raises(PlotOptionError, match="has nothing to draw: .*not 'explicit'"):
        check(KIND, {"construction": "explicit"}, df.drop_duplicates("study_cell"))


def test_mixed_constructions_are_drawn_one_at_a_time():
    df = pd.concat([table("fixed_kl", ["gprs"], [4.0]), table("gaussian_channel", ["gprs"], [2.0])])
    fig = load_all()[KIND](df, construction="gaussian_channel")
    assert list(containers(fig.axes[0])) == ["GPRS"]
    plt.close(fig)


def test_runtime_vs_dinf_needs_one_kl():
    df = table("fixed_kl", ["as*", "gprs"], [4.0, 10.0], kls=(2.0, 1.5))
    with pytest.raises(ValueError, match="KL 1.5, 2 bits; choose one with kl="):
        load_all()["runtime_vs_dinf"](df)
    with pytest.raises(PlotOptionError, match="no rows at kl = 3 bits"):
        check("runtime_vs_dinf", {"kl": 3}, df.drop_duplicates("study_cell"))
    fig = load_all()["runtime_vs_dinf"](df, kl=1.5)
    xs = {float(x) for c in fig.axes[0].containers for x in c.lines[0].get_xdata()}
    assert xs == {4.0, 10.0}
    plt.close(fig)
