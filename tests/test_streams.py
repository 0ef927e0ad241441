"""Vectors and streams beyond the contract suite (tests/test_contract.py: every method on every
family's vectors and streams, model-coded ones included, and their corrupted codes): Elias gamma
vectors, deep indices, the documented seed derivation, each coordinate distributed as its Q_i and
independent of the others, long streams read back in order, encode_many as encode row by row,
the model-coded index's escapes and costs, corrupt model streams, and bad input."""

import math

import numpy as np
import pytest
from scipy import stats

import code_oracles as C
import rec_bench as rb
from rec_bench import (
    IndexModel, StreamDecoder, StreamEncoder, VectorCode, coordinate_seed, decode_vector, encode_vector,
    message_seed,
)
from rec_bench.methods import EXPONENTIAL, METHODS, check_family
from rec_bench.pairs import gaussian


def GAUSSIAN_OK(m):
    """Whether ``m`` codes Gaussian pairs (the pairs of this module: channels and fixed-KL targets)."""
    try:
        check_family(m, gaussian)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("method", [m.name for m in METHODS.values()
                                    if m.code is not None and GAUSSIAN_OK(m)])
def test_elias_gamma_vectors(method):
    q, p = rb.gaussian_channel(3.0, 40, seed=3)
    code = encode_vector(q, p, method, 9, code="elias-gamma")
    assert np.array_equal(code.code_bits, 2 * code.index_bits - 1)
    assert np.array_equal(decode_vector(code.bits, p, method, 9, shape=40, code="elias-gamma"), code.sample)
    assert code.bitstring == "".join(C.EliasGamma().encode(int(h)) for h in code.index)


def test_deep_indices_past_64_bits_in_a_vector():
    q = rb.Triangular(0.0, [2.0**-80, 2.0**-70, 2.0**-3], [2.0**-79, 2.0**-69, 2.0**-2])
    p = rb.Uniform(0.0, 1.0)
    code = encode_vector(q, p, "ad*", 4)
    assert code.index[0].bit_length() > 70 and code.index[1].bit_length() > 60
    assert np.array_equal(decode_vector(code.bits, p, "ad*", 4, shape=3), code.sample)


def test_coordinate_and_message_seeds_follow_their_documented_formula():
    mask, gamma = 2**64 - 1, 0x9E3779B97F4A7C15

    def mix(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    for seed in (0, 1, 2**64 - 1, 123456789):
        for i in (0, 1, 49, 10**6):
            assert coordinate_seed(seed, i) == mix((mix(seed ^ 0x9216D5D98979FB1B) + (i + 1) * gamma) & mask)
            assert message_seed(seed, i) == mix((mix(seed ^ 0xD1310BA698DFB5AC) + (i + 1) * gamma) & mask)


# ---- distribution and independence


KLS = np.linspace(0.5, 8.0, 50)  # a 50-dimensional target, a different KL per coordinate


def _target():
    q, p = rb.fixed_kl(KLS, KLS + 3.0)
    return rb.Normal(q.loc * np.where(np.arange(50) % 2, 1, -1), q.scale), p  # means on both sides


@pytest.mark.parametrize("method", [m.name for m in METHODS.values()
                                    if m.exact and m.runtime != EXPONENTIAL and GAUSSIAN_OK(m)])
def test_each_coordinate_is_distributed_as_its_target(method):
    q, p = _target()
    n = 1500
    x = np.stack([encode_vector(q, p, method, seed).sample for seed in range(n)])
    u = stats.norm.cdf(x, q.loc, q.scale)  # probability integral transform per coordinate
    pvalues = np.array([stats.kstest(u[:, i], "uniform").pvalue for i in range(50)])
    assert pvalues.min() > 1e-4  # Bonferroni: a family-wise level of 0.5%
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3  # pooled: 75,000 transforms


def test_coordinates_and_vectors_are_independent():
    """The same pair in every coordinate: shared randomness between coordinates (or between the
    vectors of a stream) would show as correlation."""
    q, p = rb.Normal(np.full(50, 0.4), 0.3), rb.Normal(0.0, 1.0)
    n = 2000
    enc = StreamEncoder("ad*", seed=77)
    x = np.stack([enc.encode(q, p).sample for _ in range(n)])
    z = stats.norm.ppf(stats.norm.cdf(x, 0.4, 0.3))
    r = np.corrcoef(z, rowvar=False)[np.triu_indices(50, 1)]
    assert np.abs(r).max() < 5 / math.sqrt(n)
    assert abs(np.mean(r)) < 3 / math.sqrt(n * 1225)  # no common drift either
    lag = np.corrcoef(z[:-1].ravel(), z[1:].ravel())[0, 1]  # consecutive vectors of the stream
    assert abs(lag) < 5 / math.sqrt(z.size)
    assert stats.kstest(stats.norm.cdf(z.ravel()), "uniform").pvalue > 1e-3


# ---- streams


@pytest.mark.parametrize("model", [False, True])
def test_a_stream_of_many_vectors_reads_back_in_order(model):
    rng = np.random.default_rng(5)
    index_model = IndexModel.for_kl(3.4, "ad*") if model else None
    enc = StreamEncoder("ad*", seed=2024, index_model=index_model)
    sent = []
    for j in range(300):
        d = int(rng.integers(1, 40))
        q, p = rb.gaussian_channel(float(rng.uniform(0.5, 8)), d, seed=j)
        seed = int(rng.integers(0, 2**63)) if j % 7 == 0 else None  # some vectors bring their own seed
        c = enc.encode(q, p, seed=seed)
        assert c.bits is None and np.all(np.isfinite(c.sample))
        sent.append((d, seed, c))
    data = enc.get_compressed()
    if not model:  # one padding for the whole stream
        assert 8 * len(data) - sum(c.nbits for _, _, c in sent) in range(8)
        assert enc.num_bits() == sum(c.nbits for _, _, c in sent)
    dec = StreamDecoder(data, "ad*", seed=2024, index_model=index_model)
    for d, seed, c in sent:
        assert not dec.maybe_exhausted()
        assert np.array_equal(dec.decode(rb.Normal(0.0, 1.0), shape=d, seed=seed), c.sample)
    assert dec.maybe_exhausted() and len(dec) == 300
    dec.finish()
    with pytest.raises(ValueError):  # there is no 301st vector
        dec.decode(rb.Normal(0.0, 1.0), shape=5)


@pytest.mark.parametrize("method, model", [(m.name, model) for m in METHODS.values() if GAUSSIAN_OK(m)
                                           for model in ((False, True) if m.model_index else (False,))])
def test_encode_many_is_encode_row_by_row(method, model):
    """One compiled call for many vectors writes the stream that one call per vector writes."""
    n, d = 60, 7
    q, p = rb.gaussian_channel(3.0, n * d, seed=8)
    q = rb.Normal(q.loc.reshape(n, d), q.scale)
    o = METHODS[method].option  # a sized method: a size per coordinate
    opts = {} if o is None else {o.name: np.minimum(o.high, o.default + np.arange(d) % 3)}
    index_model = IndexModel.for_kl(3.4, "as*") if model else None
    one = StreamEncoder(method, 4, index_model=index_model)
    many = StreamEncoder(method, 4, index_model=index_model)
    rows = [one.encode(rb.Normal(q.loc[j], q.scale), p, **opts) for j in range(n // 2)]
    rows.append(one.encode(rb.Normal(q.loc[n // 2], q.scale), p, seed=12345, **opts))
    rows += [one.encode(rb.Normal(q.loc[j], q.scale), p, seed=message_seed(4, j), **opts)
             for j in range(n // 2 + 1, n)]
    seeds = [message_seed(4, j) for j in range(n)]
    seeds[n // 2] = 12345
    first = many.encode_many(rb.Normal(q.loc[: n // 2], q.scale), p, **opts)
    rest = many.encode_many(rb.Normal(q.loc[n // 2 :], q.scale), p, seeds=seeds[n // 2 :], **opts)
    assert first.sample.shape == (n // 2, d) and list(first.seed) == seeds[: n // 2]
    assert np.array_equal(np.concatenate([first.sample, rest.sample]), np.stack([c.sample for c in rows]))
    assert list(np.concatenate([first.index, rest.index]).ravel()) == [h for c in rows for h in c.index]
    assert one.get_compressed() == many.get_compressed() and len(one) == len(many) == n
    dec = StreamDecoder(many.get_compressed(), method, 4, index_model=index_model)
    got = dec.decode_many(p, n // 2, shape=d, **opts)
    assert np.array_equal(got, first.sample)
    assert np.array_equal(dec.decode(p, shape=d, seed=seeds[n // 2], **opts), rows[n // 2].sample)
    assert np.array_equal(dec.decode_many(p, n // 2 - 1, shape=d, seeds=seeds[n // 2 + 1 :], **opts),
                          rest.sample[1:])
    dec.finish()


def test_a_file_of_10000_latents_has_one_padding():
    n, d = 10_000, 16
    rng = np.random.default_rng(3)
    sigma = 2.0 ** -rng.uniform(0.5, 4, (n, d))
    mu = rng.normal(0, np.sqrt(1 - sigma**2))
    p = rb.Normal(0.0, 1.0)
    enc = StreamEncoder("ad*", seed=10)
    codes = enc.encode_many(rb.Normal(mu, sigma), p)
    data = enc.get_compressed()
    assert len(data) == math.ceil(codes.code_bits.sum() / 8) and codes.nbits == codes.code_bits.sum()
    dec = StreamDecoder(data, "ad*", seed=10)
    assert np.array_equal(dec.decode_many(p, n, shape=d), codes.sample)
    dec.finish()


def test_default_seeds_of_a_stream_are_message_seeds():
    q, p = rb.gaussian_channel(2.0, 10, seed=1)
    enc = StreamEncoder("as*", seed=99)
    a, b = enc.encode(q, p), enc.encode(q, p)
    assert np.array_equal(a.sample, encode_vector(q, p, "as*", message_seed(99, 0)).sample)
    assert np.array_equal(b.sample, encode_vector(q, p, "as*", message_seed(99, 1)).sample)
    one = StreamEncoder("as*")
    one.encode(q, p, seed=5)
    assert one.get_compressed() == encode_vector(q, p, "as*", 5).bits


def test_streams_of_fixed_length_methods_with_per_vector_options():
    rng = np.random.default_rng(1)
    enc = StreamEncoder("dad*", seed=3, depth=8)
    sent = []
    for j in range(50):
        q, p = rb.gaussian_channel(2.0, 6, seed=j)
        depth = rng.integers(0, 12, 6) if j % 2 else None
        sent.append((depth, enc.encode(q, p, depth=depth)))
    dec = StreamDecoder(enc.get_compressed(), "dad*", seed=3, depth=8)
    for depth, c in sent:
        assert np.array_equal(dec.decode(rb.Normal(0.0, 1.0), shape=6, depth=depth), c.sample)
        assert np.all(c.code_bits == (8 if depth is None else depth) + 1)
    dec.finish()


# ---- the model-coded index


def test_an_index_model_of_subnormal_weights_is_refused_when_built_or_works():
    """constriction cannot normalise a subnormal total: refused where the model is built."""
    with pytest.raises(ValueError, match="must sum to a normal float64"):
        IndexModel([5e-324, 0.0])
    model = IndexModel([1e-300, 1e-300])  # tiny but normal: works
    q, p = rb.Normal([0.3], 0.5), rb.Normal(0.0, 1.0)
    code = encode_vector(q, p, "ad*", 0, index_model=model)
    assert np.array_equal(decode_vector(code, p), code.sample)


def test_escapes_happen_and_cost_bits_not_correctness():
    """A model of depths 0 to 3 used at KL 8 bits: most depths escape, every vector decodes."""
    low = IndexModel([8, 4, 2, 1, 1])
    right = IndexModel.for_kl(8.0, "ad*")
    enc_low, enc_right = StreamEncoder("ad*", 1, index_model=low), StreamEncoder("ad*", 1, index_model=right)
    sent = []
    for j in range(100):
        q, p = rb.gaussian_channel(8.0, 20, seed=j)
        a, b = enc_low.encode(q, p), enc_right.encode(q, p)
        assert np.array_equal(a.sample, b.sample)
        sent.append(a)
    escaped = np.mean([np.mean(c.index_bits - 1 >= low.size) for c in sent])
    assert escaped > 0.3
    low_bytes, right_bytes = enc_low.get_compressed(), enc_right.get_compressed()
    assert len(low_bytes) > len(right_bytes) * 1.05
    dec = StreamDecoder(low_bytes, "ad*", 1, index_model=low)
    for c in sent:
        assert np.array_equal(dec.decode(rb.Normal(0.0, 1.0), shape=20), c.sample)
    dec.finish()


def test_the_range_coder_costs_the_models_information_plus_a_flush():
    model = IndexModel.for_kl(3.4, "ad*")
    enc = StreamEncoder("ad*", 8, index_model=model)
    info = 0.0
    for j in range(400):
        q, p = rb.gaussian_channel(3.4, 50, seed=1000 + j)
        info += enc.encode(q, p).code_bits.sum()
    total = 8 * len(enc.get_compressed())
    assert info <= total <= info + 64 + 48  # the coder's final words and the header


def test_a_model_built_by_simulation_is_the_shipped_table():
    from rec_bench.coding.index_model import _simulate_for_kl

    shipped = IndexModel.for_kl(2.0, "as*")
    assert shipped.meta["n"] == 100_000
    assert _simulate_for_kl(2.0, "as*", 100_000, 0, None) == shipped


def test_a_model_for_a_kl_not_shipped_is_simulated():
    model = IndexModel.for_kl(2.5, "ad*", n=2000)
    assert model.meta["kl_bits"] == 2.5 and model.meta["n"] == 2000 and model.size >= 3


def test_index_models_survive_json_and_are_fitted_from_depths(tmp_path):
    shipped = IndexModel.for_kl(2.0, "as*")
    assert shipped.meta["n"] == 100_000
    assert IndexModel.from_json(shipped.to_json()) == shipped
    shipped.save(tmp_path / "m.json")
    again = IndexModel.load(tmp_path / "m.json")
    assert again == shipped and again.meta == shipped.meta
    fitted = IndexModel.fit(np.array([0, 2, 2, 5]))
    assert np.array_equal(fitted.weights, [1.5, 0.5, 2.5, 0.5, 0.5, 1.5, 0.5])
    own = IndexModel.from_pairs(*rb.gaussian_channel(2.0, 2000, seed=4), "ad*", seed=3)
    assert own.size >= 3 and abs(own.probabilities.sum() - 1) < 1e-12


# ---- corrupt, truncated and bad input


def test_truncated_and_extended_model_streams_raise():
    model = IndexModel.for_kl(3.4, "ad*")
    q, p = rb.gaussian_channel(3.4, 30, seed=2)
    data = encode_vector(q, p, "ad*", 1, index_model=model).bits
    for cut in range(len(data)):
        with pytest.raises(ValueError, match="truncated|corrupted"):
            decode_vector(data[:cut], p, "ad*", 1, shape=30, index_model=model)
    with pytest.raises(ValueError, match="corrupted"):
        decode_vector(data + b"\x00\x00\x00\x00", p, "ad*", 1, shape=30, index_model=model)
    enc = StreamEncoder("ad*", index_model=model)
    enc.encode(q, p)
    enc.encode(q, p)
    dec = StreamDecoder(enc.get_compressed(), "ad*", index_model=model)
    dec.decode(p, shape=30)
    with pytest.raises(ValueError, match="holds 2 vectors, 1 were read"):
        dec.finish()


@pytest.mark.parametrize("model", [False, True])
def test_bit_flips_in_a_stream_give_finite_vectors_or_value_error(model):
    rng = np.random.default_rng(0)
    index_model = IndexModel.for_kl(3.4, "as*") if model else None
    enc = StreamEncoder("as*", 5, index_model=index_model)
    for j in range(20):
        enc.encode(*rb.gaussian_channel(3.4, 10, seed=j))
    data = bytearray(enc.get_compressed())
    for _ in range(200):
        bad = bytearray(data)
        for pos in rng.integers(0, 8 * len(bad), rng.integers(1, 4)):
            bad[pos // 8] ^= 1 << (7 - pos % 8)
        try:
            dec = StreamDecoder(bytes(bad), "as*", 5, index_model=index_model)
            for _ in range(20):
                assert np.all(np.isfinite(dec.decode(rb.Normal(0.0, 1.0), shape=10)))
            dec.finish()
        except ValueError:
            pass


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda q, p: encode_vector(q, p, "dad*", depth=np.arange(3)),
         r"depth has shape \(3,\), which does not broadcast"),
        (lambda q, p: encode_vector(q, p, "dad*", depth=np.r_[4, 4, 4, 1024]),
         r"dad\* needs depth to be an integer in \[0, 1023\]"),
        (lambda q, p: encode_vector(q, p, "dad*", depth=[1.5, 2, 3, 4]),
         r"dad\* needs depth to be an integer"),
        (lambda q, p: encode_vector(q, p, "orc", bits=[True] * 4), "must be integers"),
        (lambda q, p: encode_vector(q, p, "ad*", depth=3), r"ad\* takes no depth= option"),
        (lambda q, p: encode_vector(q, p, "orc", bits=4, index_model=IndexModel([1, 1])),
         "fixed-length candidate"),
        (lambda q, p: encode_vector(q, p, "ad*", index_model=[0.5, 0.5]), "must be an IndexModel"),
        (lambda q, p: decode_vector(b"\x80", p, "ad*", 0), r"pass shape=\(d,\)"),
        (lambda q, p: decode_vector(b"\x80", rb.Normal([0.0, 1.0], 1.0), "ad*", 0, shape=4),
         "do not broadcast"),
        (lambda q, p: decode_vector(b"\x80", rb.Triangular(), "ad*", 0, shape=4), "unsupported proposal"),
        (lambda q, p: decode_vector("0101", p, "ad*", 0, shape=4), "a code is bytes"),
        (lambda q, p: decode_vector(b"\x80", p, "ad*", shape=4), "needs the method and the seed"),
        (lambda q, p: IndexModel([0.0, -1.0]), "non-negative weights"),
        (lambda q, p: IndexModel.from_json('{"format": "x"}'), "not an index model"),
        (lambda q, p: StreamEncoder("ad*", code="huffman"), "unknown code"),
        (lambda q, p: StreamEncoder("ad*").encode_many(rb.Normal(0.1, 0.2), p), "leading axis"),
        (lambda q, p: StreamEncoder("ad*").encode_many(q, p, seeds=[1, 2]), r"one per vector, shape \(4,\)"),
        (lambda q, p: StreamEncoder("ad*").encode_many(q, p, seeds=[1, 2, 3, -4]), r"seed must be in"),
        (lambda q, p: StreamDecoder(b"", "ad*").decode_many(p, -1, shape=3), "non-negative integer"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    q, p = rb.Normal([0.1, 2.0, 3.0, -3.0], 0.2), rb.Normal(0.0, 1.0)
    with pytest.raises((ValueError, TypeError), match=message):
        call(q, p)


def test_budget_exceeded_names_the_coordinate():
    q, p = rb.Normal([0.1, 0.2, 4.0], [0.5, 0.5, 0.01]), rb.Normal(0.0, 1.0)
    with pytest.raises(rb.BudgetExceeded, match=r"did not finish coordinate 2 within max_steps=50"):
        encode_vector(q, p, "pfr", 0, max_steps=50)
    with pytest.raises(rb.BudgetExceeded, match=r"did not finish vector 1, coordinate 2 within max_steps=50"):
        StreamEncoder("pfr", max_steps=50).encode_many(rb.Normal([[0.1, 0.2, 0.3], [0.1, 0.2, 4.0]], 0.5), p)


def test_vector_code_fields():
    q, p = rb.gaussian_channel(3.0, 8, seed=0)
    code = encode_vector(q, p, "ad*", 3)
    assert isinstance(code, VectorCode) and len(code) == 8 and code.shape == (8,)
    assert code.index.dtype == object
    assert all(int(h).bit_length() == b for h, b in zip(code.index, code.index_bits))
    assert np.allclose(code.ideal_bits, [math.log2(h) for h in code.index])
    assert code.steps.dtype == np.int64 and np.all(code.steps >= 1)


def test_rb_encode_and_decode_route_vectors_to_the_stream_codec():
    q, p = rb.Normal([0.1, 2.0, 3.0, -3.0], 0.2), rb.Normal(0.0, 1.0)
    code = rb.encode(q, p, "dad*", 3, depth=[2, 3, 4, 5])
    assert isinstance(code, rb.VectorCode) and code.sample.shape == (4,)
    assert code.nbits == 3 + 4 + 5 + 6  # D + 1 bits per coordinate, padded once
    got = rb.decode(code.bits, p, "dad*", 3, depth=[2, 3, 4, 5], shape=4)
    assert np.array_equal(got, code.sample)
    assert np.array_equal(rb.decode(code.bits, rb.Normal(np.zeros(4), 1.0), "dad*", 3, depth=[2, 3, 4, 5]),
                          code.sample)
    assert np.array_equal(rb.decode(code, p), code.sample)
