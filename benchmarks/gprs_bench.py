"""Greedy Poisson rejection sampling against A* coding: `python benchmarks/gprs_bench.py`.

1. Speed: ns per step and us per message of split-on-sample GPRS and of AD*, each through the
   method's compiled entry point without writing codes (rec_bench.coding.rows.run_encode, as
   simulate runs it) at KL = 2 bits (Normal target against N(0, 1), rec_bench.fixed_kl) and
   D_inf = 10, 30, 60 bits. Both run all messages inside one compiled call; median of REPEATS
   timed runs after a warm-up.
2. Steps and bits (rec_bench.simulate): mean steps and mean code length (Elias delta of the heap
   index for gprs, AS* and AD*; of the candidate index for gprs-global; of the heap index
   1.gamma(j).path for gprs-dyadic) at KL = 2 bits and D_inf = 10, 30, 60 bits (gprs-global at
   10 bits only: 2^D_inf steps) and on the Gaussian channel (rec_bench.gaussian_channel) at I = 2
   and 8 bits, where gprs-global runs under a budget of 10^6 steps (E[e^D_inf] over the channel's
   messages is infinite); its censored messages are counted, and left out of its means.

Prints two tables. ``--quick`` shrinks the message counts (a smoke run).
"""

import argparse
import time

import numpy as np

import rec_bench as rb
from rec_bench.coding.codes import ELIAS_DELTA
from rec_bench.coding.rows import run_encode
from rec_bench.pairs import resolve

KL_BITS = 2.0
DINFS = (10.0, 30.0, 60.0)
CHANNEL_BITS = (2.0, 8.0)
GLOBAL_BUDGET = 10**6
REPEATS = 5


def encode_rows(m, pair, seeds, n, budget=10**6):
    """The first ``n`` messages through ``m``'s compiled entry point (at most ``budget`` steps each),
    codes not written (benchmarks/grc_bench.py times its methods with it too)."""
    option = np.full(n, 0, np.int64)
    width = np.zeros(n, np.int64)
    out, _, _ = run_encode(m, pair.family, pair.params[:n], pair.loc[:n], pair.scale[:n], seeds[:n], 1, False,
                           budget, option, width, ELIAS_DELTA, write=False)
    return out


def time_method(method, pair, seeds):
    """Median wall time of one compiled call of ``method``'s entry point (as simulate runs it)."""
    m = rb.METHODS[method]
    n = seeds.shape[0]
    encode_rows(m, pair, seeds, 8)
    best = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = encode_rows(m, pair, seeds, n)
        best.append(time.perf_counter() - t0)
    return float(np.median(best)), int(out.steps.sum())


def speed(n):
    print(f"\nSpeed at KL = {KL_BITS:g} bits ({n} messages, median of {REPEATS} runs)")
    print(f"{'D_inf bits':>10} {'method':>8} {'steps/msg':>10} {'ns/step':>9} {'us/msg':>8}")
    seeds = np.arange(n, dtype=np.uint64)
    for d in DINFS:
        q, p = rb.fixed_kl(KL_BITS, d)
        pair = resolve(q, p, (n,))
        for name in ("gprs", "ad*"):
            t, steps = time_method(name, pair, seeds)
            print(f"{d:>10g} {name:>8} {steps / n:>10.3f} {1e9 * t / steps:>9.0f} {1e6 * t / n:>8.2f}")


def row(method, q, p, seeds, budget=None):
    df = rb.simulate(method, q, p, seeds, max_steps=budget)
    ok = df[~df.censored]
    return ok.steps.mean(), float(ok.nbits.mean()), int(df.censored.sum())


def steps_and_bits(n, n_global):
    print(f"\nMean steps and bits ({n} messages; gprs-global {n_global}; censored = budget ran out)")
    print(f"{'setting':>22} {'method':>12} {'steps':>9} {'bits':>7} {'censored':>8}")
    settings = [(f"KL=2, D_inf={d:g}", rb.fixed_kl(KL_BITS, d), d <= 10) for d in DINFS]
    settings += [(f"channel I={i:g}", rb.gaussian_channel(i, n, seed=1), True) for i in CHANNEL_BITS]
    for label, (q, p), run_global in settings:
        seeds = np.arange(n, dtype=np.uint64) + np.uint64(10**6)
        rows = [(m, row(m, q, p, seeds, 10**7)) for m in ("gprs", "gprs-dyadic")]
        if run_global:
            qg = q if np.ndim(q.loc) == 0 else type(q)(q.loc[:n_global], q.scale)
            rows.append(("gprs-global", row("gprs-global", qg, p, seeds[:n_global], GLOBAL_BUDGET)))
        rows += [(m, row(m, q, p, seeds)) for m in ("as*", "ad*")]
        for name, (steps, bits, cens) in rows:
            print(f"{label:>22} {name:>12} {steps:>9.3f} {bits:>7.2f} {cens:>8d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small message counts (smoke run)")
    args = ap.parse_args()
    n = 2000 if args.quick else 20000
    speed(n)
    steps_and_bits(n, 200 if args.quick else 2000)


if __name__ == "__main__":
    main()
