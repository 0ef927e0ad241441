"""The contract every registered method keeps with every registered pair family.

Parametrised over rec_bench.methods.METHODS x rec_bench.pairs.registry.FAMILIES and nothing else:
no method or family is named here. What a test needs of a method it reads from its record
(``exact``, ``option``, ``code``, ``model_index``, ``index_offset``, ``requires``,
``default_options``); what it needs of a family, from the family's ``example()`` pair (every
example has D_inf <= 3.3 bits, so exponential-runtime methods stay cheap). A method whose
``requires`` a family lacks is refused with a ValueError, and that is all that is asserted of the
combination. Adding a method (its kernel module and its record) or a family (its module and its
registry entry) adds its cases here without editing this file.

Covered: exactness of exact methods (KS against Q's CDF at fixed seeds, with the same check shown
to reject a slightly shifted sampler), scalar round trips bit for bit (and against rb.simulate and
the string oracles of tests/code_oracles.py), vectors (each coordinate the scalar message of its
coordinate seed; with an IndexModel where the record allows one), streams, step budgets, and
corrupted codes (truncated, extended, bit-flipped, arbitrary bytes: a ValueError or a finite
sample, never a crash or a hang; trailing data refused by every decoder).
"""

import dataclasses
import functools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import code_oracles as C
import rec_bench as rb
from rec_bench.coding.codes import UNIVERSAL
from rec_bench.methods import CANDIDATES, EXPONENTIAL, METHODS, default_options
from rec_bench.pairs import registry, resolve
from rec_bench.pairs.registry import FAMILIES

N = 20_000  # messages per exactness check
ALPHA = 1e-4  # an exact method passes: p-value above this at the fixed seeds
POWER_SHIFT = 0.1  # the same check must reject the samples shifted by 10% of Q's standard deviation
POWER_P = 1e-6  # ... with a p-value below this
SEEDS = 300  # scalar messages per round-trip case
SHAPE = (2, 3)  # a vector's shape
SLOW_DECODE = 2.0  # seconds: no single decode of a corrupted code may take this long


def same(a, b):
    """Bit for bit: the same shape and the same float64 bytes (so -0.0 is not 0.0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def supports(m, f):
    return all(hasattr(f, name) for name in m.requires)


def _id(m, f):
    return f"{m.name}-{registry.name(f)}"


CASES = [pytest.param(m, f, id=_id(m, f)) for m in METHODS.values() for f in FAMILIES if supports(m, f)]
REFUSED = [pytest.param(m, f, id=_id(m, f)) for m in METHODS.values() for f in FAMILIES if not supports(m, f)]
EXACT = [c for c in CASES if c.values[0].exact]
MODEL = [c for c in CASES if c.values[0].model_index]
NO_MODEL = [c for c in CASES if not c.values[0].model_index]


def option_sets(m):
    """The record's default options, and for a sized method a larger size as well (still cheap)."""
    out = [default_options(m.name)]
    if m.option is not None:
        out.append({m.option.name: min(m.option.high, m.option.default + 6)})
    return out


CASES_WITH_OPTIONS = [pytest.param(m, f, o, id=f"{_id(m, f)}-{o or 'default'}")
                      for m in METHODS.values() for f in FAMILIES if supports(m, f) for o in option_sets(m)]


@functools.cache
def example(f):
    """The family's example pair, paired once (a Custom target's CDF needs it)."""
    q, p = f.example()
    rb.kl(q, p)
    return q, p


def scalar_only(dist):
    """True for a distribution whose parameters cannot be arrays (a Custom target)."""
    return not type(dist)._fields


def widen(dist, shape):
    """``dist`` with each parameter broadcast to ``shape``."""
    return type(dist)(*(np.broadcast_to(a, shape) for a in dist.params()))


def perturbed(q, p, rng, max_dinf):
    """A random target near the example's: each parameter v becomes v e^a + b sd(P) (a, b uniform
    on [-1, 1]), retried until the pair is valid with D_inf <= max_dinf bits. A scalar-only target
    (a Custom one) is returned as it is."""
    if scalar_only(q):
        return q
    sd = math.sqrt(float(p.var()))
    for _ in range(1000):
        values = [float(v) * math.exp(rng.uniform(-1, 1)) + rng.uniform(-1, 1) * sd for v in q.params()]
        try:
            candidate = type(q)(*values)
            if rb.dinf(candidate, p) <= max_dinf:
                return candidate
        except ValueError:  # not a distribution, or an infinite D_inf against p
            continue
    return q


def max_dinf(m):
    """D_inf (bits) up to which random pairs are drawn for ``m``: exponential runtimes stay cheap."""
    return 10.0 if m.runtime == EXPONENTIAL else 30.0


@functools.cache
def vector(f):
    """A vector of SHAPE from the family's example: its coordinates are random targets near the
    example's (D_inf <= 6 bits) against the example's proposal. For a scalar-only target, the
    example as a one-coordinate vector of shape ()."""
    q, p = example(f)
    if scalar_only(q):
        return q, p
    rng = np.random.default_rng(FAMILIES.index(f))
    coords = [perturbed(q, p, rng, 6.0) for _ in range(math.prod(SHAPE))]
    params = [np.reshape([c.params()[k] for c in coords], SHAPE) for k in range(len(type(q)._fields))]
    return type(q)(*params), widen(p, SHAPE)


def coordinate(dist, i):
    if dist.shape == ():
        return dist
    return type(dist)(*(a.ravel()[i] for a in dist.params()))


def vector_options(m, shape):
    """Per-coordinate sizes for a sized method (its default and up to 2 more), else {}."""
    if m.option is None:
        return {}
    o = m.option
    values = np.minimum(o.high, o.default + np.arange(math.prod(shape)) % 3).reshape(shape)
    return {o.name: values}


def oracle(m, value):
    """The string code (tests/code_oracles.py) of ``m``'s index, sized by ``value`` if it has a size."""
    if m.option is not None:
        return C.FixedLength(m.width(value))
    return C.universal(m.code)


MODEL_TABLE = rb.IndexModel([0.4, 0.3, 0.2, 0.1])  # K = 3: deeper indices escape to a universal code


# ---- what a family must provide ------------------------------------------------------------------


# ---- the records themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("m", METHODS.values(), ids=lambda m: m.name)
def test_a_method_record_is_consistent(m):
    assert METHODS[m.name] is m and list(METHODS).index(m.name) == m.id
    assert m.index in ("heap", "candidate") and (m.option is None) == (m.code is not None)
    if m.option is None:
        assert m.code in UNIVERSAL and default_options(m.name) == {}
    else:
        o = m.option
        assert o.low <= o.default <= o.high and default_options(m.name) == {o.name: o.default}
        assert m.width(o.default) >= 1 and m.from_width(m.width(o.default)) == o.default
    for name in m.requires:  # what a method requires, some family provides
        assert any(hasattr(f, name) for f in FAMILIES), name
    assert all(field.kw_only for field in dataclasses.fields(m))  # keyword-only records
    if m.option is not None:
        assert all(field.kw_only for field in dataclasses.fields(m.option))


@pytest.mark.parametrize("f", FAMILIES, ids=registry.name)
def test_a_family_record_is_consistent(f):
    q, p = example(f)
    assert type(q) is f.TARGET and type(p) is f.PROPOSAL
    assert registry.FAMILY_NAMES.count(registry.name(f)) == 1
    assert FAMILIES[resolve(q, p).family] is f
    # a decoder knows only P: it takes P's functions from the first family with P's class, so
    # every family with that class must have the same ones
    first = next(g for g in FAMILIES if g.PROPOSAL is f.PROPOSAL)
    for name in ("logcdf", "logsf", "ppf_logcdf", "ppf_logsf", "LOWER", "UPPER", "proposal_map"):
        assert getattr(f, name) is getattr(first, name), name


@pytest.mark.parametrize("m, f", REFUSED)
def test_a_family_lacking_what_a_method_requires_is_refused(m, f):
    q, p = example(f)
    opts = default_options(m.name)
    with pytest.raises(ValueError, match="needs"):
        rb.encode(q, p, m.name, 0, **opts)
    qv, pv = vector(f)
    with pytest.raises(ValueError, match="needs"):
        rb.encode_vector(qv, pv, m.name, 0, **opts)
    with pytest.raises(ValueError, match="needs"):
        rb.simulate(m.name, q, p, np.arange(3), **opts)
    with pytest.raises(ValueError, match="needs"):
        rb.StreamEncoder(m.name, 0, **opts).encode(qv, pv)


@pytest.mark.parametrize("f", FAMILIES, ids=registry.name)
def test_every_family_has_an_example_with_a_small_finite_dinf(f):
    q, p = example(f)
    assert 0 < rb.kl(q, p) <= rb.dinf(q, p) <= 3.3
    assert np.all(np.diff(q.cdf(np.linspace(-50, 50, 201))) >= 0)


# ---- exactness -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("m, f", EXACT)
def test_an_exact_method_samples_q(m, f):
    """KS against Q's CDF at fixed seeds (a fixed number, not a coin flip). The same samples shifted
    by a tenth of Q's standard deviation fail the same test by a wide margin: the check has power."""
    q, p = example(f)
    df = rb.simulate(m.name, q, p, np.arange(N) + 10**7 * m.id, **default_options(m.name))
    assert not df.censored.any()
    x = df["sample"].to_numpy()
    assert stats.kstest(x, q.cdf).pvalue > ALPHA
    shifted = x + POWER_SHIFT * math.sqrt(float(q.var()))
    assert stats.kstest(shifted, q.cdf).pvalue < POWER_P


# ---- scalar round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("m, f, opts", CASES_WITH_OPTIONS)
def test_scalar_codes_round_trip_bit_for_bit_and_agree_with_simulate(m, f, opts):
    q, p = example(f)
    seeds = np.arange(SEEDS)
    df = rb.simulate(m.name, q, p, seeds, **opts)
    assert not df.censored.any()
    value = next(iter(opts.values()), None)
    for seed in seeds.tolist():
        code = rb.encode(q, p, m.name, seed, **opts)
        assert isinstance(code, rb.Code) and code.method == m.name and code.option == value
        assert len(code.bits) == math.ceil(code.nbits / 8) and code.nbits >= 1
        assert code.bitstring == oracle(m, value).encode(code.index - m.index_offset)
        row = df.iloc[seed]
        assert (code.sample, code.steps, code.nbits) == (row["sample"], row["steps"], row["nbits"])
        assert code.ideal_bits == row["ideal_bits"]
        assert code.ideal_bits == pytest.approx(math.log2(code.index), abs=1e-9)
        x = rb.decode(code.bits, p, m.name, seed, **opts)
        assert same(x, code.sample) and np.isfinite(x)
        assert same(rb.decode(code, p), code.sample)  # a Code carries its method, seed and options
    assert df["sample"].nunique() > SEEDS // 2  # the seeds matter


@pytest.mark.parametrize("m, f", [c for c in CASES if c.values[0].code is not None])
def test_every_universal_code_can_be_chosen(m, f):
    q, p = example(f)
    for name in UNIVERSAL:
        for seed in range(20):
            code = rb.encode(q, p, m.name, seed, code=name)
            assert code.code == name and code.bitstring == C.universal(name).encode(code.index)
            assert same(rb.decode(code.bits, p, m.name, seed, code=name), code.sample)
            assert same(rb.decode(code, p), code.sample)
        df = rb.simulate(m.name, q, p, [seed], code=name)
        assert df.nbits[0] == code.nbits


@pytest.mark.parametrize("m, f", CASES)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(draw=st.integers(0, 2**32 - 1), seed=st.integers(0, 2**64 - 1))
def test_scalar_codes_round_trip_on_random_pairs_near_the_example(m, f, draw, seed):
    q, p = example(f)
    q = perturbed(q, p, np.random.default_rng(draw), max_dinf(m))
    for opts in option_sets(m):
        code = rb.encode(q, p, m.name, seed, **opts)
        assert len(code.bits) == math.ceil(code.nbits / 8)
        x = rb.decode(code.bits, p, m.name, seed, **opts)
        assert same(x, code.sample) and np.isfinite(x)


# ---- vectors and streams -------------------------------------------------------------------------


@pytest.mark.parametrize("m, f", CASES)
def test_a_vector_is_its_coordinates_scalar_messages(m, f):
    qv, pv = vector(f)
    shape = pv.shape if qv.shape == () and pv.shape == () else np.broadcast_shapes(qv.shape, pv.shape)
    for opts in (default_options(m.name), vector_options(m, shape)):
        for seed in range(5):
            code = rb.encode_vector(qv, pv, m.name, seed, **opts)
            assert isinstance(code, rb.VectorCode) and code.sample.shape == shape
            assert code.nbits == code.code_bits.sum() and len(code.bits) == math.ceil(code.nbits / 8)
            expected = ""
            for i in range(code.sample.size):
                o = {k: int(np.broadcast_to(v, shape).ravel()[i]) for k, v in opts.items()}
                c = rb.encode(coordinate(qv, i), coordinate(pv, i), m.name, rb.coordinate_seed(seed, i), **o)
                assert same(c.sample, code.sample.flat[i]) and c.steps == code.steps.flat[i]
                assert c.index == code.index.flat[i] and c.nbits == code.code_bits.flat[i]
                expected += c.bitstring
            assert code.bitstring == expected
            assert C.pack(expected) == code.bits  # padded once, at the end
            got = rb.decode_vector(code.bits, pv, m.name, seed, shape=shape, **opts)
            assert got.shape == shape and same(got, code.sample)
            assert same(rb.decode_vector(code, pv), code.sample)
            if pv.shape:  # the proposal's scalar parameters shared by every coordinate, and the shape
                _, p = example(f)
                assert same(rb.decode_vector(code.bits, p, m.name, seed, shape=shape, **opts),
                                      code.sample)


@pytest.mark.parametrize("m, f", MODEL)
def test_a_model_coded_vector_round_trips_with_the_same_samples(m, f):
    qv, pv = vector(f)
    shape = np.broadcast_shapes(qv.shape, pv.shape)
    opts = default_options(m.name)
    escapes = 0
    for seed in range(8):
        plain = rb.encode_vector(qv, pv, m.name, seed, **opts)
        code = rb.encode_vector(qv, pv, m.name, seed, index_model=MODEL_TABLE, **opts)
        assert code.index_model is MODEL_TABLE and code.nbits == 8 * len(code.bits)
        assert same(code.sample, plain.sample)
        assert list(code.index.ravel()) == list(plain.index.ravel())
        got = rb.decode_vector(code.bits, pv, m.name, seed, shape=shape, index_model=MODEL_TABLE, **opts)
        assert same(got, code.sample)
        assert same(rb.decode_vector(code, pv), code.sample)
        escapes += int(np.sum(code.index_bits - 1 >= MODEL_TABLE.size))
        with pytest.raises(ValueError):  # trailing data
            rb.decode_vector(code.bits + b"\x00\x00\x00\x00", pv, m.name, seed, shape=shape,
                             index_model=MODEL_TABLE, **opts)


@st.composite
def models(draw):
    k = draw(st.integers(1, 8))
    # no subnormal weights: constriction cannot normalise a subnormal total (refused when built)
    w = draw(st.lists(st.floats(0.0, 10.0, allow_nan=False, allow_subnormal=False), min_size=k + 1,
                      max_size=k + 1))
    if sum(w) == 0:
        w[0] = 1.0
    return rb.IndexModel(w)


@pytest.mark.parametrize("m, f", MODEL)
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(model=models(), seed=st.integers(0, 2**64 - 1), escape=st.sampled_from(sorted(UNIVERSAL)))
def test_any_index_model_round_trips_including_escapes(m, f, model, seed, escape):
    """Any table codes any vector (a bad fit costs bits, never correctness); the coder is charged
    the model's information content: -log2 P(symbol), the escape's universal code, the path bits."""
    qv, pv = vector(f)
    shape = np.broadcast_shapes(qv.shape, pv.shape)
    opts = vector_options(m, shape)
    code_opt = {"code": escape} if m.option is None else {}
    code = rb.encode_vector(qv, pv, m.name, seed, index_model=model, **opts, **code_opt)
    plain = rb.encode_vector(qv, pv, m.name, seed, **opts)
    assert same(code.sample, plain.sample) and list(code.index.ravel()) == list(plain.index.ravel())
    got = rb.decode_vector(code.bits, pv, m.name, seed, shape=shape, index_model=model, **opts, **code_opt)
    assert same(got, code.sample)
    assert same(rb.decode_vector(code, pv), code.sample)
    depths = np.ravel(code.index_bits - 1)
    info = -np.log2(np.maximum(model.probabilities[np.minimum(depths, model.size)], 2.0**-24)) + depths
    esc = depths >= model.size
    escape_code = C.universal(escape if m.option is None else "elias-delta")  # fixed-length methods: delta
    info[esc] += [len(escape_code.encode(int(t) - model.size + 1)) for t in depths[esc]]
    assert np.allclose(np.ravel(code.code_bits), info)


@pytest.mark.parametrize("m, f", NO_MODEL)
def test_an_index_model_is_refused_where_the_record_says_so(m, f):
    qv, pv = vector(f)
    with pytest.raises(ValueError, match="index model"):
        rb.encode_vector(qv, pv, m.name, 0, index_model=MODEL_TABLE, **default_options(m.name))
    with pytest.raises(ValueError, match="index model"):
        rb.StreamEncoder(m.name, 0, index_model=MODEL_TABLE, **default_options(m.name))


def _models(m):
    return [None, MODEL_TABLE] if m.model_index else [None]


STREAM_CASES = [pytest.param(m, f, model, id=f"{_id(m, f)}-{'model' if model else 'plain'}")
                for m in METHODS.values() for f in FAMILIES if supports(m, f) for model in _models(m)]


@pytest.mark.parametrize("m, f, model", STREAM_CASES)
def test_a_stream_of_several_vectors_reads_back_in_order(m, f, model):
    qv, pv = vector(f)
    shape = np.broadcast_shapes(qv.shape, pv.shape)
    opts = default_options(m.name)
    enc = rb.StreamEncoder(m.name, 11, index_model=model, **opts)
    sent = [enc.encode(qv, pv) for _ in range(3)]
    sent.append(enc.encode(qv, pv, seed=2**63 + 5))  # a vector with its own seed
    many = None
    if not scalar_only(qv):  # several vectors in one call: parameters with a leading axis
        many = enc.encode_many(widen(qv, (5, *shape)), widen(pv, (5, *shape)))
    for j, c in enumerate(sent[:3]):  # the default seeds are the documented message seeds
        assert c.bits is None and c.seed == rb.message_seed(11, j)
        assert same(c.sample, rb.encode_vector(qv, pv, m.name, c.seed, **opts).sample)
    data = enc.get_compressed()
    count = len(sent) + (0 if many is None else 5)
    assert len(enc) == count
    if model is None:  # one padding for the whole stream
        total = sum(int(c.nbits) for c in sent) + (0 if many is None else int(many.nbits))
        assert enc.num_bits() == total and len(data) == math.ceil(total / 8)

    def read(data):
        dec = rb.StreamDecoder(data, m.name, 11, index_model=model, **opts)
        for c in sent[:3]:
            assert same(dec.decode(pv, shape=shape), c.sample)
        assert same(dec.decode(pv, shape=shape, seed=2**63 + 5), sent[3].sample)
        if many is not None:
            assert same(dec.decode_many(pv, 5, shape=shape), many.sample)
        return dec

    dec = read(data)
    assert len(dec) == count
    dec.finish()
    if model is not None:
        assert dec.maybe_exhausted()
        with pytest.raises(ValueError):  # a model-coded stream knows its count
            dec.decode(pv, shape=shape)
    for extra in (b"\x00", b"\x80", b"\x01\x02\x03\x04"):  # trailing data
        with pytest.raises(ValueError):
            read(data + extra).finish()

    def read_any(data):
        dec = rb.StreamDecoder(data, m.name, 11, index_model=model, **opts)
        out = [dec.decode(pv, shape=shape) for _ in range(3)]
        out.append(dec.decode(pv, shape=shape, seed=2**63 + 5))
        if many is not None:
            out.append(dec.decode_many(pv, 5, shape=shape))
        dec.finish()
        return np.concatenate([np.ravel(x) for x in out])

    rng = np.random.default_rng(m.id)
    for bit in rng.choice(8 * len(data), size=min(48, 8 * len(data)), replace=False).tolist():
        _finite_or_value_error(lambda: read_any(_flip(data, bit)))


# ---- budgets -------------------------------------------------------------------------------------


@pytest.mark.parametrize("m, f", CASES)
def test_a_search_past_its_step_budget_is_refused_or_censored(m, f):
    q, p = example(f)
    opts = default_options(m.name)
    seeds = np.arange(64)
    qv, pv = vector(f)
    free = rb.simulate(m.name, q, p, seeds, **opts)
    if m.runtime == CANDIDATES:  # every message draws all its candidates: less budget is refused up front
        need = m.kernel_option(next(iter(opts.values())))
        assert (free.steps == need).all()
        for call in (lambda: rb.encode(q, p, m.name, 0, max_steps=need - 1, **opts),
                     lambda: rb.encode_vector(qv, pv, m.name, 0, max_steps=need - 1, **opts),
                     lambda: rb.simulate(m.name, q, p, seeds, max_steps=need - 1, **opts),
                     lambda: rb.StreamEncoder(m.name, 0, max_steps=need - 1, **opts).encode(qv, pv)):
            with pytest.raises(ValueError, match="max_steps"):
                call()
        assert not rb.simulate(m.name, q, p, seeds, max_steps=need, **opts).censored.any()
        return
    long = free.steps.to_numpy() > 1
    assert long.any()  # every example needs more than one step for some seed
    capped = rb.simulate(m.name, q, p, seeds, max_steps=1, **opts)
    assert np.array_equal(capped.censored.to_numpy(), long)
    assert capped["sample"][long].isna().all() and capped["nbits"][long].isna().all()
    assert same(capped["sample"][~long].to_numpy(), free["sample"][~long].to_numpy())
    seed = int(np.flatnonzero(long)[0])
    with pytest.raises(rb.BudgetExceeded, match="max_steps=1"):
        rb.encode(q, p, m.name, seed, max_steps=1, **opts)
    with pytest.raises(rb.BudgetExceeded):
        for s in range(64):  # some vector has a coordinate that needs more than one step
            rb.encode_vector(qv, pv, m.name, s, max_steps=1, **opts)
    with pytest.raises(rb.BudgetExceeded):
        enc = rb.StreamEncoder(m.name, 0, max_steps=1, **opts)
        for _ in range(64):
            enc.encode(qv, pv)


# ---- corrupted codes -----------------------------------------------------------------------------


def _finite_or_value_error(call):
    start = time.perf_counter()
    try:
        x = call()
    except ValueError:
        x = None
    assert time.perf_counter() - start < SLOW_DECODE
    if x is not None:
        assert np.all(np.isfinite(x))
    return x


def _flip(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _longest(m, f, opts):
    """The seed among 0..63 whose scalar code is longest, with its code."""
    q, p = example(f)
    df = rb.simulate(m.name, q, p, np.arange(64), **opts)
    seed = int(df.nbits.to_numpy().argmax())
    return seed, rb.encode(q, p, m.name, seed, **opts)


@pytest.mark.parametrize("m, f, opts", CASES_WITH_OPTIONS)
def test_corrupted_scalar_codes_raise_value_error_or_decode_to_a_finite_sample(m, f, opts):
    _, p = example(f)
    seed, code = _longest(m, f, opts)
    data = code.bits

    def dec(b):
        return rb.decode(b, p, m.name, seed, **opts)

    for cut in range(len(data)):  # truncated: shorter than the code
        with pytest.raises(ValueError, match="truncated|corrupted"):
            dec(data[:cut])
    for extra in (b"\x00", b"\x80", b"\x01", b"\xff\xff"):  # trailing data
        with pytest.raises(ValueError, match="corrupted"):
            dec(data + extra)
    for bit in range(code.nbits, 8 * len(data)):  # the padding must be zeros
        with pytest.raises(ValueError, match="corrupted"):
            dec(_flip(data, bit))
    for bit in range(code.nbits):  # any flipped bit of the code itself
        x = _finite_or_value_error(lambda: dec(_flip(data, bit)))
        assert x is None or isinstance(x, float)
    assert same(dec(data), code.sample)


@pytest.mark.parametrize("m, f", CASES)
def test_corrupted_vectors_raise_value_error_or_decode_to_finite_samples(m, f):
    qv, pv = vector(f)
    shape = np.broadcast_shapes(qv.shape, pv.shape)
    opts = default_options(m.name)
    for model in _models(m):
        code = rb.encode_vector(qv, pv, m.name, 3, index_model=model, **opts)
        data = code.bits

        def dec(b):
            return rb.decode_vector(b, pv, m.name, 3, shape=shape, index_model=model, **opts)

        for cut in range(len(data)):
            with pytest.raises(ValueError, match="truncated|corrupted"):
                dec(data[:cut])
        for extra in (b"\x00", b"\x80", b"\x01\x00\x00\x00\x00"):
            with pytest.raises(ValueError):
                dec(data + extra)
        for bit in range(8 * len(data)):
            x = _finite_or_value_error(lambda: dec(_flip(data, bit)))
            assert x is None or x.shape == shape
        assert same(dec(data), code.sample)


SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("m, f", CASES)
@SETTINGS
@given(data=st.binary(max_size=16), seed=st.integers(0, 2**64 - 1), d=st.integers(0, 6), model=st.booleans())
def test_arbitrary_bytes_decode_to_finite_samples_or_raise_value_error(m, f, data, seed, d, model):
    _, p = example(f)
    opts = default_options(m.name)
    _finite_or_value_error(lambda: rb.decode(data, p, m.name, seed, **opts))
    index_model = MODEL_TABLE if model and m.model_index else None
    x = _finite_or_value_error(lambda: rb.decode_vector(data, p, m.name, seed, shape=(d,),
                                                        index_model=index_model, **opts))
    assert x is None or x.shape == (d,)

    def stream():
        dec = rb.StreamDecoder(data, m.name, seed, index_model=index_model, **opts)
        out = dec.decode_many(p, 2, shape=(d,))
        dec.finish()
        return out

    _finite_or_value_error(stream)


# ---- targets that cannot have array parameters ---------------------------------------------------


@pytest.mark.parametrize("f", FAMILIES, ids=registry.name)
def test_a_proposal_with_array_parameters_against_the_example_target_codes_or_is_a_value_error(f):
    q, p = example(f)
    pv = widen(p, SHAPE)
    method = next(m for m in METHODS.values() if supports(m, f) and m.option is None)
    try:
        code = rb.encode_vector(q, pv, method.name, 1)
    except ValueError:
        return
    assert same(rb.decode_vector(code, pv), code.sample)
