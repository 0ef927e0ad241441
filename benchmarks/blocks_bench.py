"""Cost of a block search per candidate and per candidate coordinate, in CPU time of one thread.

The IsoKL VAE's posteriors of the first ``--images`` MNIST test images (20 coordinates, N(mu, s^2)
against N(0, 1), 3.55 bits of KL each) in blocks of b, searched by
rec_bench.search.blocks.search_each (one thread; time.process_time, so that other load on a
shared machine inflates it less), after a warm-up call. Prints, per method: candidates evaluated,
coordinate draws per candidate (the early exits inside a candidate), ns per candidate and ns per
candidate coordinate (candidates x b, the nominal count a loop without early exits would draw).

    python benchmarks/blocks_bench.py [--images 300] [--block 4] [--bits 15]
"""

import argparse
import time

import numpy as np

import rec_bench as rb
from rec_bench.coding.blocks import _layout, block_setup
from rec_bench.data import load_test
from rec_bench.pairs import resolve
from rec_bench.search import blocks as kernels
from rec_bench.vae import load_model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--block", type=int, default=4)
    ap.add_argument("--bits", type=int, default=15)
    ap.add_argument("--methods", nargs="*", default=["orc", "mrc", "pfr", "rs"])
    a = ap.parse_args()
    model = load_model("isokl")
    mu, s = model.encode(load_test()[0][: a.images])
    pair = resolve(rb.Normal(mu, s), rb.Normal(0.0, 1.0))
    n, d = mu.shape
    print(f"{n} images, {d} coordinates, blocks of {a.block}, K = {a.bits} (ORC, MRC); "
          f"block D_inf {pair.params[:, 0].reshape(n, d)[:, : a.block].sum(1).mean() / np.log(2):.1f} bits")
    print("| method | candidates | draws / candidate | ns / candidate | ns / candidate coordinate |")
    print("|---|---|---|---|---|")
    for m in a.methods:
        if m in ("pfr", "rs") and a.block > 2:
            first = 2  # exp(D_inf) candidates a block: time a few images
        else:
            first = n
        st = block_setup(m, None, a.bits if m in ("orc", "mrc") else None, d, a.block)
        seeds = np.arange(first, dtype=np.uint64)
        bs, starts, sizes, cand, _ = _layout(seeds, d, st.offsets, st.sizes, st.candidates, st.width)
        out = [np.zeros(bs.size, np.int8)] + [np.zeros(bs.size, np.int64) for _ in range(3)]
        args = (st.kernel, pair.family, pair.params)
        kernels.search_each(*args, bs[:1], starts[:1], sizes[:1], cand[:1], 2**40, *[o[:1] for o in out])
        t0 = time.process_time()
        kernels.search_each(*args, bs, starts, sizes, cand, 2**40, *out)
        dt = time.process_time() - t0
        steps, drawn = out[1].sum(), out[2].sum()
        nominal = float((out[1] * sizes).sum())
        print(f"| {m} | {steps:.3g} | {drawn / steps:.2f} | {dt / steps * 1e9:.1f} | "
              f"{dt / nominal * 1e9:.2f} |", flush=True)


if __name__ == "__main__":
    main()
