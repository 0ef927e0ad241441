"""Exactness beyond the contract suite (tests/test_contract.py checks every exact method on every
family's example pair): the triangle with its mode at the support's edge, A* coding at large
D_inf, and the power of the check against a shifted or widened sampler.

Each check runs 20,000 messages at fixed seeds and applies a Kolmogorov-Smirnov test against Q's
CDF. The seeds are fixed, so a p-value is a fixed number, not a coin flip; the threshold 1e-3 is
chosen so that an exact sampler passes (its p-values here are spread over (0, 1)) while the same
check rejects a sampler that is slightly wrong (a target shifted by 5% of its scale gives
p-values below 1e-6, see the last tests).
"""

import numpy as np
import pytest
from scipy import stats

import rec_bench as rb
from rec_bench.methods import EXPONENTIAL, METHODS, supports
from rec_bench.pairs import FAMILIES, resolve

N = 20_000
ALPHA = 1e-3

EDGE = (rb.Triangular(0.0, 0.0, 0.3), rb.Uniform(0.0, 1.0))  # the ratio's mode at P's lower edge
NORMAL = (rb.Normal(0.8, 0.45), rb.Normal(0.2, 1.3))
LAPLACE = (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0))


def exact_methods(pair, exponential=True):
    """The registry's exact methods that code ``pair``'s family (without the exponential-runtime ones
    if ``exponential`` is false)."""
    family = FAMILIES[resolve(*pair).family]
    return [m.name for m in METHODS.values() if m.exact and supports(m, family) and
            (exponential or m.runtime != EXPONENTIAL)]


def ks_pvalue(method, q, p, seeds, **opts):
    df = rb.simulate(method, q, p, seeds, **opts)
    assert not df.censored.any()
    return stats.kstest(df["sample"].to_numpy(), q.scipy().cdf).pvalue


@pytest.mark.parametrize("method", exact_methods(EDGE))
def test_exact_methods_sample_q_with_the_mode_at_the_edge_of_the_support(method):
    q, p = EDGE
    assert ks_pvalue(method, q, p, np.arange(N)) > ALPHA


@pytest.mark.parametrize("dinf", [40, 64, 100])
@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_is_exact_at_large_dinf(method, dinf):
    """The fixed-KL construction puts the ratio's mode tens of standard deviations into P's tail."""
    q, p = rb.fixed_kl(2, dinf)
    assert ks_pvalue(method, q, p, np.arange(N) + 10**6) > ALPHA


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_is_exact_for_laplace_far_in_the_tail(method):
    q, p = rb.Laplace(40.0, 1.0), rb.Laplace(0.0, 1.0)  # D_inf = 40 nats, mode 40 scales out
    assert ks_pvalue(method, q, p, np.arange(N)) > ALPHA


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_is_exact_for_a_narrow_triangle(method):
    q, p = rb.Triangular(0.0, 2.0**-41, 2.0**-40), rb.Uniform(0.0, 1.0)  # D_inf = 41 bits
    assert rb.dinf(q, p) == pytest.approx(41)
    assert ks_pvalue(method, q, p, np.arange(N)) > ALPHA


@pytest.mark.parametrize("method", exact_methods(NORMAL))
def test_the_check_rejects_a_slightly_wrong_sampler(method):
    """Samples of a Q shifted by 5% of its scale fail the same test against the true Q."""
    q, p = NORMAL
    shifted = rb.Normal(float(q.loc) + 0.05 * float(q.scale), q.scale)
    df = rb.simulate(method, shifted, p, np.arange(N))
    assert stats.kstest(df["sample"].to_numpy(), q.scipy().cdf).pvalue < 1e-6


def test_the_check_rejects_a_slightly_too_wide_sampler():
    """KS has less power against a change of scale than of location: 10% wider is seen."""
    q, p = LAPLACE
    wider = rb.Laplace(q.loc, 1.10 * q.scale)
    df = rb.simulate("ad*", wider, p, np.arange(N))
    assert stats.kstest(df["sample"].to_numpy(), q.scipy().cdf).pvalue < ALPHA


@pytest.mark.parametrize("method", exact_methods(rb.gaussian_channel(6, 2, seed=3), exponential=False))
def test_pooled_samples_are_exact_across_a_gaussian_channel(method):
    """Per-message targets differ; their probability-integral transforms must be uniform."""
    q, p = rb.gaussian_channel(6, N, seed=3)
    df = rb.simulate(method, q, p, np.arange(N))
    u = stats.norm.cdf(df["sample"], q.loc, q.scale)
    assert stats.kstest(u, "uniform").pvalue > ALPHA
