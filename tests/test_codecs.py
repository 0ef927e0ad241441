"""Codecs: decode(encode(...).bits) is the encoded sample bit for bit, for every method, on
thousands of random pairs and seeds; codes are prefix-free and of the stated length; malformed
codes raise ValueError."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rec_bench as rb
from rec_bench import codes as C
from rec_bench.methods import METHODS, default_options

# larger code sizes than the registry's defaults for the fixed-length methods here; any method
# added to the registry is tested with its default options
OPTIONS = {m: default_options(m) for m in METHODS} | {"dad*": {"depth": 12}, "orc": {"bits": 6}, "mrc": {"bits": 6}}

finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def pairs(draw):
    family = draw(st.sampled_from(["normal", "laplace", "triangular"]))
    if family == "normal":
        m = draw(st.floats(-5, 5, **finite))
        s = draw(st.floats(0.1, 10, **finite))
        sigma = s * draw(st.floats(0.02, 0.999, **finite))
        mu = m + s * draw(st.floats(-3, 3, **finite))
        return rb.Normal(mu, sigma), rb.Normal(m, s)
    if family == "laplace":
        m = draw(st.floats(-5, 5, **finite))
        s = draw(st.floats(0.1, 10, **finite))
        return rb.Laplace(m + s * draw(st.floats(-4, 4, **finite)), s * draw(st.floats(0.05, 1.0, **finite))), rb.Laplace(m, s)
    low = draw(st.floats(-5, 5, **finite))
    width = draw(st.floats(0.5, 10, **finite))
    a = draw(st.floats(0, 0.9, **finite))
    b = draw(st.floats(a + 0.02, 1.0, **finite))
    c = a + (b - a) * draw(st.floats(0, 1, **finite))
    return rb.Triangular(low + a * width, low + c * width, low + b * width), rb.Uniform(low, low + width)


seeds = st.integers(0, 2**64 - 1)
SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


@pytest.mark.parametrize("method", list(METHODS))
@SETTINGS
@given(pair=pairs(), seed=seeds)
def test_round_trip_is_bit_exact(method, pair, seed):
    q, p = pair
    if method in ("rs", "pfr") and rb.dinf(q, p) > 14:
        return  # exponential baselines: keep the example cheap (their large-D_inf case is below)
    code = rb.encode(q, p, method, seed, **OPTIONS.get(method, {}))
    assert len(code.bits) == math.ceil(code.nbits / 8)
    got = rb.decode(code.bits, p, method, seed, **OPTIONS.get(method, {}))
    assert got == code.sample and np.isfinite(got)
    assert rb.decode(code, p) == code.sample  # a Code carries its own method, seed and options


@pytest.mark.parametrize("method", ["rs", "pfr"])
def test_baselines_round_trip_at_moderate_dinf(method):
    q, p = rb.fixed_kl(2, 16)
    for seed in range(20):
        code = rb.encode(q, p, method, seed)
        assert rb.decode(code.bits, p, method, seed) == code.sample


@pytest.mark.parametrize("method", list(METHODS))
def test_encode_agrees_with_simulate(method):
    q, p = rb.Normal(0.4, 0.5), rb.Normal(0.1, 1.1)
    df = rb.simulate(method, q, p, np.arange(200), **OPTIONS.get(method, {}))
    for seed in range(0, 200, 17):
        code = rb.encode(q, p, method, seed, **OPTIONS.get(method, {}))
        row = df.iloc[seed]
        assert (code.sample, code.steps, code.nbits) == (row["sample"], row["steps"], row["nbits"])
        assert code.ideal_bits == pytest.approx(row["ideal_bits"], abs=0) and code.ideal_bits == pytest.approx(
            math.log2(code.index), abs=1e-12
        )


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_deep_returned_nodes_round_trip(method):
    """KL near 80 bits returns AD* nodes about 80 deep, past any 64-bit heap index (AS* splits at
    its own sample, which shrinks by about e per level, so its nodes are about 80 ln 2 deep).

    A triangle at the proposal's lower edge keeps full relative precision in its coordinates
    (a Gaussian target that narrow would be below float64's spacing; see README, Numerics).
    """
    q, p = rb.Triangular(0.0, 2.0**-80, 2.0**-79), rb.Uniform(0.0, 1.0)
    samples, depths = set(), []
    for seed in range(20):
        code = rb.encode(q, p, method, seed)
        depths.append(code.index.bit_length() - 1)
        assert rb.decode(code.bits, p, method, seed) == code.sample
        assert 0 < code.sample < 2.0**-79
        samples.add(code.sample)
    assert len(samples) == 20
    if method == "ad*":
        assert min(depths) > 70
    else:
        assert np.mean(depths) > 45 and max(depths) > 62


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_narrow_gaussian_targets_round_trip(method):
    q, p = rb.Normal(0.3, 2.0**-40), rb.Normal(0.0, 1.0)  # KL about 40 bits
    for seed in range(10):
        code = rb.encode(q, p, method, seed)
        assert code.index.bit_length() > 30
        assert rb.decode(code.bits, p, method, seed) == code.sample
        assert abs(code.sample - 0.3) < 6 * 2.0**-40


@pytest.mark.parametrize("method", ["as*", "ad*", "pfr"])
def test_elias_delta_length_is_what_the_code_says(method):
    q, p = rb.Normal(1.0, 0.3), rb.Normal(0.0, 1.0)
    for seed in range(50):
        code = rb.encode(q, p, method, seed)
        n = code.index
        length = n.bit_length()
        assert code.nbits == length + 2 * (length.bit_length() - 1)
        assert code.bitstring == C.EliasDelta().encode(n)


def test_elias_gamma_can_be_chosen():
    q, p = rb.Normal(1.0, 0.3), rb.Normal(0.0, 1.0)
    code = rb.encode(q, p, "ad*", 5, code="elias-gamma")
    assert code.nbits == 2 * code.index.bit_length() - 1
    assert rb.decode(code.bits, p, "ad*", 5, code="elias-gamma") == code.sample
    df = rb.simulate("ad*", q, p, [5], code="elias-gamma")
    assert df.nbits[0] == code.nbits


@given(st.integers(1, 2**200), st.integers(1, 2**200))
@settings(max_examples=500, deadline=None)
def test_universal_codes_are_prefix_free_and_invert(a, b):
    for code in (C.EliasDelta(), C.EliasGamma()):
        ca, cb = code.encode(a), code.encode(b)
        assert code.decode(ca) == (a, len(ca))
        assert code.decode(ca + "1011") == (a, len(ca))  # self-delimiting
        if a != b:
            assert not cb.startswith(ca) and not ca.startswith(cb)


def test_fixed_length_codes_have_their_width():
    q, p = rb.Normal(1.0, 0.3), rb.Normal(0.0, 1.0)
    assert rb.encode(q, p, "dad*", 0, depth=9).nbits == 10
    assert rb.encode(q, p, "orc", 0, bits=7).nbits == 7
    assert rb.encode(q, p, "mrc", 0, bits=3).nbits == 3


@pytest.mark.parametrize("method", ["as*", "ad*", "pfr", "rs"])
def test_truncated_codes_raise(method):
    q, p = rb.Normal(2.0, 0.1), rb.Normal(0.0, 1.0)  # several bytes of code
    code = rb.encode(q, p, method, 1)
    assert code.nbits > 8
    for cut in range(len(code.bits)):
        with pytest.raises(ValueError, match="truncated|corrupted"):
            rb.decode(code.bits[:cut], p, method, 1)


def test_trailing_bits_are_refused():
    q, p = rb.Normal(1.0, 0.3), rb.Normal(0.0, 1.0)
    code = rb.encode(q, p, "ad*", 0)
    with pytest.raises(ValueError, match="corrupted code"):
        rb.decode(code.bits + b"\x00", p, "ad*", 0)
    with pytest.raises(ValueError, match="corrupted code"):
        rb.decode(code.bits + b"\x80", p, "ad*", 0)


def test_fixed_length_codes_refuse_the_wrong_length_and_index_zero():
    p = rb.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="truncated"):
        rb.decode(b"\xff", p, "dad*", 0, depth=12)  # 13 bits needed
    with pytest.raises(ValueError, match="heap index 0"):
        rb.decode(b"\x00\x00", p, "dad*", 0, depth=12)
    with pytest.raises(ValueError, match="corrupted"):
        rb.decode(b"\x00\x00\x00", p, "orc", 0, bits=6)


@pytest.mark.parametrize("method", list(METHODS))
@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.binary(max_size=12), seed=st.integers(0, 2**64 - 1))
def test_arbitrary_bytes_decode_or_raise_value_error(method, data, seed):
    """Fuzz: garbage either names a valid code (and gives a finite sample) or raises ValueError."""
    p = rb.Laplace(0.0, 2.0)
    try:
        x = rb.decode(data, p, method, seed, **OPTIONS.get(method, {}))
    except ValueError:
        return
    assert np.isfinite(x)
