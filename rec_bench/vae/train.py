"""Train the VAE and the IsoKL VAE on MNIST with JAX and optax (CPU, deterministic from a seed).

    python -m rec_bench.vae.train --kind vae --epochs 60 --seed 0 --out rec_bench/vae/weights/vae.npz

The loss is the -ELBO in bits per image with one reparameterised sample per image (KL in closed
form), minimised by Adam with a cosine-decayed learning rate over a fixed number of epochs. XLA runs
on one thread (set before JAX is imported), so a run is deterministic for a given seed, JAX version
and machine. The test -ELBO in the provenance is computed afterwards by the numpy model
(``rec_bench.vae.model``), the one the codec uses.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from . import model as M  # noqa: E402
from .jax_model import LN2, encoder_output, nelbo_nats  # noqa: E402


def init_params(config, key):
    """He-normal weights, zero biases; the IsoKL kappa starts at ``config['kappa_init']`` nats."""
    params = {}
    for name, shape in M.param_shapes(config).items():
        key, sub = jax.random.split(key)
        if name.startswith(("enc_w", "dec_w")):
            params[name] = jax.random.normal(sub, shape, jnp.float32) * math.sqrt(2.0 / shape[0])
        elif name == "kappa_raw":
            k0 = config.get("kappa_init", 2.0)
            params[name] = jnp.float32(k0 + math.log(-math.expm1(-k0)))  # softplus^-1(k0)
        else:
            params[name] = jnp.zeros(shape, jnp.float32)
    return params


def loss_fn(params, config, xb, key):
    """Mean -ELBO in bits per image of a uint8 batch (batch, 784), one sample of z per image."""
    k = xb.astype(jnp.float32)
    return jnp.mean(nelbo_nats(params, config, encoder_output(params, k / 255.0), k, key)) / LN2


def make_epoch(config, optimizer, batch):
    """A jitted function running one epoch (a scan over shuffled batches)."""
    grad = jax.value_and_grad(loss_fn)

    def step(carry, inputs):
        params, opt_state = carry
        xb, key = inputs
        loss, g = grad(params, config, xb, key)
        updates, opt_state = optimizer.update(g, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    @jax.jit
    def epoch(params, opt_state, data, key):
        kperm, knoise = jax.random.split(key)
        nb = data.shape[0] // batch
        idx = jax.random.permutation(kperm, data.shape[0])[: nb * batch].reshape(nb, batch)
        keys = jax.random.split(knoise, nb)
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (data[idx], keys))
        return params, opt_state, losses

    return epoch


def train(config, images, *, epochs, seed=0, batch=128, lr=1e-3, lr_final=1e-4, log=None, eval_fn=None):
    """Train from ``seed``; returns (params as numpy float32 dict, per-epoch history)."""
    data = jnp.asarray(np.asarray(images, dtype=np.uint8).reshape(len(images), -1))
    steps = epochs * (len(images) // batch)
    schedule = optax.cosine_decay_schedule(lr, max(steps, 1), alpha=lr_final / lr)
    optimizer = optax.adam(schedule)
    key = jax.random.PRNGKey(seed)
    key, kinit = jax.random.split(key)
    params = init_params(config, kinit)
    opt_state = optimizer.init(params)
    epoch_fn = make_epoch(config, optimizer, batch)
    history = []
    for e in range(epochs):
        t0 = time.perf_counter()
        params, opt_state, losses = epoch_fn(params, opt_state, data, jax.random.fold_in(key, e))
        loss = float(jnp.mean(losses))
        rec = {"epoch": e + 1, "train_loss_bits": loss, "seconds": time.perf_counter() - t0}
        if config["kind"] == "isokl":
            rec["kappa_bits"] = float(jax.nn.softplus(params["kappa_raw"])) / LN2
        if not math.isfinite(loss):
            raise FloatingPointError(f"training diverged at epoch {e + 1}")
        if eval_fn is not None and ((e + 1) % 10 == 0 or e + 1 == epochs):
            rec.update(eval_fn({k: np.asarray(v) for k, v in params.items()}))
        history.append(rec)
        if log:
            log(json.dumps(rec))
    return {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}, history


def git_commit():
    try:
        root = Path(__file__).resolve().parents[2]
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rec_bench", "pyproject.toml"],
                               cwd=root, capture_output=True, text=True, check=True)
        return commit.stdout.strip(), bool(dirty.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None, None


def main(argv=None):
    from .. import data as D

    ap = argparse.ArgumentParser(prog="python -m rec_bench.vae.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=M.KINDS, default="vae")
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-final", type=float, default=1e-4)
    ap.add_argument("--kappa-init", type=float, default=2.0, help="IsoKL: initial kappa in nats (learned)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", help="MNIST directory (default: $REC_BENCH_DATA or ~/.cache/rec_bench/mnist)")
    ap.add_argument("--out", help="weights file (default: rec_bench/vae/weights/KIND.npz)")
    ap.add_argument("--eval-every", action="store_true", help="test -ELBO every 10 epochs (slower)")
    ap.add_argument("--eval-samples", type=int, default=4, help="samples of z per test image for the -ELBO")
    a = ap.parse_args(argv)

    mnist = D.load_mnist(a.data)
    config = M.default_config(a.kind, a.latent, a.hidden)
    if a.kind == "isokl":
        config["kappa_init"] = a.kappa_init
    out = Path(a.out) if a.out else M.WEIGHTS_DIR / f"{a.kind}.npz"
    commit, dirty = git_commit()

    def evaluate(params, samples=1):
        m = M.Model(config, {k: np.asarray(v, np.float64) for k, v in params.items()})
        s = M.elbo_summary(m.elbo(mnist.test_images, samples=samples, seed=a.seed))
        return {"test_nelbo_bpp": s["nelbo_bpp"], "test_nelbo_bits": s["nelbo_bits"]}

    def log(msg):
        print(msg, flush=True)

    t0 = time.time()
    params, history = train(config, mnist.train_images, epochs=a.epochs, seed=a.seed, batch=a.batch, lr=a.lr,
                            lr_final=a.lr_final, log=log, eval_fn=evaluate if a.eval_every else None)
    train_seconds = time.time() - t0
    model = M.Model(config, {k: v.astype(np.float64) for k, v in params.items()})
    t1 = time.time()
    test = M.elbo_summary(model.elbo(mnist.test_images, samples=a.eval_samples, seed=a.seed))
    provenance = {
        "kind": a.kind,
        "config": config,
        "seed": a.seed,
        "training": {"epochs": a.epochs, "batch": a.batch, "optimizer": "adam", "lr": a.lr,
                     "lr_schedule": f"cosine decay to {a.lr_final}",
                     "train_images": int(len(mnist.train_images)),
                     "seconds": round(train_seconds, 1), "threads": 1},
        "test_elbo": {**test, "samples_per_image": a.eval_samples, "seconds": round(time.time() - t1, 1)},
        "history": history,
        "data_sha256": D.checksum(a.data),
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": {"jax": jax.__version__, "optax": optax.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "machine": platform.machine(),
        "command": "python -m rec_bench.vae.train " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if a.kind == "isokl":
        provenance["kappa_bits"] = model.kappa / LN2
    model = M.save_model(out, config, {k: v.astype(np.float64) for k, v in params.items()}, provenance)
    log(json.dumps({"saved": str(out), "model_hash": model.hash, "test": test,
                    "train_seconds": train_seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
