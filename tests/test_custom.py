"""User-defined targets (rb.Custom): the numerical analysis, exactness, round trips and refusals.

Exactness uses the same Kolmogorov-Smirnov check as tests/test_exactness.py (20,000 messages at
fixed seeds, threshold 1e-3) against scipy's own CDF of the same law, not the package's
quadrature; the check is shown to reject a slightly wrong sampler here too.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import rec_bench as rb
from rec_bench.methods import EXPONENTIAL, METHODS, default_options, supports
from rec_bench.pairs import FAMILIES, resolve
from rec_bench.pairs import examples as ex
from rec_bench.study import check_spec

N = 20_000
ALPHA = 1e-3
P = rb.Normal(0.0, 1.0)
LOW = rb.Custom(ex.skew_normal, [0.5, 0.6, 4.0])  # D_inf 2.0 bits
HIGH = rb.Custom(ex.skew_normal, [7.3, 0.5, 3.0])  # D_inf 53 bits: the mode 7 sd into P's tail


def skewnorm(q):
    loc, scale, alpha = q.params
    return stats.skewnorm(alpha, loc, scale)


def ks(method, q, p, law, seeds):
    df = rb.simulate(method, q, p, seeds)
    assert not df.censored.any()
    return stats.kstest(df["sample"].to_numpy(), law.cdf).pvalue


def test_analysis_matches_the_closed_forms_of_a_builtin_pair():
    q, p = rb.Custom(ex.normal, [0.8, 0.45]), rb.Normal(0.2, 1.3)
    builtin = rb.Normal(0.8, 0.45)
    assert rb.kl(q, p) == pytest.approx(rb.kl(builtin, p), rel=1e-9, abs=1e-12)
    assert rb.dinf(q, p) == pytest.approx(rb.dinf(builtin, p), rel=1e-9, abs=1e-12)
    pair = q.analyse(p)
    # at a smooth maximum log r is flat to rounding over ~sqrt(eps): the mode is known to that,
    # its value (what the search needs) to rounding
    assert pair.mode == pytest.approx((0.8 - 0.2) / 1.3 / (1 - (0.45 / 1.3) ** 2), rel=1e-7)


@pytest.mark.parametrize("q", [LOW, HIGH], ids=["low", "high"])
def test_analysis_of_a_skew_normal_agrees_with_scipy(q):
    law = skewnorm(q)
    logr = lambda x: law.logpdf(x) - stats.norm.logpdf(x)  # noqa: E731
    lo, hi = law.ppf(1e-15), law.isf(1e-15)
    kl = integrate.quad(lambda x: law.pdf(x) * logr(x), lo, hi, epsabs=1e-13, limit=200)[0]
    xs = np.linspace(lo, hi, 200_001)
    assert rb.kl(q, P) == pytest.approx(kl / np.log(2), rel=1e-7)
    assert rb.dinf(q, P) == pytest.approx(logr(xs).max() / np.log(2), rel=1e-8)
    assert rb.dinf(q, P) >= logr(xs).max() / np.log(2) - 1e-12  # never below the grid's sup


def _exact_for_custom():
    """The registry's exact methods that code a Custom target (those that require nothing of it)."""
    family = FAMILIES[resolve(LOW, P).family]
    return [m.name for m in METHODS.values() if m.exact and supports(m, family)]


@pytest.mark.parametrize("method", _exact_for_custom())
def test_exact_methods_sample_a_custom_target(method):
    assert ks(method, LOW, P, skewnorm(LOW), np.arange(N)) > ALPHA


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_astar_is_exact_on_a_custom_target_far_in_the_tail(method):
    assert rb.dinf(HIGH, P) > 50
    assert ks(method, HIGH, P, skewnorm(HIGH), np.arange(N) + 10**6) > ALPHA


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_the_check_rejects_a_slightly_wrong_custom_sampler(method):
    loc, scale, alpha = LOW.params
    shifted = rb.Custom(ex.skew_normal, [loc + 0.05 * scale, scale, alpha])
    assert ks(method, shifted, P, skewnorm(LOW), np.arange(N)) < 1e-6


def test_custom_targets_against_laplace_and_uniform_proposals():
    q = rb.Custom(ex.normal, [0.3, 0.4])
    assert ks("as*", q, rb.Laplace(0.0, 1.0), stats.norm(0.3, 0.4), np.arange(N)) > ALPHA
    q = rb.Custom(ex.beta, [2.0, 5.0])
    assert ks("ad*", q, rb.Uniform(0.0, 1.0), stats.beta(2, 5), np.arange(N)) > ALPHA
    assert rb.dinf(q, rb.Uniform(0, 1)) == pytest.approx(np.log2(stats.beta(2, 5).pdf(0.2)), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(loc=st.floats(-3, 3), scale=st.floats(0.05, 0.95), alpha=st.floats(-5, 5),
       seed=st.integers(0, 2**64 - 1),
       method=st.sampled_from(sorted(m for m, rec in METHODS.items() if not rec.requires)))
def test_custom_codes_round_trip_bit_for_bit(loc, scale, alpha, seed, method):
    q = rb.Custom(ex.skew_normal, [loc, scale, alpha])
    opts = default_options(method)
    if METHODS[method].runtime == EXPONENTIAL and rb.dinf(q, P) > 12:
        return  # exponential methods: keep the example cheap
    code = rb.encode(q, P, method, seed, **opts)
    assert rb.decode(code.bits, P, method, seed, **opts) == code.sample  # needs P only, not Q


@pytest.mark.parametrize("q, p, message", [
    (rb.Custom(ex.gaussian_mixture, [2.0, 0.3]), P, "is not unimodal"),
    (rb.Custom(ex.student_t, [5.0]), P, "heavier than the proposal's, so D_inf is infinite"),
    (rb.Custom(ex.normal, [0.0, 1.2]), P, "D_inf is infinite"),
    (rb.Custom(ex.normal, [0.5, 0.3]), rb.Uniform(0, 1), "mass where the proposal has none"),
    (rb.Custom(ex.skew_normal, [0.0, 0.5, 1.0]), rb.Triangular(),
     "unsupported pair: target Custom against proposal Triangular"),
])
def test_bad_custom_pairs_are_refused_with_the_reason(q, p, message):
    with pytest.raises(ValueError, match=message):
        rb.encode(q, p, "ad*", 0)


def test_gprs_is_refused_for_a_custom_target_before_any_search():
    """GPRS needs the level-set masses of the ratio, which a logpdf alone does not give."""
    with pytest.raises(ValueError, match="gprs needs the level-set masses"):
        rb.encode(LOW, P, "gprs", 0)
    with pytest.raises(ValueError, match="gprs-global needs the level-set masses"):
        rb.simulate("gprs-global", LOW, P, [0, 1])


def test_custom_needs_a_compiled_logpdf():
    with pytest.raises(ValueError, match="numba @njit function"):
        rb.Custom(lambda x, p: 0.0, [])
    with pytest.raises(ValueError, match="finite"):
        rb.Custom(ex.normal, [0.0, float("nan")])


def test_the_bias_measure_works_on_a_custom_target():
    from rec_bench.bias import bias

    exact = bias("ad*", LOW, P, n=20_000, floor=None)
    coarse = bias("dad*", LOW, P, n=20_000, depth=0, floor=None)  # the root alone: a sample of P
    assert not exact.detected and coarse.detected


def test_a_study_spec_can_name_a_custom_target(tmp_path):
    f = tmp_path / "custom.yaml"
    f.write_text(
        "name: custom\nseed: 1\noutput: results/custom.parquet\n"
        "pairs:\n  construction: custom\n  logpdf: rec_bench.pairs.examples:skew_normal\n"
        "  params: [[0.5, 0.6, 4.0], [1.0, 0.4, -2.0]]\n  proposal: {family: Normal, loc: 0, scale: 1}\n"
        "methods: [ad*, {name: dad*, depth: 3}]\nrepetitions: 10\n"
    )
    cells = check_spec(f)
    assert [c.pair.family for c in cells] == ["Custom/Normal"] * 4
    q, p = cells[0].pair.build(1, 0)
    assert rb.kl(q, p) == pytest.approx(rb.kl(LOW, P))
    f.write_text(f.read_text().replace("skew_normal", "no_such_density"))
    with pytest.raises(ValueError, match="cannot load logpdf"):
        check_spec(f)
