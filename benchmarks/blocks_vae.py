"""Blocks on the committed IsoKL VAE: latent and pixel bits per image against the -ELBO.

Every MNIST test image (or the first ``--images``) is encoded by the IsoKL VAE (rec_bench.vae,
read only); its 20 latent coordinates are sent with one method in blocks of b coordinates
(rec_bench.coding.blocks.encode_blocks into one constriction ANS stack, image i with the seed
``message_seed(seed, i)``), decoded back from the stack, and the pixels are charged
-log2 p(x | z) at the decoded z (what an entropy coder of the pixels would spend, up to its
quantisation). b = 1 is today's per-coordinate code through a StreamEncoder.

Columns: block b, K bits (ORC, MRC; '-' for the exact PFR), the block's KL (bits), latent bits per
image (the real index codes), pixel bits per image, their sum over the -ELBO (KL + the
reconstruction term averaged over 8 draws of z ~ q per image), and the seconds of the latents'
encode (the block searches, on all Numba threads) and decode.

    python benchmarks/blocks_vae.py                      # the default table, whole test set
    python benchmarks/blocks_vae.py --images 1000 --configs orc:4:15 mrc:4:15 pfr:2
    python benchmarks/blocks_vae.py --model vae --configs orc:4:+1 orc:2:+1

The plain VAE (``--model vae``) has a KL that varies by coordinate and image, and the receiver
does not know q: the grouping and each block's K are fixed from the model alone. Its coordinates
are ordered by their mean KL over the first 10,000 training images (a property of the model both
sides can compute), cut into consecutive blocks of b in that order, and block k gets
K_k = max(1, round(mean KL of block k) + e) bits, written ``method:b:+e`` (or ``-e``); the table
then shows the mean of K over blocks.
"""

import argparse
import time

import numpy as np

import rec_bench as rb
from rec_bench.coding.blocks import decode_blocks, encode_blocks
from rec_bench.coding.seeds import message_seeds
from rec_bench.coding.sinks import AnsSink, AnsSource
from rec_bench.data import load_test
from rec_bench.vae import load_model

DEFAULT = ("orc:1:5", "orc:2:8", "orc:2:9", "orc:4:14", "orc:4:15", "orc:4:16", "orc:5:18", "orc:5:19",
           "orc:5:20", "mrc:4:15", "mrc:4:16", "pfr:2")
DEFAULT_VAE = ("orc:1:+1", "orc:1:+2", "orc:2:+1", "orc:4:+0", "orc:4:+1", "orc:4:+2")
STD = rb.Normal(0.0, 1.0)


def parse(config):
    """(method, b, K or None, relative): ``method:b[:K]``, K written +e / -e relative to the KL."""
    parts = config.split(":")
    method, b = parts[0], int(parts[1])
    k = parts[2] if len(parts) > 2 else None
    relative = k is not None and k[0] in "+-"
    return method, b, None if k is None else int(k), relative


def block_bits(kl_mean, b, extra):
    """K per block: max(1, round(the block's mean KL) + extra), blocks of b consecutive coordinates."""
    sums = np.add.reduceat(kl_mean, np.arange(0, kl_mean.size, b))
    return np.maximum(1, np.floor(sums + 0.5).astype(np.int64) + extra)


def run(model, x, mu, s, method, b, k, seed, bits=None, order=None):
    n, d = mu.shape
    seeds = message_seeds(seed, 0, n)
    opts = {} if k is None else {"bits": k if bits is None else bits}
    q = rb.Normal(mu, s)
    t0 = time.perf_counter()
    if b == 1:
        enc = rb.StreamEncoder(method, seed, **opts)
        enc.encode_many(q, STD, seeds=seeds)
        data = enc.get_compressed()
        t1 = time.perf_counter()
        dec = rb.StreamDecoder(data, method, seed, **opts)
        z = dec.decode_many(STD, n, shape=(d,), seeds=seeds)
        t2 = time.perf_counter()
        latent = 8 * len(data) / n
        steps = float("nan")
    else:
        sink = AnsSink()
        c = encode_blocks(sink, q, STD, method, seeds, block=b, **opts)
        words = sink.words()
        t1 = time.perf_counter()
        z = decode_blocks(AnsSource(words), STD, n, method, seeds, shape=(d,), block=b, **opts)
        t2 = time.perf_counter()
        assert np.array_equal(z, c.sample), "the decoded latents differ from the encoder's"
        latent = 32 * words.size / n
        steps = float(c.steps.sum())
    if order is not None:  # back to the model's coordinate order
        z = z[:, np.argsort(order)]
    pixels = model.nll_bits(x, z)
    return latent, float(pixels.mean()), t1 - t0, t2 - t1, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="*", default=None, help="method:b[:K] ... (K: +e/-e relative)")
    ap.add_argument("--model", default="isokl", choices=["isokl", "vae"])
    a = ap.parse_args()
    model = load_model(a.model)
    configs = a.configs or (list(DEFAULT) if a.model == "isokl" else list(DEFAULT_VAE))
    x = load_test()[0][: a.images]
    n = len(x)
    mu, s = model.encode(x)
    order, kl_mean = np.arange(mu.shape[1]), None
    if a.model == "vae":  # the receiver's grouping: coordinates by mean training-set KL
        from rec_bench.data import load_mnist
        from rec_bench.vae.model import gaussian_kl

        tmu, ts = model.encode(load_mnist().train_images[:10_000])
        kl_train = gaussian_kl(tmu, ts).mean(axis=0) / np.log(2)
        order = np.argsort(-kl_train, kind="stable")
        kl_mean = kl_train[order]
        mu, s = np.ascontiguousarray(mu[:, order]), np.ascontiguousarray(s[:, order])
        print("coordinates by mean training KL (bits): " + " ".join(f"{v:.2f}" for v in kl_mean))
    e = model.elbo(x, samples=8, seed=1)
    nelbo = float(e["nelbo_bits"].mean())
    kappa_bits = float(e["kl_bits"].mean()) / mu.shape[1]
    print(f"{n} images: -ELBO {nelbo:.1f} bits (KL {e['kl_bits'].mean():.1f} + reconstruction "
          f"{e['rec_bits'].mean():.1f}); {kappa_bits:.3f} bits of KL a coordinate")
    print("| method | block b | K bits | block KL | latent bits | pixel bits | total / -ELBO | encode s "
          "| decode s | candidate-coordinates (ns each) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config in configs:
        method, b, k, relative = parse(config)
        bits = None
        if relative:
            if kl_mean is None:
                kl_mean = np.full(mu.shape[1], kappa_bits)
            bits = block_bits(kl_mean, b, k) if b > 1 else block_bits(kl_mean, 1, k)
        latent, pixels, te, td, steps = run(model, x, mu, s, method, b, k, a.seed, bits,
                                            order if a.model == "vae" else None)
        if bits is not None:
            k = f"{bits.mean():.2f} (KL{'+' if config.split(':')[2][0] == '+' else ''}{k})"
        ratio = (latent + pixels) / nelbo
        per = "" if steps != steps else f"{steps * b:.3g} ({te / (steps * b) * 1e9:.2f})"
        block_kl = b * kappa_bits if a.model == "isokl" else float(np.mean(
            np.add.reduceat(kl_mean, np.arange(0, kl_mean.size, b))))
        print(f"| {method} | {b} | {'-' if k is None else k} | {block_kl:.1f} | {latent:.1f} | "
              f"{pixels:.1f} | {ratio:.4f} | {te:.2f} | {td:.2f} | {per} |", flush=True)


if __name__ == "__main__":
    main()
