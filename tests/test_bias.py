"""The bias measure (rec_bench.bias): it does not flag an exact method, it flags a slightly wrong
sampler, its noise floor scales like 1 / sqrt(n), and its moment errors are consistent."""

import math

import numpy as np
import pytest
from scipy import stats

import rec_bench as rb
from rec_bench.bias import BiasResult, bias, bias_of_samples, ks_quantile, seeds_for

N = 20_000

PAIRS = {
    "kl4": rb.fixed_kl(4, 8),
    "laplace": (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0)),
    "centred": (rb.Normal(0.0, 0.3), rb.Normal(0.0, 1.0)),  # E_Q X = 0: mean error relative to sd
}


@pytest.mark.parametrize("pair", PAIRS)
def test_exact_method_is_not_flagged(pair):
    q, p = PAIRS[pair]
    r = bias("ad*", q, p, n=N, seed=1)
    assert isinstance(r, BiasResult)
    assert r.n == N and r.method == "ad*" and r.floor_method == "ad*"
    assert not r.detected and r.ks < r.ks_critical and r.ks_pvalue >= r.alpha
    assert r.floor is not None and r.floor < r.ks_critical
    assert abs(r.mean_z) < 4 and abs(r.var_z) < 4
    assert r.mean_relative_to == ("sd" if pair == "centred" else "mean")


def test_seeds_are_disjoint():
    a, b, c = seeds_for(0, 1000), seeds_for(0, 1000, floor=True), seeds_for(1, 1000)
    assert len(set(a) | set(b) | set(c)) == 3000


def exact_samples(pair, n=N, seed=2):
    q, p = PAIRS[pair]
    return q, rb.simulate("ad*", q, p, seeds_for(seed, n))["sample"].to_numpy()


@pytest.mark.parametrize("pair", ["kl4", "laplace"])
def test_shifted_sampler_is_flagged(pair):
    q, x = exact_samples(pair)
    sd = math.sqrt(float(q.var()))
    assert not bias_of_samples(x, q).detected
    r = bias_of_samples(x + 0.06 * sd, q)  # KS distance ~ 0.024 for a Gaussian, critical 0.0138
    assert r.detected and r.ks > r.ks_critical
    assert r.mean_z > 5  # and the mean error sees it too
    assert r.mean_rel_err * abs(float(q.mean())) == pytest.approx(0.06 * sd,
                                                                  abs=4 * r.mean_se * abs(float(q.mean())))


def test_scaled_sampler_is_flagged():
    q, x = exact_samples("kl4")
    m = float(q.mean())
    r = bias_of_samples(m + 1.1 * (x - m), q)
    assert r.detected
    assert r.var_rel_err == pytest.approx(0.21, abs=4 * r.var_se)  # 1.1^2 - 1


def test_noise_floor_scales_like_one_over_sqrt_n():
    # theoretical scale: the Kolmogorov quantiles times sqrt(n) are (nearly) constant
    for level, c in [(0.95, 1.358), (0.999, 1.949)]:
        for n in (1_000, 10_000, 100_000):
            assert ks_quantile(n, level) * math.sqrt(n) == pytest.approx(c, rel=0.03)
    # measured: the mean KS distance of exact AD* samples, times sqrt(n), is E[K] ~ 0.87 at each n
    q, p = PAIRS["kl4"]
    scaled = {}
    for n in (1_000, 16_000):
        ks = [bias_of_samples(rb.simulate("ad*", q, p, seeds_for(s, n))["sample"].to_numpy(), q).ks
              for s in range(10, 22)]
        scaled[n] = np.mean(ks) * math.sqrt(n)
        assert 0.6 < scaled[n] < 1.2, scaled
    assert scaled[1_000] == pytest.approx(scaled[16_000], rel=0.35)


def test_array_valued_target_uses_the_probability_integral_transform():
    q, p = rb.gaussian_channel(3, N, seed=5)
    x = rb.simulate("ad*", q, p, np.arange(N))["sample"].to_numpy()
    r = bias_of_samples(x, q)
    assert not r.detected and r.mean_relative_to == "sd"
    assert r.ks == pytest.approx(stats.kstest(stats.norm.cdf(x, q.loc, q.scale), "uniform").statistic)
    assert bias_of_samples(x + 0.06 * q.scale, q).detected


def test_scalar_ks_is_scipys():
    q, x = exact_samples("laplace", n=2000)
    r = bias_of_samples(x, q)
    ref = stats.kstest(x, q.scipy().cdf)
    assert r.ks == ref.statistic and r.ks_pvalue == ref.pvalue
    assert r.ks_critical == stats.kstwo(2000).ppf(1 - r.alpha)


def test_bad_input_raises():
    q, x = exact_samples("kl4", n=100)
    with pytest.raises(ValueError):
        bias_of_samples(np.append(x, np.nan), q)
    with pytest.raises(ValueError):
        bias_of_samples(x[:1], q)
    with pytest.raises(ValueError):
        bias_of_samples(x, q, alpha=0)
    q, p = PAIRS["kl4"]
    with pytest.raises(ValueError):  # censored messages are not silently dropped
        bias("pfr", *rb.fixed_kl(4, 20), n=200, max_steps=10)
