"""Bits-back ANS on the same VAEs: the baseline that relative entropy coding is measured against.

Bits-back coding with ANS (Townsend, Bird and Barber 2019, "Practical lossless compression with
latent variables using bits back coding") sends an image x with a latent z in one ANS stack:

* encode: pop z from the stack with the posterior q(z|x) (this *takes* bits off the message),
  push x with p(x|z), push z with the prior p(z);
* decode: pop z with the prior, pop x with p(x|z), recompute q(z|x) from the decoded x and push z
  back with it, which returns the bits the encoder took.

The net cost of an image is -log p(x|z) - log p(z) + log q(z|x), about its -ELBO, but only in a
chain: the first pop needs bits already on the stack. Here they come from the seed: the stack
starts as ``initial_words(seed, model, n)``, pseudo-random 32-bit words (the counter-based
generator of rec_bench.randomness, keyed by the seed and the model's hash), enough for any chain
of n images never to run dry. The file holds every word the coding touched, so the initial bits
the first pops consumed are counted in its size; the untouched bottom of the stack is not sent
(the receiver makes it again) and the receiver checks that decoding gives back the initial words
exactly, which also checks the file.

The latent is discretised as in craystack (the reference implementation of that paper): each
coordinate's prior N(0, 1) is cut into 2^precision buckets of equal mass, a latent is decoded at
its bucket's centre (the prior's quantile at the bucket's middle), the prior is uniform over the
buckets, and the posterior N(mu, s^2) is quantised to the same buckets (its mass in each). Every
categorical goes through constriction's coder (Bamler 2022) at its 24-bit precision, the pixels
with the same tables as the REC codec. Because the receiver recomputes q, the encoder network runs
in the same fixed-order kernels as the decoder network (``rec_bench.vae._kernels``), one image at
a time on both sides, so sender and receiver get the same posterior bit for bit.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np

from .vae import _kernels as K

WORD_BITS = 32
MAX_POP_BITS = 24  # constriction's categorical gives every bucket at least 2^-24: a pop takes <= 24 bits
MIN_PRECISION, MAX_PRECISION = 1, 16


def check_precision(p):
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not MIN_PRECISION <= p <= MAX_PRECISION:
        raise ValueError(f"precision must be an integer number of bits in [{MIN_PRECISION}, {MAX_PRECISION}] "
                         f"(2^precision latent buckets per coordinate), got {p!r}")
    return int(p)


@lru_cache(maxsize=None)
def buckets(precision):
    """(edges (B + 1,), centres (B,)) of the prior's B = 2^precision equal-mass buckets."""
    from scipy.special import ndtri

    b = 1 << precision
    edges = ndtri(np.arange(b + 1) / b)
    centres = ndtri((np.arange(b) + 0.5) / b)
    return edges, centres


def receiver_posterior(model, x):
    """(mu, s), each (n, d), of uint8 images x (n, 784) computed with the fixed-order kernels, so that
    the receiver, which sees only the decoded image, gets the encoder's values bit for bit."""
    p = model.params
    a = np.ascontiguousarray(np.asarray(x, np.float64).reshape(-1, model.config["pixels"]) / 255.0)
    h = K.dense(a, p["enc_w0"], p["enc_b0"], True)
    h = K.dense(h, p["enc_w1"], p["enc_b1"], True)
    out = K.dense(h, p["enc_w2"], p["enc_b2"], False)
    if model.kind == "vae":
        return K.vae_posterior(out, model.latent, model.config["s_min"], model.config["s_max"])
    return K.isokl_posterior(out, model.kappa, model.config["delta"])


def posterior_buckets(mu, s, precision):
    """The posterior's mass in each prior bucket: (..., B) from mu, s of shape (...). Each bucket is the
    difference of two normal CDFs, taken on the side of the mean where they are small (so the upper
    tail is as accurate as the lower)."""
    from scipy.special import ndtr

    edges, _ = buckets(precision)
    a = (edges - np.asarray(mu)[..., None]) / np.asarray(s)[..., None]
    lo, hi = a[..., :-1], a[..., 1:]
    q = np.where(lo > 0, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
    return np.maximum(q, 0.0)


def words_per_image(d):
    """Initial words a chain needs per image at most: popping d coordinates takes <= 24 bits each."""
    return -(-d * MAX_POP_BITS // WORD_BITS)


def initial_count(n, d):
    return 4 + n * words_per_image(d)


def initial_key(seed, model):
    tag = b"rec_bench bits-back initial words" + int(seed).to_bytes(8, "little") + bytes.fromhex(model.hash)
    return int.from_bytes(hashlib.sha256(tag).digest()[:8], "little")


def initial_words(key, count, top=None):
    """``count`` pseudo-random uint32 words (word j from ``message_seed(key, j)``, the bottom of the
    stack first); the word at ``top`` (default the last) is made odd, since an ANS stack never ends in a
    zero word."""
    from .coding.seeds import message_seeds

    w = (message_seeds(key, 0, count) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    if count:
        w[count - 1 if top is None else top] |= np.uint32(1)
    return w


def push_images(coder, x, model, precision, progress=None):
    """Bits-back encode the images x (n, 784) onto ``coder`` (a constriction AnsCoder holding the
    initial words), last image first, so that the decoder pops image 0 first. Returns per-image
    arrays of bits (posterior pops, pixel pushes, prior pushes), from the coder's own bit counts."""
    import constriction

    cat = constriction.stream.model.Categorical(perfect=False)
    prior = constriction.stream.model.Uniform(1 << precision)
    _, centres = buckets(precision)
    n = len(x)
    popped, pixels, priors = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in reversed(range(n)):
        xi = np.ascontiguousarray(x[i].reshape(1, -1))
        mu, s = receiver_posterior(model, xi)
        q = posterior_buckets(mu[0], s[0], precision)
        b0 = coder.num_valid_bits()
        try:
            zi = np.asarray(coder.decode(cat, q), np.int32)
        except Exception as e:  # constriction refuses a table it cannot quantise
            raise ValueError(f"bits-back: the posterior of image {i} cannot be coded ({e})") from None
        b1 = coder.num_valid_bits()
        probs = model.pixel_probabilities(centres[zi][None])[0]
        coder.encode_reverse(xi[0].astype(np.int32), cat, probs)
        b2 = coder.num_valid_bits()
        coder.encode_reverse(zi, prior)
        b3 = coder.num_valid_bits()
        popped[i], pixels[i], priors[i] = b0 - b1, b2 - b1, b3 - b2
        if progress is not None:
            progress(1)
    return popped, pixels, priors


def pop_images(coder, n, model, precision, floor_bits=0):
    """The n images (n, 784) uint8 that :func:`push_images` put on ``coder``; each image's latent is
    pushed back with its recomputed posterior. ``floor_bits``: the coder must keep at least that many
    bits between images (the initial words the file left out), else the file is damaged."""
    import constriction

    cat = constriction.stream.model.Categorical(perfect=False)
    prior = constriction.stream.model.Uniform(1 << precision)
    _, centres = buckets(precision)
    d = model.latent
    out = []
    for i in range(n):
        try:
            zi = np.asarray(coder.decode(prior, d), np.int32)
            probs = model.pixel_probabilities(centres[zi][None])[0]
            xi = np.asarray(coder.decode(cat, probs), np.uint8)
        except Exception as e:  # constriction signals data no encoder wrote
            raise ValueError(f"corrupted or truncated file: image {i} does not decode ({e})") from None
        mu, s = receiver_posterior(model, xi[None])
        coder.encode_reverse(zi, cat, posterior_buckets(mu[0], s[0], precision))
        if coder.num_valid_bits() < floor_bits:
            raise ValueError("corrupted or truncated file: the stack runs below its initial words at "
                             f"image {i}")
        out.append(xi)
    return np.stack(out) if out else np.zeros((0, 784), np.uint8)

