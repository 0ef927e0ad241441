"""Greedy rejection coding (rec_bench.search.grc): GRCS and GRCD, and the per-family functions they use.

Exactness follows tests/test_exactness.py: 20,000 messages at fixed seeds, a Kolmogorov-Smirnov test
against Q with threshold 1e-3, and the same check shown to reject a slightly wrong sampler at the
same pair. The contract suite (tests/test_contract.py) runs both methods through every codec path
of every family as well; this module adds large D_inf, the residual masses against scipy, the mean
steps against reference runs, and budgets.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import rec_bench as rb
from rec_bench.pairs import gaussian, laplace, resolve, triangular
from rec_bench.search import grc, tree
from rec_bench.search.workspace import new_workspace, path_of
from rec_bench.status import CENSORED, OK

from pair_oracles import deficit

METHODS = ("grcs", "grcd")
N = 20_000
ALPHA = 1e-3
MODULES = (gaussian, laplace, triangular)

# every supported family at a low and a high D_inf (bits)
LOW = {
    "normal": (rb.Normal(0.8, 0.45), rb.Normal(0.2, 1.3)),
    "laplace": (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0)),
    "triangular": (rb.Triangular(0.2, 0.45, 0.6), rb.Uniform(0.0, 1.0)),
    "triangular-edge": (rb.Triangular(0.0, 0.0, 0.3), rb.Uniform(0.0, 1.0)),
    # equal scales: r is flat (at e^D_inf) on [mu, inf), so level sets reach to infinity
    "laplace-equal-scale": (rb.Laplace(5.0, 1.0), rb.Laplace(0.0, 1.0)),
}
HIGH = {
    "normal-40-bits": rb.fixed_kl(2, 40),
    "normal-64-bits": rb.fixed_kl(2, 64),
    "laplace-41-bits": (rb.Laplace(-28.0, 0.5), rb.Laplace(0.0, 1.0)),  # D_inf = 28 + ln 2 nats
    "triangular-41-bits": (rb.Triangular(0.0, 2.0**-41, 2.0**-40), rb.Uniform(0.0, 1.0)),
}


def row(q, p):
    pair = resolve(q, p)
    return pair.family, pair.params[0]


def samples(method, q, p, seeds, **kw):
    df = rb.simulate(method, q, p, seeds, **kw)
    assert not df.censored.any()
    return df


def ks(method, q, p, seeds):
    return stats.kstest(samples(method, q, p, seeds)["sample"].to_numpy(), q.scipy().cdf).pvalue


# ---- per-family functions against scipy --------------------------------------------------------

TAIL_PAIRS = {
    "normal": LOW["normal"],
    "normal-64-bits": HIGH["normal-64-bits"],
    "laplace": LOW["laplace"],
    "laplace-left": (rb.Laplace(-2.5, 0.6), rb.Laplace(0.0, 1.0)),
    "triangular": LOW["triangular"],
    "triangular-edge": LOW["triangular-edge"],
}


@pytest.mark.parametrize("name", TAIL_PAIRS)
def test_q_tails_match_scipy(name):
    """Q's log-CDF and log-survival in P's standard coordinates, far into both tails."""
    q, p = TAIL_PAIRS[name]
    fam, prm = row(q, p)
    pair = resolve(q, p)
    loc, scale = float(pair.loc[0]), float(pair.scale[0])
    mod = MODULES[fam]
    ref = q.scipy()
    mean, sd = float(ref.mean()), float(ref.std())
    for x in mean + sd * np.array([-30.0, -8.0, -2.0, -0.3, 0.0, 0.4, 2.0, 8.0, 30.0]):
        z = (x - loc) / scale
        lf, ls = float(ref.logcdf(x)), float(ref.logsf(x))
        if fam == 2:  # the triangle: its support only
            if not float(q.low) < x < float(q.high):
                continue
            lf, ls = math.log(ref.cdf(x)), math.log(ref.sf(x))
        assert mod.grc_q_logcdf(prm, z) == pytest.approx(lf, rel=1e-12, abs=1e-14)
        assert mod.grc_q_logsf(prm, z) == pytest.approx(ls, rel=1e-12, abs=1e-14)


def log_p(fam, z):
    if fam == 0:
        return -0.5 * z * z - 0.5 * math.log(2 * math.pi)
    if fam == 1:
        return -abs(z) - math.log(2)
    return 0.0


def reference_residual(fam, prm, delta, u, v):
    """log integral_u^v h expm1(log r - log h)_+ dP by scipy's quad (no cancellation)."""
    y = prm[0] - delta
    pts = [x for x in ([0.0, prm[1]] if fam == 1 else [prm[2]]) if u < x < v]
    grid = np.linspace(u, v, 201)
    ref = max(log_p(fam, z) for z in grid)

    def f(z):
        e = delta - deficit(fam, prm, z)
        return math.expm1(e) * math.exp(log_p(fam, z) - ref) if e > 0 else 0.0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(f, u, v, points=pts or None, epsabs=0, epsrel=1e-13, limit=500)
    return y + ref + math.log(val)


def tails(fam, prm, z):
    if not np.isfinite(z):
        return (-math.inf, 0.0, -math.inf, 0.0) if z < 0 else (0.0, -math.inf, 0.0, -math.inf)
    return (*grc.p_tails(fam, z), *grc.q_tails(fam, prm, z))


RESIDUAL_PAIRS = {
    "normal": LOW["normal"],
    "normal-48-bits": rb.fixed_kl(2, 48),
    "laplace": LOW["laplace"],
    "laplace-left": (rb.Laplace(-2.5, 0.6), rb.Laplace(0.0, 1.0)),
    "laplace-equal-scale": (rb.Laplace(1.5, 1.0), rb.Laplace(0.0, 1.0)),
    "triangular": LOW["triangular"],
    "triangular-edge": LOW["triangular-edge"],
}


@pytest.mark.parametrize("name", RESIDUAL_PAIRS)
def test_residual_masses_match_quadrature(name):
    """integral_I (r - h)_+ dP on random intervals of level sets, by the search's own route (tails,
    or the family's integral where they would cancel) and by the family's integral alone, against
    scipy, to relative 1e-9 (or the resolution of the ends' coordinates on a narrow interval); the
    gaps include levels a millionth below the top of r."""
    fam, prm = row(*RESIDUAL_PAIRS[name])
    mod = MODULES[fam]
    rng = np.random.default_rng(17)
    for delta in [1e-6, 1e-3, 0.05, 0.5, 2.0, 0.9 * prm[0]]:
        lo, hi = mod.gprs_level_set(prm, delta)
        lo, hi = max(lo, -40.0), min(hi, 40.0)
        if fam == 2:
            lo, hi = max(lo, prm[1]), min(hi, prm[3])
        ll = prm[0] - delta
        for _ in range(6):
            u, v = np.sort(lo + (hi - lo) * rng.uniform(size=2))
            if rng.uniform() < 0.3:
                u = lo  # one end on the level set's edge, where r = h
            if not v > u:
                continue
            ref = reference_residual(fam, prm, delta, u, v)
            direct = mod.grc_log_residual(prm, delta, u, v)
            routed = grc.residual(fam, prm, ll, delta, u, v, *tails(fam, prm, u)[:2], *tails(fam, prm, v)[:2],
                                  *tails(fam, prm, u)[2:], *tails(fam, prm, v)[2:])
            # an end is known to an ulp of its coordinate: relative to a narrow interval, that is the
            # residual's own uncertainty
            tol = 1e-9 + 8 * 2.2e-16 * max(abs(u), abs(v), 1.0) / (v - u)
            assert direct == pytest.approx(ref, abs=tol)
            assert routed == pytest.approx(ref, abs=tol)


def test_the_residual_of_an_unbounded_interval_where_r_is_flat():
    """Laplace with equal scales: r = e^D_inf on [mu, inf); the level set and the interval are
    unbounded, and the residual is (e^D_inf - h) P([u, inf)) exactly."""
    fam, prm = row(*LOW["laplace-equal-scale"])
    for delta in (1e-9, 1e-3, 0.5, 3.0):
        for u in (5.0, 6.5, 30.0):
            exact = prm[0] - delta + math.log(math.expm1(delta)) - u - math.log(2)
            assert laplace.grc_log_residual(prm, delta, u, math.inf) == pytest.approx(exact, abs=1e-12)


def test_the_residual_outside_the_level_set_is_zero():
    fam, prm = row(*LOW["laplace"])
    lo, hi = laplace.gprs_level_set(prm, 0.5)
    assert laplace.grc_log_residual(prm, 0.5, hi + 0.1, hi + 2.0) == -math.inf
    assert laplace.grc_log_residual(prm, 0.5, lo - 2.0, lo - 0.1) == -math.inf


# ---- a plain search as the oracle -----------------------------------------------------------------


def plain_grc(q, p, seed, rule, max_steps=10_000):
    """GRC written out with scipy's distributions and plain floats, in P's standard coordinates, with
    the kernel's uniforms (rec_bench.randomness) but none of its arithmetic: masses as differences of
    CDFs, the level set by root finding on log r. Returns (steps, path bits, sample)."""
    from scipy import optimize
    from rec_bench import randomness as rnd

    fam, prm = row(q, p)
    if fam == 0:
        c = prm[1]
        s2 = 1 / (1 + 2 * c)
        P, Q, mode, span = stats.norm(), stats.norm(prm[2] * 2 * c * s2, math.sqrt(s2)), prm[2], (-60, 60)
    elif fam == 1:
        P, Q, mode, span = stats.laplace(), stats.laplace(prm[1], prm[2]), prm[1], (-200, 200)
    else:
        a, m, b = prm[1], prm[2], prm[3]
        P, Q, mode, span = stats.uniform(), stats.triang((m - a) / (b - a), a, b - a), m, (a, b)

    def log_r(z):
        return Q.logpdf(z) - P.logpdf(z)

    def level_set(ll):
        """[lo, hi] = {log r >= ll}: root finding on each side of the mode (the span's end if r stays
        above the level there)."""
        def f(z):
            return log_r(z) - ll

        ends = []
        for far in span:
            if far == mode or not f(mode) > 0:
                ends.append(mode)
            elif f(far) >= 0:
                ends.append(far)
            else:
                ends.append(optimize.brentq(f, min(far, mode), max(far, mode), xtol=1e-15, rtol=1e-15))
        return ends

    a, b = P.support()
    level, Z = 0.0, 1.0
    # keys stay uint64: Numba hands a uint64 back to Python as an int, typed int64 on the next call
    key = np.uint64(rnd.root_key(np.uint64(seed)))
    path = []
    for step in range(1, max_steps + 1):
        u = rnd.uniform(key, rnd.LOCATION)
        fa, fb = P.cdf(a), P.cdf(b)
        x = min(max(P.ppf(fa + u * (fb - fa)), a), b)
        excess = math.exp(log_r(x)) - level
        if rnd.uniform(key, rnd.ACCEPT) < max(excess, 0.0) * (fb - fa) / Z:
            return step, path, x
        level += Z / (fb - fa)
        split = x if rule == tree.SPLIT_AT_SAMPLE else P.ppf(0.5 * (fa + fb))
        lo, hi = level_set(math.log(level))

        def mass(u_, v_):
            u_, v_ = max(u_, lo), min(v_, hi)
            return (Q.cdf(v_) - Q.cdf(u_)) - level * (P.cdf(v_) - P.cdf(u_)) if v_ > u_ else 0.0

        m0, m1 = mass(a, split), mass(split, b)
        bit = 1 if rnd.uniform(key, rnd.CHOICE) < m1 / (m0 + m1) else 0
        Z = m1 if bit else m0
        a, b = (split, b) if bit else (a, split)
        path.append(bit)
        key = np.uint64(rnd.child_key(key, bit))
    raise AssertionError("no acceptance")


@pytest.mark.parametrize("name", ["normal", "laplace", "triangular"])
@pytest.mark.parametrize("method", METHODS)
def test_the_kernel_takes_the_plain_searchs_decisions(method, name):
    """Same uniforms, independent arithmetic: the same steps, the same path and the same sample (to
    rounding) on every seed, so every accept and child decision of the kernel is the plain one."""
    q, p = LOW[name]
    fam, prm = row(q, p)
    rule = tree.SPLIT_AT_SAMPLE if method == "grcs" else tree.SPLIT_AT_MEDIAN
    ws = new_workspace(64)
    for seed in range(150):
        status, steps, z, depth, ws = grc.grc_search(fam, prm, np.uint64(seed), rule, 10**6, ws)
        plain_steps, plain_path, plain_z = plain_grc(q, p, seed, rule)
        assert status == OK and steps == plain_steps, seed
        assert list(path_of(ws, depth)) == plain_path, seed
        assert z == pytest.approx(plain_z, rel=1e-9, abs=1e-12), seed


# ---- exactness ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LOW) + list(HIGH))
@pytest.mark.parametrize("method", METHODS)
def test_grc_samples_q(method, name):
    q, p = {**LOW, **HIGH}[name]
    assert ks(method, q, p, np.arange(N) + 3 * 10**6) > ALPHA


@pytest.mark.parametrize("name", ["normal-64-bits", "laplace-41-bits"])
@pytest.mark.parametrize("method", METHODS)
def test_the_check_rejects_a_slightly_wrong_sampler_at_large_dinf(method, name):
    """The same check (same pair, seeds and N) rejects GRC run on a target shifted by 5% of its scale."""
    q, p = HIGH[name]
    cls = type(q)
    shifted = cls(float(q.loc) + 0.05 * float(q.scale), q.scale)
    x = samples(method, shifted, p, np.arange(N) + 3 * 10**6)["sample"].to_numpy()
    assert stats.kstest(x, q.scipy().cdf).pvalue < ALPHA


def test_pooled_samples_are_exact_at_eight_bits_of_channel():
    q, p = rb.gaussian_channel(8, N, seed=5)
    for method in METHODS:
        x = samples(method, q, p, np.arange(N))["sample"]
        assert stats.kstest(stats.norm.cdf(x, q.loc, q.scale), "uniform").pvalue > ALPHA


# ---- runtime ------------------------------------------------------------------------------------

# Reference runs (4,000 messages a point, Gaussian target against N(0, 1); means quoted to 0.05):
# mean steps at (KL, D_inf) in bits
REFERENCE = {
    "grcs": {(2, 4): 3.1, (2, 8): 3.4, (2, 16): 3.5, (2, 24): 3.5, (5, 10): 5.6, (8, 16): 7.9},
    "grcd": {(2, 4): 2.7, (2, 8): 2.9, (2, 16): 3.05, (2, 24): 3.05, (5, 10): 5.4, (8, 16): 8.1},
}
REF_N = 4000


@pytest.mark.parametrize("method", METHODS)
def test_mean_steps_match_the_reference_runs(method):
    """Within three standard errors of the difference (ours and the reference's, from our standard
    deviation), plus the quoted rounding of 0.05."""
    for (kl, dinf), ref in REFERENCE[method].items():
        steps = samples(method, *rb.fixed_kl(kl, dinf), np.arange(N) + 5 * 10**6).steps.to_numpy()
        se = steps.std() * math.sqrt(1 / N + 1 / REF_N)
        assert abs(steps.mean() - ref) < 3 * se + 0.05, (kl, dinf, steps.mean())


@pytest.mark.parametrize("method", METHODS)
def test_steps_do_not_grow_with_dinf(method):
    """At KL = 2 bits: at most 5 steps at D_inf = 48 bits (AD* takes about 47), flat from 24 to 100."""
    means = [samples(method, *rb.fixed_kl(2, d), np.arange(5000)).steps.mean() for d in (24, 48, 100)]
    assert max(means) < 4.0
    assert abs(means[2] - means[0]) < 0.15


def test_code_length_on_the_channel_is_within_the_bound():
    """At I = 8 bits the mean code is within KL + 2 log2(KL + 1) + 2 bits."""
    q, p = rb.gaussian_channel(8, N, seed=9)
    kl = float(np.mean(rb.kl(q, p)))  # bits
    for method in METHODS:
        nbits = samples(method, q, p, np.arange(N)).nbits.mean()
        assert kl < nbits < kl + 2 * math.log2(kl + 1) + 2


# ---- codes, budgets, refusals ------------------------------------------------------------------


def random_pair(draw):
    fam = draw(st.integers(0, 2))
    if fam == 0:
        return rb.Normal(draw(st.floats(-5, 5)), draw(st.floats(0.01, 0.99))), rb.Normal(0.0, 1.0)
    if fam == 1:
        return rb.Laplace(draw(st.floats(-10, 10)), draw(st.floats(0.02, 1.0))), rb.Laplace(0.0, 1.0)
    a = draw(st.floats(0.0, 0.9))
    b = draw(st.floats(a + 1e-3, 1.0))
    return rb.Triangular(a, draw(st.floats(a, b)), b), rb.Uniform(0.0, 1.0)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(0, 2**64 - 1), st.sampled_from(METHODS))
def test_codes_round_trip_bit_for_bit(data, seed, method):
    """A scalar code decodes to the encoder's sample with P and the seed alone, and the path it
    carries is walked by A* coding's decoder with the same split rule (AS* for GRCS, AD* for GRCD)."""
    q, p = random_pair(data.draw)
    code = rb.encode(q, p, method, seed)
    assert rb.decode(code.bits, p, method, seed) == code.sample
    rule = tree.SPLIT_AT_SAMPLE if method == "grcs" else tree.SPLIT_AT_MEDIAN
    fam, prm = row(q, p)
    status, steps, z, depth, ws = grc.grc_search(fam, prm, np.uint64(seed), rule, 10**6, new_workspace(2))
    assert status == OK and steps == depth + 1 and depth == code.index.bit_length() - 1
    path = path_of(ws, depth)
    pair = resolve(q, p)
    assert float(pair.loc[0] + pair.scale[0] * z) == code.sample
    assert tree.decode_walk(fam, np.uint64(seed), rule, path) == (OK, z)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**63), st.integers(1, 40), st.sampled_from(METHODS), st.booleans())
def test_vectors_and_streams_round_trip(seed, d, method, model):
    """A channel vector of d coordinates, and a stream of three, with the depth model-coded or not."""
    q, p = rb.gaussian_channel(4, d, seed=seed % 1000)
    index_model = rb.IndexModel.from_pairs(q, p, method, seed=1) if model else None
    v = rb.encode_vector(q, p, method, seed, index_model=index_model)
    back = rb.decode_vector(v.bits, p, method, seed, shape=q.shape, index_model=index_model)
    assert np.array_equal(back, v.sample)
    enc = rb.StreamEncoder(method, seed, index_model=index_model)
    sent = [enc.encode(q, p) for _ in range(3)]
    dec = rb.StreamDecoder(enc.get_compressed(), method, seed, index_model=index_model)
    for c in sent:
        assert np.array_equal(dec.decode(p, shape=q.shape), c.sample)
    dec.finish()


def test_a_path_longer_than_the_workspace_grows_it():
    """A message at 40 bits of KL walks a path of tens of nodes, past a two-node workspace."""
    fam, prm = row(*HIGH["triangular-41-bits"])
    for rule in (tree.SPLIT_AT_SAMPLE, tree.SPLIT_AT_MEDIAN):
        status, steps, z, depth, ws = grc.grc_search(fam, prm, np.uint64(3), rule, 10**6, new_workspace(2))
        assert status == OK and depth > 20 and ws[0].shape[0] >= depth + 1
        assert tree.decode_walk(fam, np.uint64(3), rule, path_of(ws, depth)) == (OK, z)


@pytest.mark.parametrize("method", METHODS)
def test_a_budget_stops_a_long_message(method):
    """At about 40 bits of KL a message takes tens of steps: a budget of 10 censors it, and encode
    refuses it with BudgetExceeded."""
    q, p = HIGH["laplace-41-bits"]
    df = rb.simulate(method, q, p, np.arange(200), max_steps=10)
    assert df.censored.all() and (df.steps == 10).all() and df["sample"].isna().all()
    with pytest.raises(rb.BudgetExceeded):
        rb.encode(q, p, method, 0, max_steps=10)
    fam, prm = row(q, p)
    status, steps, *_ = grc.grc_search(fam, prm, np.uint64(0), tree.SPLIT_AT_SAMPLE, 10, new_workspace(8))
    assert status == CENSORED and steps == 10


@pytest.mark.parametrize("method", METHODS)
def test_a_custom_target_is_refused(method):
    from numba import njit

    @njit
    def logpdf(x, params):
        return -0.5 * x * x - 0.5 * math.log(2 * math.pi)

    q = rb.Custom(logpdf, [])
    with pytest.raises(ValueError, match=f"{method} needs the level-set"):
        rb.encode(q, rb.Normal(0.0, 2.0), method, 0)
