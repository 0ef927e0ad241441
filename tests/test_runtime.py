"""Runtime laws: rejection sampling and global A* take exp(D_inf) steps on average (D_inf in nats);
AS* and AD* take steps linear in D_inf on the fixed-KL construction, from 5 to 100 bits and on to a
few hundred bits, with no NaN, no overflow and exact samples throughout."""

import math

import numpy as np
import pytest
from scipy import stats

import rec_bench as rb

PAIRS = [
    rb.fixed_kl(1, 3),
    rb.fixed_kl(2, 6),
    (rb.Normal(0.5, 0.3), rb.Normal(0.0, 1.0)),
    (rb.Laplace(1.5, 0.4), rb.Laplace(0.0, 1.0)),
    (rb.Triangular(0.1, 0.2, 0.15 + 0.1), rb.Uniform(0.0, 1.0)),
]


@pytest.mark.parametrize("method", ["rs", "pfr"])
@pytest.mark.parametrize("pair", PAIRS, ids=lambda pq: f"{pq[0]!r}")
def test_mean_steps_are_exp_dinf(method, pair):
    """E[steps] = exp(D_inf): RS's steps are geometric with success probability exp(-D_inf); for
    global A* the candidates evaluated are those with arrival time below exp(D_inf) times the
    winner's, which has mean exp(D_inf) too. Checked within 3 standard errors."""
    q, p = pair
    df = rb.simulate(method, q, p, np.arange(40_000))
    expected = 2.0 ** rb.dinf(q, p)
    se = df.steps.std() / math.sqrt(len(df))
    assert abs(df.steps.mean() - expected) < 3 * se


def test_rejection_sampling_steps_are_geometric():
    q, p = PAIRS[1]
    df = rb.simulate("rs", q, p, np.arange(40_000))
    prob = 2.0 ** -rb.dinf(q, p)
    counts = np.bincount(np.minimum(df.steps, 60))[1:]
    expected = len(df) * np.append(stats.geom.pmf(np.arange(1, 60), prob), stats.geom.sf(59, prob))
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_global_astar_index_codelength_is_near_kl():
    """Li and El Gamal: E[log2 index] <= KL + log2(KL + 1) + 4 for the PFR."""
    for kl in [1, 4, 8]:
        q, p = rb.fixed_kl(kl, kl + 2)
        df = rb.simulate("pfr", q, p, np.arange(5_000))
        assert df.ideal_bits.mean() <= kl + math.log2(kl + 1) + 4


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_steps_grow_linearly_in_dinf(method):
    grid = np.array([5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], float)
    means, pits = [], []
    for d in grid:
        q, p = rb.fixed_kl(2, d)
        df = rb.simulate(method, q, p, np.arange(3_000) + 7_000 * int(d))
        assert not df.censored.any()
        assert np.isfinite(df["sample"]).all() and np.isfinite(df.ideal_bits).all()
        means.append(df.steps.mean())
        pits.append(q.scipy().cdf(df["sample"]))
    fit = stats.linregress(grid, means)
    assert fit.rvalue**2 > 0.995
    assert 0.3 < fit.slope < 1.5  # steps per bit of D_inf
    # far from exponential: the last doubling of D_inf roughly doubles the steps
    assert means[-1] / means[5] < 2.5
    # exact throughout: pooled probability-integral transforms are uniform
    assert stats.kstest(np.concatenate(pits), "uniform").pvalue > 1e-3


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_stays_sound_at_hundreds_of_bits(method):
    q, p = rb.fixed_kl(2, 400)
    df = rb.simulate(method, q, p, np.arange(4_000))
    assert np.isfinite(df["sample"]).all()
    assert df.steps.mean() < 1.5 * 400
    assert stats.kstest(df["sample"], q.scipy().cdf).pvalue > 1e-3


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_codelength_follows_kl_not_dinf(method):
    bits = [rb.simulate(method, *rb.fixed_kl(2, d), np.arange(4_000)).nbits.mean() for d in (5, 50)]
    assert abs(bits[0] - bits[1]) < 1.0
    assert 2 < bits[0] < 2 + 2 * math.log2(3) + 3
