"""The sender's side of the image codec, beyond running the encoder: two optional searches.

Relative entropy coding needs the target q(z|x) at the sender only: the receiver decodes z from the
prior and the shared seed, whatever q was. So the sender is free to

* refine each image's posterior (:func:`refine_posterior`): take ``steps`` Adam steps (cosine-
  decayed learning rate) on the image's -ELBO from the amortised encoder's output, one
  reparameterised sample of z per step, in the model's own parameterisation (s < 1, and
  KL = kappa in every IsoKL coordinate, still hold). The file shrinks by what this gains on the
  -ELBO, the amortisation gap (Cremer, Li and Duvenaud 2018); it is the per-image optimisation of
  learned lossy compression (Campos et al. 2019; Yang, Bamler and Mandt 2020), here for lossless
  coding;
* try several candidates (``candidates=K`` in ``rec_bench.compression``): code the latent with K
  different seeds and keep, per image, the one whose latent code plus pixel cost is shortest,
  paying log2 K bits to name it. The sent z is then no longer a sample of q (it leans towards z
  that explain the image well), which costs nothing in correctness: any z the receiver decodes
  gives exact pixels. :class:`PixelScorer` estimates the pixel cost of every candidate.

Both run in JAX (the ``vae`` extra), float32, in batches padded to one shape (one compilation).
They are the sender's choices and need not be reproducible across machines: the file records the
z it sends, not q or how it was chosen.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_STEPS = 20
LR = 0.05
LR_FINAL = 0.05 * LR
MAX_STEPS = 10_000


_COMPILED = {}  # jitted functions by (what, model hash, ...): a process compiles each once per shape


def _cache(key, fn):
    if len(_COMPILED) >= 8:
        _COMPILED.pop(next(iter(_COMPILED)))
    _COMPILED[key] = fn


def check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"refine must be a number of gradient steps, an integer in [0, {MAX_STEPS}], "
                         f"got {steps!r}")
    return int(steps)


def _jax():
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401
    except ImportError:
        raise ValueError("the sender's searches (refine, candidates) need JAX and optax: "
                         "pip install 'rec_bench[vae]'") from None


def refine_posterior(model, images, steps=DEFAULT_STEPS, *, lr=LR, seed=0, batch=1000, progress=False):
    """(mu, s), each (n, d) float64: the posterior of each image after ``steps`` Adam steps on its -ELBO
    from the encoder's output. ``steps=0`` gives the encoder's posterior (``model.encode``)."""
    from .model import check_images

    steps = check_steps(steps)
    x = check_images(images).reshape(-1, model.config["pixels"])
    if steps == 0:
        return model.encode(x)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    _jax()
    import jax
    import jax.numpy as jnp
    import optax

    from . import jax_model as J

    key_ = ("refine", model.hash, steps, float(lr))
    if key_ not in _COMPILED:
        config = model.config
        optimizer = optax.adam(optax.cosine_decay_schedule(lr, steps, LR_FINAL / lr))

        def objective(out, params, k, key):
            return jnp.sum(J.nelbo_nats(params, config, out, k, key))

        @jax.jit
        def refine(params, k, key):  # the weights as an argument, not as constants folded into the program
            out = J.encoder_output(params, k / 255.0)

            def step(i, carry):
                out, state = carry
                g = jax.grad(objective)(out, params, k, jax.random.fold_in(key, i))
                updates, state = optimizer.update(g, state, out)
                return optax.apply_updates(out, updates), state

            out, _ = jax.lax.fori_loop(0, steps, step, (out, optimizer.init(out)))
            return out

        params = {k: jnp.asarray(v, jnp.float32) for k, v in model.params.items()}
        _cache(key_, lambda k, key: refine(params, k, key))
    run = _COMPILED[key_]
    n = len(x)
    b = min(batch, n)
    outs = []
    starts = range(0, n, b)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"refining posteriors ({steps} steps)", unit="batch")
    for start in starts:
        xb = x[start : start + b]
        if len(xb) < b:  # pad to one shape: one compilation
            xb = np.concatenate([xb, np.zeros((b - len(xb), xb.shape[1]), xb.dtype)])
        key = jax.random.fold_in(jax.random.PRNGKey(seed), start)
        outs.append(np.asarray(run(jnp.asarray(xb, jnp.float32), key), dtype=np.float64)[: min(b, n - start)])
    return model.posterior_of_output(np.concatenate(outs))


class PixelScorer:
    """-log2 p(x | z) per image for many candidate z of the same images, in JAX float32: the sender's
    fast estimate of each candidate's pixel cost (the coder itself uses the exact float64 tables).
    The terms of the beta-binomial that do not depend on z are left out (equal for every candidate)."""

    def __init__(self, model, images, batch=1000):
        _jax()
        import jax.numpy as jnp

        from .model import check_images

        x = check_images(images).reshape(-1, model.config["pixels"])
        self.n = len(x)
        self.batch = min(batch, self.n)
        pad = -self.n % self.batch
        self.k = jnp.asarray(np.concatenate([x, np.zeros((pad, x.shape[1]), x.dtype)]), jnp.float32)
        key_ = ("score", model.hash)
        if key_ not in _COMPILED:
            _cache(key_, _compile_score(model))
        self._score = _COMPILED[key_]

    def __call__(self, z):
        """(n,) bits, up to a per-image constant, for latents z (n, d)."""
        import jax.numpy as jnp

        z = np.asarray(z, dtype=np.float32)
        z = np.concatenate([z, np.zeros((len(self.k) - self.n, z.shape[1]), np.float32)])
        out = [np.asarray(self._score(jnp.asarray(z[i : i + self.batch]), self.k[i : i + self.batch]))
               for i in range(0, len(z), self.batch)]
        return np.concatenate(out)[: self.n].astype(np.float64)


def _compile_score(model):
    import jax
    import jax.numpy as jnp

    from . import jax_model as J

    config = model.config

    @jax.jit
    def score(params, z, k):
        return -J.log_likelihood(params, config, z, k, binomial=False) / J.LN2

    params = {k: jnp.asarray(v, jnp.float32) for k, v in model.params.items()}
    return lambda z, k: score(params, z, k)
