"""The plain-Python reference AS*/AD* (rec_bench.reference) as an oracle for the compiled search.

Laplace/Laplace is closed form, so steps, heap indices and samples must be identical bit for bit.
Normal/Normal is identical bit for bit with scipy's scalar special functions injected, and within
a documented tolerance (samples to 1e-13 relative, same steps) with the pure-Python ones.
"""

import numpy as np
import pytest

import rec_bench as rb
from rec_bench import reference as R

SEEDS = np.arange(150)

LAPLACE_PAIRS = {
    "near": (rb.Laplace(1.5, 0.5), rb.Laplace(0.0, 1.0)),
    "far-left": (rb.Laplace(-8.0, 0.05), rb.Laplace(0.0, 1.0)),
    "shifted-scaled": (rb.Laplace(3.0, 0.2), rb.Laplace(0.5, 2.0)),
    "deep-tail": (rb.Laplace(30.0, 0.5), rb.Laplace(0.0, 1.0)),
}


def _compare(q, p, method, special, exact, seeds=SEEDS, n_index=25):
    df = rb.simulate(method, q, p, seeds)
    for s in seeds:
        status, steps, x, index = R.encode(q, p, method, int(s), special=special)
        row = df.iloc[int(s)]
        assert status == R.OK and not row.censored
        assert steps == row.steps, (method, int(s))
        if exact:
            assert x == row["sample"], (method, int(s), x, row["sample"])
        else:
            assert x == pytest.approx(row["sample"], rel=1e-13, abs=1e-300), (method, int(s))
        if s < n_index:
            code = rb.encode(q, p, method, int(s))
            assert index == code.index, (method, int(s))
            assert steps == code.steps
            if exact:
                assert x == code.sample


@pytest.mark.parametrize("method", ["as*", "ad*"])
@pytest.mark.parametrize("name", list(LAPLACE_PAIRS))
def test_laplace_bit_for_bit(name, method):
    q, p = LAPLACE_PAIRS[name]
    _compare(q, p, method, special=None, exact=True)


@pytest.mark.parametrize("method", ["as*", "ad*"])
@pytest.mark.parametrize("dinf", [3.0, 20.0, 50.0])
def test_gaussian_with_scipy_special_functions_bit_for_bit(dinf, method):
    q, p = rb.fixed_kl(2.0, dinf)
    _compare(q, p, method, special=R.SCIPY, exact=True, seeds=SEEDS[:80])


@pytest.mark.parametrize("method", ["as*", "ad*"])
@pytest.mark.parametrize("dinf", [3.0, 30.0])
def test_gaussian_pure_python_within_tolerance(dinf, method):
    q, p = rb.fixed_kl(2.0, dinf)
    _compare(q, p, method, special=None, exact=False, seeds=SEEDS[:80])


def test_gaussian_general_location_scale():
    q, p = rb.Normal(2.5, 0.3), rb.Normal(1.0, 1.7)
    for method in ("as*", "ad*"):
        _compare(q, p, method, special=R.SCIPY, exact=True, seeds=SEEDS[:60])


def test_splitmix_matches_compiled():
    from rec_bench import randomness as rnd

    for seed in (0, 1, 2**63 + 5, 2**64 - 1):
        k = R.root_key(seed)
        assert k == int(rnd.root_key(np.uint64(seed)))
        for bit in (0, 1):
            assert R.child_key(k, bit) == int(rnd.child_key(np.uint64(k), bit))
        for stream, word in ((rnd.GUMBEL, R.STREAM_GUMBEL), (rnd.LOCATION, R.STREAM_LOCATION)):
            assert R.uniform(k, word) == rnd.uniform(np.uint64(k), stream)


def test_pure_special_functions_close_to_scipy():
    from scipy import special

    for z in np.linspace(-60.0, 8.0, 400):
        assert R.log_ndtr(float(z)) == pytest.approx(special.log_ndtr(z), rel=1e-14)
    for y in -np.logspace(-10, 4, 400):
        assert R.ndtri_exp(float(y)) == pytest.approx(special.ndtri_exp(y), rel=1e-12)


def test_censoring_and_unsupported_family():
    q, p = rb.fixed_kl(2.0, 30.0)
    pair = rb.pairs.resolve(q, p)
    status, steps, _, _ = R.search(pair.family, pair.params[0].tolist(), 3, R.AD, max_steps=2)
    assert status == R.CENSORED and steps == 2
    with pytest.raises(ValueError):
        R.search(2, [0.0, 0.0, 0.0, 0.0], 0, R.AS)


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_laplace_deep_search_grows_the_arena(method):
    """D_inf ~ 2000 bits: thousands of steps, past the compiled search's initial arena of 1024 nodes."""
    q, p = rb.Laplace(1500.0, 0.5), rb.Laplace(0.0, 1.0)
    _compare(q, p, method, special=None, exact=True, seeds=np.arange(3), n_index=3)
