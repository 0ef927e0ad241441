"""VAE models: the pixel likelihood against scipy, determinism of the receiver's tables, the weights
file, and training (a few steps on real digits lower the loss)."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from rec_bench import data as D
from rec_bench.vae import model as M

X = D.read_idx(Path(__file__).parent / "data" / "t10k-images-first100-idx3-ubyte")


def _random_model(kind, seed=0, hidden=32):
    cfg = M.default_config(kind, latent=5, hidden=hidden)
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0, 0.3, s) for k, s in M.param_shapes(cfg).items()}
    return M.Model(cfg, params)


def test_beta_binomial_table_matches_scipy():
    from rec_bench.vae import _kernels as K

    a = np.array([1e-4, 0.03, 0.5, 1.0, 3.7, 80.0, 2000.0, 0.2, 1e-4])
    b = np.array([1e-4, 5.0, 0.5, 1.0, 0.9, 0.01, 3000.0, 400.0, 900.0])
    out = K.beta_binomial_table(a, b, np.empty((len(a), 256)))
    ref = stats.betabinom.pmf(np.arange(256)[None, :], 255, a[:, None], b[:, None])
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-300)


def test_pixel_tables_are_deterministic_and_batch_independent():
    m = _random_model("vae")
    z = np.random.default_rng(1).normal(size=(7, 5))
    full = m.pixel_probabilities(z)
    parts = np.concatenate([m.pixel_probabilities(z[:3]), m.pixel_probabilities(z[3:])])
    assert full.tobytes() == parts.tobytes()
    one_by_one = m.pixel_probabilities(z).tobytes()
    assert hashlib.sha256(full.tobytes()).digest() == hashlib.sha256(one_by_one).digest()
    # the fixed-order decoder equals the BLAS product up to rounding
    p = m.params
    h = np.maximum(z @ p["dec_w0"] + p["dec_b0"], 0)
    h = np.maximum(h @ p["dec_w1"] + p["dec_b1"], 0)
    o = h @ p["dec_w2"] + p["dec_b2"]
    a, b = m.decoder_params(z)
    np.testing.assert_allclose(a, M.ALPHA_FLOOR + np.logaddexp(0, o[:, :784]), rtol=1e-12)
    np.testing.assert_allclose(b, M.ALPHA_FLOOR + np.logaddexp(0, o[:, 784:]), rtol=1e-12)


def test_nll_is_minus_log2_of_the_table():
    m = _random_model("isokl")
    z = np.random.default_rng(2).normal(size=(3, 5))
    t = m.pixel_probabilities(z)
    x = X[:3].reshape(3, -1)
    direct = -np.log2(np.take_along_axis(t, x[:, :, None].astype(np.int64), axis=2)[..., 0]).sum(axis=1)
    np.testing.assert_allclose(m.nll_bits(X[:3], z), direct, rtol=1e-9)


def test_save_load_round_trip(tmp_path):
    m = _random_model("isokl")
    params32 = {k: v.astype(np.float32).astype(np.float64) for k, v in m.params.items()}
    saved = M.save_model(tmp_path / "m.npz", m.config, params32, {"note": "test"})
    back = M.load_model(tmp_path / "m.npz")
    assert back.hash == saved.hash == M.Model(m.config, params32).hash
    assert back.provenance["model_hash"] == back.hash and back.kappa == pytest.approx(m.kappa)
    with pytest.raises(ValueError, match="shape"):
        M.Model(m.config, {**params32, "dec_b2": np.zeros(3)})
    with pytest.raises(FileNotFoundError, match="make train-vae"):
        M.load_model(tmp_path / "none.npz")


@pytest.mark.parametrize("kind", ["vae", "isokl"])
def test_a_few_training_steps_lower_the_loss(kind):
    pytest.importorskip("jax")
    import jax
    import optax

    from rec_bench.vae import train as T

    cfg = M.default_config(kind, latent=8, hidden=64)
    if kind == "isokl":
        cfg["kappa_init"] = 2.0
    params = T.init_params(cfg, jax.random.PRNGKey(0))
    xb = jax.numpy.asarray(X.reshape(100, -1))
    key = jax.random.PRNGKey(1)
    opt = optax.adam(3e-3)
    state = opt.init(params)
    grad = jax.jit(jax.value_and_grad(T.loss_fn), static_argnums=1)
    cfg_static = _Frozen(cfg)
    before = np.mean([float(T.loss_fn(params, cfg_static, xb, jax.random.fold_in(key, i))) for i in range(4)])
    for step in range(30):
        _, g = grad(params, cfg_static, xb, jax.random.fold_in(key, 100 + step))
        upd, state = opt.update(g, state, params)
        params = optax.apply_updates(params, upd)
    after = np.mean([float(T.loss_fn(params, cfg_static, xb, jax.random.fold_in(key, i))) for i in range(4)])
    assert after < before - 50, (before, after)  # bits per image
    # the trained parameters run in the numpy model, with the same rate up to Monte Carlo noise
    m = M.Model(cfg, {k: np.asarray(v, np.float64) for k, v in params.items()})
    assert m.elbo(X, samples=4)["nelbo_bits"].mean() == pytest.approx(after, rel=0.02)


class _Frozen(dict):
    """A hashable config (jit's static argument)."""

    def __hash__(self):
        return hash(tuple(sorted((k, v) for k, v in self.items())))


def test_dense_kernel_is_the_plain_ordered_sum():
    """The receiver's dense layer equals, bit for bit, acc += x[i] * W[i] in order with separate
    IEEE multiply and add (numpy elementwise): no reassociation and no fused multiply-add, which
    other machines or BLAS libraries would round differently."""
    from rec_bench.vae import _kernels as K

    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 37)) * (rng.random((3, 37)) < 0.7)
    w = rng.normal(size=(37, 29))
    b = rng.normal(size=29)
    out = K.dense(x, w, b, False)
    for r in range(3):
        acc = b.copy()
        for i in range(37):
            if x[r, i] != 0.0:
                acc = acc + x[r, i] * w[i]
        assert out[r].tobytes() == acc.tobytes()
    assert np.array_equal(K.dense(x, w, b, True), np.maximum(out, 0.0))
