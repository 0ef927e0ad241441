"""Blocks: b coordinates coded as one message (rec_bench.coding.blocks, rec_bench.search.blocks).

Exactness of block PFR and RS (Kolmogorov-Smirnov per coordinate and on the Gaussianised sum of
the block, at fixed seeds, threshold 1e-3 as in tests/test_exactness.py, with the same checks
rejecting a sampler shifted by 5% of each coordinate's scale), the ziggurat's draws, round trips
of every block method (one block, vectors with a shorter last block, streams, every sink), block=1
being today's code bit for bit, ORC's and MRC's bias falling with K, and bad input.
"""

import numpy as np
import pytest
from scipy import stats

import rec_bench as rb
from rec_bench.bias import bias_of_block_samples, block_bias
from rec_bench.coding.blocks import BLOCK_METHODS, decode_blocks, encode_blocks
from rec_bench.coding.sinks import AnsSink, AnsSource, BitSink, BitSource, RangeSink, RangeSource
from rec_bench.pairs import FAMILIES
from rec_bench.search import blocks as kernels

N = 20_000
ALPHA = 1e-3
STD = rb.Normal(0.0, 1.0)

# block targets of 3 (2) coordinates with D_inf of a few bits in all
NORMAL = (rb.Normal([0.3, -0.5, 1.0], [0.5, 0.4, 0.6]), STD)
LAPLACE = (rb.Laplace([0.5, -0.8, 0.0], [0.6, 0.5, 0.3]), rb.Laplace(0.0, 1.0))
TRIANGLE = (rb.Triangular([0.0, 0.2], [0.3, 0.5], [0.6, 0.9]), rb.Uniform(0.0, 1.0))
OPTIONS = {"pfr": {}, "rs": {}, "orc": {"bits": 6}, "mrc": {"bits": 5}}


def tiled(dist, n):
    return type(dist)(*(np.ascontiguousarray(np.broadcast_to(a, (n, *dist.shape))) for a in dist.params()))


def block_samples(method, q, p, n, seed=0, **opts):
    """n block messages of q (one block of all its coordinates), seeds seed .. seed + n - 1."""
    b = q.shape[0]
    df = rb.simulate(method, tiled(q, n), p if p.shape == () else tiled(p, n), np.arange(seed, seed + n),
                     block=b, **opts)
    assert not df.censored.any()
    return np.array(df["samples"].tolist())


# ---- the draws ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, dist", [(kernels.NORMAL_P, stats.norm), (kernels.LAPLACE_P, stats.laplace),
                                        (kernels.UNIFORM_P, stats.uniform)])
def test_a_candidates_coordinates_are_draws_of_the_standard_proposal(kind, dist):
    """200,000 coordinates of one candidate: i.i.d. draws of P (the ziggurat's tail included)."""
    n = 200_000
    z = np.empty(n)
    kernels.candidate_into(kind, np.uint64(5), 1, kernels.salts(n), n, z, 0)
    assert stats.kstest(z, dist.cdf).pvalue > ALPHA
    if kind == kernels.NORMAL_P:  # the tail beyond r (1 draw in 3,900) and its far part
        for t in (kernels.ZR, 4.5):
            expect = n * 2 * stats.norm.sf(t)
            assert abs(np.sum(np.abs(z) > t) - expect) < 5 * np.sqrt(expect)


def test_the_ziggurat_layers_close():
    assert kernels.ZX[-1] == 0.0 and np.all(np.diff(kernels.ZX) < 0)
    areas = kernels.ZX[1:-1] * (kernels.ZF[2:] - kernels.ZF[1:-1])
    assert np.allclose(areas, areas[0], rtol=1e-12, atol=0)


# ---- exactness --------------------------------------------------------------------------------------

@pytest.mark.parametrize("pair", [NORMAL, LAPLACE, TRIANGLE], ids=["normal", "laplace", "triangle"])
@pytest.mark.parametrize("method", ["pfr", "rs"])
def test_block_pfr_and_rs_sample_q_per_coordinate_and_jointly(method, pair):
    q, p = pair
    r = bias_of_block_samples(block_samples(method, q, p, N), q)
    assert all(c.ks_pvalue > ALPHA for c in r.coordinates), [c.ks_pvalue for c in r.coordinates]
    assert r.joint.ks_pvalue > ALPHA


@pytest.mark.parametrize("method", ["pfr", "rs"])
def test_the_same_checks_reject_a_slightly_wrong_sampler(method):
    """Blocks of a Q shifted by 5% of each coordinate's scale fail the tests against the true Q."""
    q, p = NORMAL
    shifted = rb.Normal(q.loc + 0.05 * q.scale, q.scale)
    r = bias_of_block_samples(block_samples(method, shifted, p, N), q)
    assert r.joint.ks_pvalue < 1e-6
    assert sum(c.ks_pvalue < ALPHA for c in r.coordinates) >= 2
    assert r.detected


def test_orc_with_more_candidates_than_pfr_needs_is_pfr():
    q, p = NORMAL
    a = block_samples("orc", q, p, 2000, bits=12)
    assert np.array_equal(a, block_samples("pfr", q, p, 2000))


@pytest.mark.parametrize("method, ks", [("orc", (2, 4, 9)), ("mrc", (2, 5, 9))])
def test_orc_and_mrc_bias_falls_with_k(method, ks):
    q, p = NORMAL
    rs = [block_bias(method, q, p, n=N, bits=k) for k in ks]
    joint = [r.joint.ks for r in rs]
    assert joint[0] > joint[1] > joint[2], joint
    assert rs[0].detected and not rs[-1].detected


# ---- round trips ----------------------------------------------------------------------------------

def _families():
    out = []
    for f in FAMILIES:
        q, p = f.example()
        rb.kl(q, p)
        out.append(pytest.param(q, p, id=f"{f.TARGET.__name__}/{f.PROPOSAL.__name__}"))
    return out


@pytest.mark.parametrize("q, p", _families())
@pytest.mark.parametrize("method", BLOCK_METHODS)
def test_every_block_method_round_trips_on_every_family(method, q, p):
    """A vector of 7 coordinates (blocks 3, 3, 1) near the family's example; a Custom target, whose
    parameters are scalars, is one coordinate: one block of one."""
    if type(q)._fields:
        rng = np.random.default_rng(1)
        scale = np.exp(rng.uniform(-0.3, 0.3, 7))
        q = type(q)(*(np.asarray(a) * scale if k else np.asarray(a) + 0.1 * rng.standard_normal(7)
                      for k, a in enumerate(q.params())))
        p = type(p)(*(np.broadcast_to(a, (7,)) for a in p.params()))
        shape = (7,)
    else:
        shape = ()
    c = rb.encode(q, p, method, 11, block=3, **OPTIONS[method])
    assert c.block == 3 and c.steps.shape == ((3,) if shape else (1,))
    assert np.array_equal(rb.decode(c, p), c.sample)
    x = rb.decode(c.bits, p, method, 11, block=3, shape=shape, **OPTIONS[method])
    assert np.array_equal(x, c.sample) and x.shape == shape
    assert c.nbits == int(c.code_bits.sum())


@pytest.mark.parametrize("method", BLOCK_METHODS)
def test_one_block_is_one_message(method):
    q, p = NORMAL
    c = rb.encode(q, p, method, 4, block=3, **OPTIONS[method])
    assert c.index.shape == (1,)
    if method in ("orc", "mrc"):
        assert c.nbits == OPTIONS[method]["bits"]
    else:  # Elias delta of the index
        assert c.bitstring[: c.nbits] == _elias_delta(int(c.index[0]))
    z = np.empty(3)
    seed = rb.coordinate_seed(4, 0)  # block k of a vector with seed s: coordinate_seed(s, k)
    kernels.candidate_into(kernels.NORMAL_P, np.uint64(seed), int(c.index[0]), kernels.salts(3), 3, z, 0)
    assert np.array_equal(z, c.sample)  # the decoder draws only the chosen candidate
    assert np.array_equal(rb.decode(c.bits, p, method, 4, block=3, shape=(3,), **OPTIONS[method]), c.sample)


def _elias_delta(n):
    length = n.bit_length()
    lb = length.bit_length()
    return "0" * (lb - 1) + format(length, "b") + format(n, "b")[1:]


@pytest.mark.parametrize("method", BLOCK_METHODS)
def test_streams_of_blocks_round_trip(method):
    rng = np.random.default_rng(2)
    mu, s = 0.6 * rng.standard_normal((30, 10)), np.full((30, 10), 0.55)
    opts = OPTIONS[method]
    enc = rb.StreamEncoder(method, 5, block=4, **opts)
    first = enc.encode(rb.Normal(mu[0], s[0]), STD)
    rest = enc.encode_many(rb.Normal(mu[1:], s[1:]), STD)
    assert first.steps.shape == (3,) and rest.steps.shape == (29, 3)
    data = enc.get_compressed()
    assert len(data) == (enc.num_bits() + 7) // 8
    dec = rb.StreamDecoder(data, method, 5, block=4, **opts)
    assert np.array_equal(dec.decode(STD, shape=(10,)), first.sample)
    assert np.array_equal(dec.decode_many(STD, 29, shape=(10,)), rest.sample)
    dec.finish()


@pytest.mark.parametrize("sink, source", [(BitSink, BitSource), (RangeSink, None), (AnsSink, None)],
                         ids=["bits", "range", "ans"])
@pytest.mark.parametrize("method", BLOCK_METHODS)
def test_encode_blocks_round_trips_through_every_sink(method, sink, source):
    rng = np.random.default_rng(3)
    n, d = 40, 20
    mu = 0.8 * rng.standard_normal((n, d))
    q = rb.Normal(mu, np.full((n, d), 0.7))
    seeds = np.arange(100, 100 + n, dtype=np.uint64)
    opts = {"bits": 7} if method in ("orc", "mrc") else {}
    out = sink()
    c = encode_blocks(out, q, STD, method, seeds, block=4, **opts)
    if sink is BitSink:
        src = BitSource(out.data())
    elif sink is RangeSink:
        src = RangeSource(out.words())
    else:
        src = AnsSource(out.words())
    z = decode_blocks(src, STD, n, method, seeds, shape=(d,), block=4, **opts)
    assert np.array_equal(z, c.sample) and z.shape == (n, d)
    if sink is BitSink:
        assert out.pos == c.nbits


def test_results_do_not_depend_on_the_threads():
    q = rb.Normal(0.5 * np.ones((64, 12)), np.full((64, 12), 0.5))
    seeds = np.arange(64, dtype=np.uint64)
    a = encode_blocks(BitSink(), q, STD, "orc", seeds, block=4, bits=9, threads=1)
    b = encode_blocks(BitSink(), q, STD, "orc", seeds, block=4, bits=9)
    assert np.array_equal(a.index, b.index) and np.array_equal(a.sample, b.sample)


def test_k_may_differ_per_block():
    q, p = rb.Normal(np.linspace(-1, 1, 7), np.full(7, 0.6)), STD
    c = rb.encode(q, p, "orc", 3, block=3, bits=[4, 6, 2])
    assert list(c.code_bits) == [4, 6, 2] and c.nbits == 12
    assert np.array_equal(rb.decode(c.bits, p, "orc", 3, block=3, bits=[4, 6, 2], shape=(7,)), c.sample)


# ---- block = 1 is today's code -----------------------------------------------------------------------

@pytest.mark.parametrize("method, opts", [("ad*", {}), ("pfr", {}), ("rs", {}), ("orc", {"bits": 5}),
                                          ("mrc", {"bits": 4}), ("dad*", {"depth": 3})])
def test_block_one_is_the_per_coordinate_code_bit_for_bit(method, opts):
    q, p = rb.gaussian_channel(3.0, 12, seed=4)
    a = rb.encode_vector(q, p, method, 8, **opts)
    b = rb.encode_vector(q, p, method, 8, block=1, **opts)
    assert a.bits == b.bits and np.array_equal(a.sample, b.sample) and b.block is None
    enc, enc1 = rb.StreamEncoder(method, 2, **opts), rb.StreamEncoder(method, 2, block=1, **opts)
    for e in (enc, enc1):
        e.encode(q, p)
    assert enc.get_compressed() == enc1.get_compressed()
    s0 = rb.encode(rb.Normal(0.3, 0.5), STD, method, 6, **opts)
    assert rb.encode(rb.Normal(0.3, 0.5), STD, method, 6, block=1, **opts) == s0
    df0 = rb.simulate(method, rb.Normal(0.3, 0.5), STD, np.arange(20), **opts)
    assert df0.equals(rb.simulate(method, rb.Normal(0.3, 0.5), STD, np.arange(20), block=1, **opts))


# ---- simulate and bad input ------------------------------------------------------------------------

def test_simulate_gives_a_row_per_block_with_its_kl_and_dinf():
    q = rb.Normal(np.tile(np.linspace(-1, 1, 5), (3, 1)), np.full((3, 5), 0.5))
    df = rb.simulate("orc", q, STD, [7, 8, 9], block=2, bits=6)
    assert len(df) == 9 and list(df["size"]) == [2, 2, 1] * 3
    kl = rb.kl(q, STD)[0]
    assert np.allclose(df["kl"][:3], [kl[0] + kl[1], kl[2] + kl[3], kl[4]])
    assert np.allclose(df["dinf"][:3], np.add.reduceat(rb.dinf(q, STD)[0], [0, 2, 4]))
    assert list(df["seed"][:3]) == [rb.coordinate_seed(7, k) for k in range(3)]
    assert (df["nbits"] == 6).all()
    c = rb.encode(rb.Normal(q.loc[1], q.scale[1]), STD, "orc", 8, block=2, bits=6)
    assert np.array_equal(np.concatenate(df["samples"][3:6].tolist()), c.sample)


def test_bad_block_options_are_refused():
    q, p = NORMAL
    for bad in (0, -2, 2.5, True, "3"):
        with pytest.raises(ValueError, match="block must be a positive integer"):
            rb.encode(q, p, "orc", 0, bits=4, block=bad)
    with pytest.raises(ValueError, match="only the density ratio"):
        rb.encode(q, p, "ad*", 0, block=2)
    with pytest.raises(ValueError, match="takes no depth"):
        rb.encode(q, p, "pfr", 0, block=2, depth=3)
    with pytest.raises(ValueError, match="needs bits"):
        rb.encode(q, p, "orc", 0, block=2)
    with pytest.raises(ValueError, match="one per block"):
        rb.encode(q, p, "orc", 0, block=2, bits=[3, 4, 5])
    with pytest.raises(ValueError, match="index model"):
        rb.StreamEncoder("pfr", 0, block=2, index_model=rb.IndexModel([1.0, 2.0, 1.0]))
    with pytest.raises(rb.BudgetExceeded, match="block 0"):
        rb.encode(rb.Normal([2.0, 2.0], [0.1, 0.1]), STD, "pfr", 0, block=2, max_steps=50)
    with pytest.raises(ValueError, match="max_steps"):
        rb.encode(q, p, "orc", 0, block=2, bits=20, max_steps=2**10)


def test_corrupt_block_codes_are_errors():
    q, p = NORMAL
    c = rb.encode(q, p, "pfr", 1, block=3)
    with pytest.raises(ValueError, match="truncated|corrupted"):
        rb.decode(c.bits[:0], p, "pfr", 1, block=3, shape=(3,))
    with pytest.raises(ValueError, match="follow the last code|corrupted"):
        rb.decode(c.bits + b"\xff", p, "pfr", 1, block=3, shape=(3,))
    o = rb.encode(q, p, "orc", 1, block=2, bits=9)
    with pytest.raises(ValueError, match="truncated"):
        rb.decode(o.bits[:1], p, "orc", 1, block=2, bits=9, shape=(3,))


def test_the_encoders_exponential_draws_are_exact():
    """Exp(1) by the exponential ziggurat (arrival times, Gumbels, RS's acceptance), tail included."""
    from numba import njit

    from rec_bench import randomness as rnd

    @njit
    def draws(n):
        out = np.empty(n)
        for i in range(n):
            out[i] = kernels.std_exponential(rnd.mix(np.uint64(i) * np.uint64(0x9E3779B97F4A7C15)))
        return out

    e = draws(200_000)
    assert stats.kstest(e, stats.expon.cdf).pvalue > ALPHA
    expect = 200_000 * np.exp(-kernels.ER)
    assert abs(np.sum(e > kernels.ER) - expect) < 5 * np.sqrt(expect) + 1


# ---- studies -----------------------------------------------------------------------------------------

SPEC = """
name: blocks_small
seed: 5
output: {out}
repetitions: 40
pairs:
  - {{construction: fixed_kl, kl: 2, dinf: 3}}
methods:
  - ad*
  - {{name: orc, block: [1, 3], extra_bits: [0, 2]}}
  - {{name: pfr, block: 2}}
plots:
  - {{kind: blocks}}
"""


def test_a_study_with_blocks_runs_and_draws(tmp_path):
    from rec_bench.plots import load_all
    from rec_bench.results import read_results
    from rec_bench.study import run_study
    from rec_bench.study.cells import expand
    from rec_bench.study.schema import load_spec

    f = tmp_path / "b.yaml"
    f.write_text(SPEC.format(out=tmp_path / "b.parquet"))
    out = run_study(f, jobs=1, progress=False, log=lambda *a, **k: None)
    df, _ = read_results(out)
    cells = df.groupby(["method", "block_size", "bits"], dropna=False)
    assert len(cells) == 1 + 4 + 1 and (cells.size() == 40).all()
    orc3 = df[(df["method"] == "orc") & (df["block_size"] == 3)]
    assert set(orc3["bits"]) == {6, 8} and np.allclose(orc3["kl"], 6.0) and np.allclose(orc3["dinf"], 9.0)
    assert orc3["block_joint"].notna().all() and df[df["block_size"] == 1]["block_joint"].isna().all()
    assert (orc3["nbits"] == orc3["bits"]).all()
    fig = load_all()["blocks"](df)
    assert len(fig.axes) == 3
    # the cells of a method without block: keep the identity they have in a spec without blocks
    spec, _, _ = load_spec(f)
    plain = dict(spec, methods=["ad*", {"name": "orc", "extra_bits": [0, 2]}])
    ids = {c.id for c in expand(plain)}
    assert ids <= {c.id for c in expand(spec)}


def test_a_spec_refuses_blocks_for_a_per_coordinate_method(tmp_path):
    from rec_bench.study import SpecError, check_spec

    f = tmp_path / "x.yaml"
    f.write_text("name: x\nseed: 1\noutput: x.parquet\npairs: {construction: fixed_kl, kl: 2, dinf: 3}\n"
                 "methods: [{name: ad*, block: 2}]\n")
    with pytest.raises(SpecError, match=r"methods\[0\]\.block"):
        check_spec(f)
