"""The two models in JAX (float32), for training (``train``) and for the sender's per-image posterior
refinement (``refine``). Same parameterisation as the numpy model in ``model``; importing this module
does not configure XLA (``train`` pins it to one thread before importing JAX)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

LN2 = math.log(2.0)
N_TRIALS = 255.0


def isokl_scale(mu, kappa, iterations=30):
    """s with KL[N(mu, s^2) || N(0,1)] = kappa: Newton (as in the numpy model) without gradient, then
    the implicit derivative dt/dc = t / (t - 1) of t - ln t = c attached to t = s^2."""
    c = 2.0 * kappa + 1.0 - mu * mu
    cs = jax.lax.stop_gradient(c)

    def step(_, u):
        e = jnp.exp(u)
        return jnp.minimum(u - (e - u - cs) / (e - 1.0), 0.0)

    u = jax.lax.fori_loop(0, iterations, step, -cs)
    t0 = jnp.exp(u)
    t = t0 + (t0 / (t0 - 1.0)) * (c - cs)
    return jnp.sqrt(t)


def encoder_output(params, x):
    """The encoder network's raw output (batch, 2d for the VAE, d for the IsoKL VAE); x in [0, 1]."""
    h = jax.nn.relu(x @ params["enc_w0"] + params["enc_b0"])
    h = jax.nn.relu(h @ params["enc_w1"] + params["enc_b1"])
    return h @ params["enc_w2"] + params["enc_b2"]


def posterior_of_output(params, config, out):
    """(mu, s, kl_nats per image) from the encoder's raw output: the posterior's parameterisation,
    which keeps s < 1 (VAE) and KL = kappa in every coordinate (IsoKL)."""
    d = config["latent"]
    if config["kind"] == "vae":
        mu = out[:, :d]
        s = config["s_min"] + (config["s_max"] - config["s_min"]) * jax.nn.sigmoid(out[:, d:])
        kl = jnp.sum(0.5 * (s * s + mu * mu - 1.0) - jnp.log(s), axis=1)
    else:
        kappa = jax.nn.softplus(params["kappa_raw"])
        mu = jnp.sqrt(2.0 * kappa) * (1.0 - config["delta"]) * jnp.tanh(out)
        s = isokl_scale(mu, kappa)
        kl = jnp.full(out.shape[0], d * kappa)
    return mu, s, kl


def posterior(params, config, x):
    """(mu, s, kl_nats per image) of images x (batch, 784) float32 in [0, 1]."""
    return posterior_of_output(params, config, encoder_output(params, x))


def decoder_params(params, config, z):
    """Beta-binomial (alpha, beta), each (batch, pixels), from latents z (batch, d)."""
    h = jax.nn.relu(z @ params["dec_w0"] + params["dec_b0"])
    h = jax.nn.relu(h @ params["dec_w1"] + params["dec_b1"])
    out = h @ params["dec_w2"] + params["dec_b2"]
    p = config["pixels"]
    return (config["alpha_floor"] + jax.nn.softplus(out[:, :p]),
            config["alpha_floor"] + jax.nn.softplus(out[:, p:]))


def log_likelihood(params, config, z, k, binomial=True):
    """log p(x | z) in nats per image, beta-binomial over 0..255 (k: pixel values, float).

    ``binomial=False`` leaves out the terms that depend on x alone (log of the binomial
    coefficient): the same for every z, so enough to compare latents of one image."""
    a, b = decoder_params(params, config, z)
    n = N_TRIALS
    if binomial:  # this order of operations is training's; changing it would change trained weights
        logp = (gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0) + gammaln(k + a)
                + gammaln(n - k + b) - gammaln(n + a + b) - gammaln(a) - gammaln(b) + gammaln(a + b))
    else:
        logp = (gammaln(k + a) + gammaln(n - k + b) - gammaln(n + a + b) - gammaln(a) - gammaln(b)
                + gammaln(a + b))
    return jnp.sum(logp, axis=1)


def nelbo_nats(params, config, out, k, key):
    """Per-image -ELBO in nats (one reparameterised sample of z; KL in closed form) from the encoder's
    raw output ``out`` and the pixel values ``k`` (float)."""
    mu, s, kl = posterior_of_output(params, config, out)
    z = mu + s * jax.random.normal(key, mu.shape, mu.dtype)
    return kl - log_likelihood(params, config, z, k)
