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
STD = rb.Normal(0.0, 1.0)


def parse(config):
    parts = config.split(":")
    method, b = parts[0], int(parts[1])
    k = int(parts[2]) if len(parts) > 2 else None
    return method, b, k


def run(model, x, mu, s, method, b, k, seed):
    n, d = mu.shape
    seeds = message_seeds(seed, 0, n)
    opts = {} if k is None else {"bits": k}
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
    pixels = model.nll_bits(x, z)
    return latent, float(pixels.mean()), t1 - t0, t2 - t1, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="*", default=list(DEFAULT), help="method:b[:K] ...")
    a = ap.parse_args()
    model = load_model("isokl")
    x = load_test()[0][: a.images]
    n = len(x)
    mu, s = model.encode(x)
    e = model.elbo(x, samples=8, seed=1)
    nelbo = float(e["nelbo_bits"].mean())
    kappa_bits = float(e["kl_bits"].mean()) / mu.shape[1]
    print(f"{n} images: -ELBO {nelbo:.1f} bits (KL {e['kl_bits'].mean():.1f} + reconstruction "
          f"{e['rec_bits'].mean():.1f}); {kappa_bits:.3f} bits of KL a coordinate")
    print("| method | block b | K bits | block KL | latent bits | pixel bits | total / -ELBO | encode s "
          "| decode s | candidate-coordinates (ns each) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config in a.configs:
        method, b, k = parse(config)
        latent, pixels, te, td, steps = run(model, x, mu, s, method, b, k, a.seed)
        ratio = (latent + pixels) / nelbo
        per = "" if steps != steps else f"{steps * b:.3g} ({te / (steps * b) * 1e9:.2f})"
        print(f"| {method} | {b} | {'-' if k is None else k} | {b * kappa_bits:.1f} | {latent:.1f} | "
              f"{pixels:.1f} | {ratio:.4f} | {te:.2f} | {td:.2f} | {per} |", flush=True)


if __name__ == "__main__":
    main()
