"""Greedy Poisson rejection sampling (rec_bench.search.gprs) and its per-family level sets.

Exactness checks follow tests/test_exactness.py: 20,000 messages at fixed seeds, a KS test against
Q with threshold 1e-3, and the same check shown to reject a slightly wrong sampler. Where Q is close
to P, KS cannot see an error of the stretch function; there the probability that the first step
accepts, E_P[1 - exp(-sigma(r(X)))], is checked against its value by quadrature instead.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathlib import Path
from scipy import integrate, stats

import code_oracles as C
from pair_oracles import deficit, logpdfs
import rec_bench as rb
from rec_bench.coding.rows import run_encode
from rec_bench.coding.setup import resolve_options
from rec_bench.pairs import gaussian, laplace, resolve, triangular
from rec_bench.search import gprs, lists
from rec_bench.status import CENSORED, EMPTY_REGION, OK

# the three registered variants (this module's subject is GPRS)
SPLIT, GLOBAL, DYADIC = "gprs", "gprs-global", "gprs-dyadic"

N = 20_000
ALPHA = 1e-3
LN2 = math.log(2.0)
ANCHORS = Path(rb.__file__).resolve().parent / "tables" / "anchors" / "gprs_figure2"  # vendored, MIT

FAMILIES = {
    "normal": (rb.Normal(0.8, 0.45), rb.Normal(0.2, 1.3)),
    "laplace": (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0)),
    "triangular": (rb.Triangular(0.2, 0.45, 0.6), rb.Uniform(0.0, 1.0)),
    "triangular-edge": (rb.Triangular(0.0, 0.0, 0.3), rb.Uniform(0.0, 1.0)),
}
MODULES = (gaussian, laplace, triangular)

# pairs whose level sets are checked, including the far tail at D_inf = 64 bits
LEVEL_PAIRS = {
    "normal": FAMILIES["normal"],
    "normal-64-bits": rb.fixed_kl(2, 64),
    "normal-narrow": (rb.Normal(1.3, 2.0**-8), rb.Normal(0.0, 1.0)),
    "laplace": FAMILIES["laplace"],
    "laplace-left": (rb.Laplace(-2.5, 0.6), rb.Laplace(0.0, 1.0)),
    "laplace-equal-scale": (rb.Laplace(1.5, 1.0), rb.Laplace(0.0, 1.0)),
    "laplace-44-nats": (rb.Laplace(40.0, 0.02), rb.Laplace(0.0, 1.0)),
    "triangular": FAMILIES["triangular"],
    "triangular-edge": FAMILIES["triangular-edge"],
}


def batch(variant, q, p, seeds, max_steps):
    """The registered variant's compiled batch (rec_bench.coding.rows.run_encode without writing):
    per-message status, steps, sample and code length (-1 when censored)."""
    r = resolve_options(variant)
    pair = resolve(q, p, np.shape(seeds))
    s = np.array(np.broadcast_to(np.asarray(seeds, np.uint64), pair.shape).ravel())
    n = s.size
    option, width = np.full(n, r.kernel_option, np.int64), np.full(n, r.width, np.int64)
    out, _, _ = run_encode(r.method, pair.family, pair.params, pair.loc, pair.scale, s, 1, False, max_steps,
                           option, width, r.code, write=False)
    return out.status, out.steps, out.x, out.code_bits


def run(variant, q, p, seeds, max_steps=10**8):
    status, steps, x, nbits = batch(variant, q, p, seeds, max_steps)
    assert np.all(status == OK)
    return steps, x, nbits


def ks(variant, q, p, seeds):
    _, x, _ = run(variant, q, p, seeds)
    return stats.kstest(x, q.scipy().cdf).pvalue


def row(q, p):
    pair = resolve(q, p)
    return pair.family, pair.params[0]


# ---- reference quantities in standard coordinates (numpy / scipy, independent of the kernels) ----


def log_quad(logf, lo, hi, points=()):
    """log integral_lo^hi exp(logf), scaled by the integrand's largest value on a grid."""
    a, b = max(lo, -60.0), min(hi, 60.0)
    grid = np.concatenate([np.linspace(a, b, 401), [p for p in points if a < p < b]])
    ref = max(logf(z) for z in grid)
    inner = sorted(p for p in points if a < p < b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(lambda z: math.exp(logf(z) - ref), a, b, points=inner or None,
                                epsabs=0, epsrel=1e-12, limit=500)
    return ref + math.log(val)


def breakpoints(fam, prm, lo, hi):
    pts = [0.0, prm[1]] if fam == 1 else ([prm[2]] if fam == 2 else [prm[2]])
    # where the density is largest and where the integrand turns: the interval's ends' neighbours
    width = hi - lo
    if np.isfinite(width):
        fractions = (1e-6, 1e-3, 0.01, 0.1, 0.5)
        pts += [lo + width * f for f in fractions] + [hi - width * f for f in fractions]
    return [p for p in pts if lo < p < hi]


GAPS = [1e-9, 1e-6, 1e-3, 0.1, 0.5, 1.0, 3.0, 10.0]


def gaps_for(prm):
    return [d for d in GAPS + [0.5 * prm[0], 0.9 * prm[0], prm[0] + 5.0] if d > 0]


@pytest.mark.parametrize("name", LEVEL_PAIRS)
def test_level_set_ends_lie_on_the_level(name):
    fam, prm = row(*LEVEL_PAIRS[name])
    for delta in gaps_for(prm):
        lo, hi = MODULES[fam].gprs_level_set(prm, delta)
        assert lo <= MODULES[fam].mode(prm) <= hi
        for z in (lo, hi):
            if np.isfinite(z) and 0.0 < deficit(fam, prm, z) < math.inf:
                assert deficit(fam, prm, z) == pytest.approx(delta, rel=1e-9, abs=1e-12 * max(1, abs(z)) ** 2)


@pytest.mark.parametrize("name", LEVEL_PAIRS)
def test_level_set_masses_and_excess_match_quadrature(name):
    """log P(L), log Q(L) and log E_P[(r - h)_+] against scipy quadrature, to relative 1e-9."""
    fam, prm = row(*LEVEL_PAIRS[name])
    lp_pdf, lq_pdf = logpdfs(fam, prm)
    mod = MODULES[fam]
    for delta in gaps_for(prm):
        lo, hi = mod.gprs_level_set(prm, delta)
        if fam == 2:
            lo, hi = max(lo, prm[1]), min(hi, prm[3])
        pts = breakpoints(fam, prm, lo, hi)
        lp, lq = mod.gprs_log_masses(prm, delta)
        # the reference integrates between the rounded ends; the kernels form widths from delta
        tol = 1e-9 + (4e-16 * max(abs(lo), abs(hi), 1.0) / (hi - lo) if np.isfinite(hi - lo) else 0.0)
        assert lp == pytest.approx(log_quad(lp_pdf, lo, hi, pts), abs=tol)
        assert lq == pytest.approx(log_quad(lq_pdf, lo, hi, pts), abs=tol)
        y = prm[0] - delta

        def log_excess_density(z):
            e = delta - deficit(fam, prm, z)
            return (math.log(math.expm1(e)) if e > 0 else -math.inf) + lp_pdf(z)

        ref = y + log_quad(log_excess_density, lo, hi, pts)
        assert mod.gprs_log_excess(prm, delta) == pytest.approx(ref, abs=2 * tol)


@pytest.mark.parametrize("name", LEVEL_PAIRS)
def test_stretch_function_matches_quadrature(name):
    """log sigma against scipy's quad of 1/g, and sigma >= h (g <= 1)."""
    fam, prm = row(*LEVEL_PAIRS[name])
    dinf = prm[0]
    for delta in gaps_for(prm):
        ls = gprs.log_stretch(fam, prm, delta)
        ref0 = dinf - delta + math.log(delta) - gprs._excess(fam, prm, delta)

        def j(v):
            return math.exp(dinf - math.exp(v) + v - gprs._excess(fam, prm, math.exp(v)) - ref0)

        end = math.log(dinf + 50)
        if math.log(delta) < end:
            kink = MODULES[fam].gprs_kink(prm)
            pts = [math.log(kink)] if kink > delta else None
            val, _ = integrate.quad(j, math.log(delta), end, points=pts, epsabs=0, epsrel=1e-12, limit=500)
            ref = ref0 + math.log(val + math.exp(-50 - ref0))
        else:
            ref = dinf - delta
        assert ls == pytest.approx(ref, abs=1e-10 * max(1.0, abs(ref)))
        assert ls >= dinf - delta - 1e-12


@pytest.mark.parametrize("name", ["triangular", "triangular-edge"])
def test_integrated_stretch_reproduces_the_closed_form(name):
    """The generic quadrature (brackets and Gauss-Kronrod) against sigma(h) = h / (1 - h / e^D_inf)."""
    fam, prm = row(*LEVEL_PAIRS[name])
    for delta in [1e-12, 1e-6, 1e-3, 0.1, 1.0, 3.0, 20.0]:
        g = gprs._excess(fam, prm, delta)
        w, _ = gprs._masses(fam, prm, delta)
        exact = prm[0] - delta - math.log(-math.expm1(-delta))
        integrated = gprs._log_stretch_quad(fam, prm, delta, g, w)
        assert integrated == pytest.approx(exact, abs=1e-11 * max(1, abs(exact)))


@pytest.mark.parametrize("name", ["normal", "normal-64-bits", "laplace", "laplace-44-nats"])
def test_accept_test_agrees_with_the_stretch_function(name):
    """``decide`` (bounds, brackets, quadrature) answers T <= sigma(r) as log_stretch does."""
    fam, prm = row(*LEVEL_PAIRS[name])
    rng = np.random.default_rng(5)
    for _ in range(300):
        delta = prm[0] * rng.uniform() if rng.uniform() < 0.7 else 10.0 ** rng.uniform(-9, 0)
        lr = prm[0] - delta
        delta = prm[0] - lr  # the gap decide sees
        ls = gprs.log_stretch(fam, prm, delta)
        lt = ls + rng.normal(0, 0.3) if rng.uniform() < 0.8 else ls + rng.normal(0, 1e-6)
        if abs(lt - ls) < 1e-9:
            continue
        acc, upper = gprs.decide(fam, prm, lt, lr)
        assert acc == (lt <= ls)
        assert upper >= ls - 1e-9


# ---- exactness ----


@pytest.mark.parametrize("dinf", [20, 40, 64])
def test_split_gprs_is_exact_at_large_dinf(dinf):
    """At KL = 2 bits the ratio's mode lies 20-55 standard deviations into P's tail."""
    q, p = rb.fixed_kl(2, dinf)
    assert ks(SPLIT, q, p, np.arange(N) + 10**6) > ALPHA


@pytest.mark.parametrize("pair", [FAMILIES["laplace"], rb.fixed_kl(2, 40)])
def test_dyadic_gprs_samples_q(pair):
    assert ks(DYADIC, *pair, np.arange(N) + 2 * 10**6) > ALPHA


def test_pooled_samples_are_exact_across_a_gaussian_channel():
    q, p = rb.gaussian_channel(6, N, seed=3)
    _, x, _ = run(SPLIT, q, p, np.arange(N))
    assert stats.kstest(stats.norm.cdf(x, q.loc, q.scale), "uniform").pvalue > ALPHA


@pytest.mark.parametrize("variant", [SPLIT, GLOBAL])
def test_the_check_rejects_a_slightly_wrong_sampler(variant):
    """Samples of a Q shifted by 5% of its scale fail the same test against the true Q."""
    q, p = FAMILIES["normal"]
    shifted = rb.Normal(float(q.loc) + 0.05 * float(q.scale), q.scale)
    _, x, _ = run(variant, shifted, p, np.arange(N))
    assert stats.kstest(x, q.scipy().cdf).pvalue < 1e-6


FIRST_STEP = {
    "channel-0.1-bits": (rb.Normal(0.2, 2.0**-0.1), rb.Normal(0.0, 1.0)),
    "normal": FAMILIES["normal"],
    "fixed-kl-20-bits": rb.fixed_kl(2, 20),
    "laplace": FAMILIES["laplace"],
}


@pytest.mark.parametrize("name", FIRST_STEP)
def test_first_step_accepts_with_the_stretch_functions_probability(name):
    """P(accept at step 1) = E_P[1 - exp(-sigma(r(X)))]: sensitive to sigma where KS is not.

    With 100,000 messages the standard error is below 0.0016; a stretch function 10% too large moves
    this probability by 5.5 (normal) to 14 (channel) standard errors at these pairs, past the 4 s.e.
    bound, where KS at Q close to P sees nothing.
    """
    q, p = FIRST_STEP[name]
    fam, prm = row(q, p)
    lp_pdf, _ = logpdfs(fam, prm)

    def f(z):
        d = deficit(fam, prm, z)
        if d == math.inf:
            return 0.0
        return -math.expm1(-math.exp(gprs.log_stretch(fam, prm, d))) * math.exp(lp_pdf(z))

    pts = [0.0, prm[1]] if fam == 1 else [prm[2]]
    theory, _ = integrate.quad(f, -40, 40, points=[x for x in pts if -40 < x < 40], limit=400, epsabs=1e-12)
    n = 100_000
    steps, _, _ = run(SPLIT, q, p, np.arange(n) + 7 * 10**7)
    first = np.mean(steps == 1)
    assert abs(first - theory) < 4 * math.sqrt(theory * (1 - theory) / n)


# ---- runtime ----


def test_global_gprs_takes_exp_dinf_steps_on_average():
    """E[steps] = e^D_inf exactly (nats); a centred target keeps the tail of the steps light."""
    q, p = rb.Normal(0.0, 2.0**-4), rb.Normal(0.0, 1.0)  # D_inf = 4 bits
    steps, _, _ = run(GLOBAL, q, p, np.arange(N) + 3 * 10**6)
    se = steps.std() / math.sqrt(N)
    assert abs(steps.mean() - 16.0) < 3 * se


def test_global_gprs_uses_pfr_candidates():
    """Decoding is lists.candidate_at with P and the seed alone."""
    fam, prm = row(*FAMILIES["laplace"])
    for seed in range(200):
        status, _, _, index, z = gprs.gprs_global(fam, prm, np.uint64(seed), 10**6)
        assert status == OK
        assert lists.candidate_at(fam, np.uint64(seed), index) == z


def test_split_gprs_steps_do_not_grow_with_dinf():
    """At KL = 2 bits the mean steps stay near 3.3-3.5 from D_inf = 6 to 64 bits (AS*: +0.7 per bit)."""
    grid = np.array([6.0, 12.0, 24.0, 48.0, 64.0])
    means = []
    for d in grid:
        steps, _, _ = run(SPLIT, *rb.fixed_kl(2, d), np.arange(N) + 4 * 10**6)
        means.append(steps.mean())
    slope = np.polyfit(grid, means, 1)[0]
    assert abs(slope) < 0.01
    assert max(means) < 4.0


def anchor(name):
    return pd.read_csv(ANCHORS / name)


@pytest.mark.parametrize("mi", [1.8, 2.65, 5.2, 8.6, 12.0])
def test_split_gprs_steps_match_the_published_channel_runs(mi):
    """Mean steps on the Gaussian channel against Flamich (2023), Figure 2 (MIT licence).

    The published means carry four decimals, i.e. 10,000 messages each; their standard error is
    taken as our sample's standard deviation / 100.
    """
    pub = anchor("gprs_and_a_star.csv")
    mean_pub = float(pub.loc[np.isclose(pub.mi, mi), "mean_sac_gprs_runtime"].iloc[0])
    q, p = rb.gaussian_channel(mi, N, seed=11)
    steps, _, _ = run(SPLIT, q, p, np.arange(N) + 5 * 10**6)
    se = steps.std() * math.sqrt(1 / N + 1 / 10_000)
    assert abs(steps.mean() - mean_pub) < 3 * se


# ---- codes and decoding ----


def random_pair(draw):
    fam = draw(st.integers(0, 2))
    if fam == 0:
        sigma = draw(st.floats(0.01, 0.99))
        return rb.Normal(draw(st.floats(-5, 5)), sigma), rb.Normal(0.0, 1.0)
    if fam == 1:
        return rb.Laplace(draw(st.floats(-10, 10)), draw(st.floats(0.02, 1.0))), rb.Laplace(0.0, 1.0)
    a = draw(st.floats(0.0, 0.9))
    b = draw(st.floats(a + 1e-3, 1.0))
    return rb.Triangular(a, draw(st.floats(a, b)), b), rb.Uniform(0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(0, 2**63 - 1))
def test_decode_walk_reproduces_the_sample_bit_for_bit(data, seed):
    q, p = random_pair(data.draw)
    fam, prm = row(q, p)
    seed = np.uint64(seed)
    status, steps, drawn, z, path, depth = gprs.gprs_search(fam, prm, seed, 10**6, gprs.new_path(1))
    assert status == OK and steps == depth + 1 == drawn
    st_, z2 = gprs.gprs_decode_walk(fam, seed, path[:depth].copy())
    assert st_ == OK and z2 == z
    status, _, _, z, path, depth, j = gprs.gprs_dyadic(fam, prm, seed, 10**6, gprs.new_path(1))
    if status == OK:
        st_, z2 = gprs.gprs_dyadic_decode(fam, seed, path[:depth].copy(), j)
        assert st_ == OK and z2 == z


def test_paths_longer_than_the_workspace_and_than_63_bits():
    """The path grows its workspace; a path of 100 bits decodes (a heap index past int64)."""
    fam, prm = row(*rb.fixed_kl(2, 64))
    path = gprs.new_path(1)
    for seed in range(300):
        status, steps, _, z, path, depth = gprs.gprs_search(fam, prm, np.uint64(seed), 10**6, path)
        assert gprs.gprs_decode_walk(fam, np.uint64(seed), path[:depth].copy()) == (OK, z)
    bits = np.ones(100, np.uint8)
    status, z = gprs.gprs_decode_walk(fam, np.uint64(1), bits)
    assert status in (OK, EMPTY_REGION)
    assert gprs.log2_heap_index(bits, 100) == pytest.approx(101.0, abs=1e-9)


@pytest.mark.parametrize("variant", [SPLIT, GLOBAL, DYADIC])
def test_a_search_stopped_by_its_budget_is_censored(variant):
    seeds = np.arange(200, dtype=np.uint64)
    status, steps, z, nbits = batch(variant, *rb.fixed_kl(2, 20), seeds, 1)
    censored = status == CENSORED
    assert censored.any() and (status[~censored] == OK).all()
    assert np.isnan(z[censored]).all() and (nbits[censored] == -1).all() and (steps <= 1).all()


def gamma_bits(j):
    return "0" * (j.bit_length() - 1) + format(j, "b")


@pytest.mark.parametrize("pair", [FAMILIES["laplace"], rb.fixed_kl(2, 30), (rb.Normal(0.0, 0.2),
                                                                            rb.Normal(0.0, 1.0))])
def test_registered_dyadic_code_is_gamma_of_the_arrival_then_the_path(pair):
    """rb.encode's heap index for "gprs-dyadic" is 1, gamma(j), path, from the kernel's own (path, j);
    it decodes bit for bit. The centred normal's ratio peaks at the root's median: paths stay empty
    and j carries the code."""
    q, p = pair
    fam, prm = row(q, p)
    ws = gprs.new_path(1)
    js = []
    for seed in range(150):
        status, _, _, z, ws, depth, j = gprs.gprs_dyadic(fam, prm, np.uint64(seed), 10**6, ws)
        assert status == OK
        code = rb.encode(q, p, "gprs-dyadic", seed)
        expected = "1" + gamma_bits(int(j)) + "".join(map(str, ws[:depth]))
        assert format(code.index, "b") == expected
        assert code.bitstring == C.EliasDelta().encode(code.index)
        assert rb.decode(code.bits, p, "gprs-dyadic", seed) == code.sample
        js.append(j)
    assert max(js) > 1


@pytest.mark.parametrize("path", ["", "0", "000", "001", "0001", "0011", "0" * 70 + "1" + "0" * 70])
def test_a_malformed_gamma_prefix_is_refused(path):
    """A heap index whose bits after the leading 1 do not start with a whole Elias-gamma code (or
    whose arrival number is past 2^61) names no code of gprs-dyadic: ValueError, never a crash."""
    p = rb.Normal(0.0, 1.0)
    bits = C.EliasDelta().encode(int("1" + path, 2))
    with pytest.raises(ValueError, match="corrupted code"):
        rb.decode(C.pack(bits), p, "gprs-dyadic", 3)
