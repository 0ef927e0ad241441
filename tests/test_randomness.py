"""Shared randomness: counter-based, keyed by (seed, node identity, stream), with node identities
that stay distinct past depth 62."""

import numpy as np
from numba import njit
from scipy import stats

import rec_bench as rb
from rec_bench import randomness as rnd
from rec_bench.search import tree
from rec_bench.status import OK


@njit
def _uniforms_along(seed, bits, stream):
    k = rnd.root_key(seed)
    out = np.empty(bits.shape[0])
    for i in range(bits.shape[0]):
        k = rnd.child_key(k, bits[i])
        out[i] = rnd.uniform(k, stream)
    return out


@njit
def _keys_of_paths(seed, paths):
    out = np.empty(paths.shape[0], np.uint64)
    for j in range(paths.shape[0]):
        k = rnd.root_key(seed)
        for i in range(paths.shape[1]):
            k = rnd.child_key(k, paths[j, i])
        out[j] = k
    return out


def test_uniforms_are_uniform_and_open():
    rng = np.random.default_rng(0)
    u = _uniforms_along(np.uint64(7), rng.integers(0, 2, 200_000).astype(np.uint8), 0)
    assert 0 < u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive values along a path are uncorrelated
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_paths_that_differ_only_above_depth_62_have_distinct_keys():
    """Heap indices 2^70 + k never wrap onto each other: every path bit reaches the key."""
    depth = 130
    paths = np.zeros((depth + 1, depth), np.uint8)
    for j in range(depth):
        paths[j + 1, j] = 1  # path j+1 differs from path 0 in bit j only
    keys = _keys_of_paths(np.uint64(3), paths)
    assert len(set(keys.tolist())) == depth + 1


def test_streams_and_seeds_are_independent():
    bits = np.zeros(50_000, np.uint8)
    a = _uniforms_along(np.uint64(1), bits, 0)
    b = _uniforms_along(np.uint64(1), bits, 1)
    c = _uniforms_along(np.uint64(2), bits, 0)
    for x, y in [(a, b), (a, c)]:
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.02
        assert not np.any(x == y)


def test_decoder_walks_paths_deeper_than_64_bits():
    q, p = rb.Triangular(0.0, 0.0, 2.0**-100), rb.Uniform(0.0, 1.0)
    code = rb.encode(q, p, "ad*", 11)
    assert code.index.bit_length() > 100
    # the region named by the path is the dyadic interval [k 2^-d, (k + 1) 2^-d]
    d = code.index.bit_length() - 1
    k = code.index - 2**d
    assert k * 2.0**-d <= code.sample <= (k + 1) * 2.0**-d
    status, z = tree.decode_walk(2, np.uint64(11), tree.SPLIT_AT_MEDIAN,
                                 np.frombuffer(format(code.index, "b")[1:].encode(), np.uint8) - 48)
    assert status == OK and z == code.sample


def test_results_do_not_depend_on_batch_order():
    q, p = rb.Normal(0.3, 0.4), rb.Normal(0.0, 1.0)
    seeds = np.arange(500)
    a = rb.simulate("as*", q, p, seeds)
    b = rb.simulate("as*", q, p, seeds[::-1])
    np.testing.assert_array_equal(a["sample"].to_numpy(), b["sample"].to_numpy()[::-1])
