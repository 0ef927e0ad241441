"""Greedy rejection coding against GPRS and A* coding: `python benchmarks/grc_bench.py`.

For GRCS, GRCD, split-on-sample GPRS, AS* and AD*: mean steps, mean code length (Elias delta of
the heap index), ns per step and us per message, each method through its compiled entry point
without writing codes (rec_bench.coding.rows.run_encode, as simulate runs it: all messages in one
compiled call; median of REPEATS timed runs after a warm-up), at

* KL = 2 bits (Normal target against N(0, 1), rec_bench.fixed_kl) and D_inf = 10, 30, 48, 60 bits;
* the Gaussian channel (rec_bench.gaussian_channel) at I = 2 and 8 bits (mean KL = I).

The last column is the cost of a step relative to AD*'s at the same setting. Then the issue's
targets are checked: GRC steps <= 5 at KL 2 / D_inf 48 bits; a GRC step <= 2.5 AD* steps; mean
code length at I = 8 bits within KL + 2 log2(KL + 1) + 2. ``--quick`` shrinks the message counts.
"""

import argparse
import math
import time

import numpy as np

import rec_bench as rb
from rec_bench.pairs import resolve

from gprs_bench import encode_rows  # benchmarks/ is the script's own directory

KL_BITS = 2.0
DINFS = (10.0, 30.0, 48.0, 60.0)
CHANNEL_BITS = (2.0, 8.0)
METHODS = ("grcs", "grcd", "gprs", "as*", "ad*")
REPEATS = 5
BUDGET = 10**7


def measure(method, pair, seeds):
    """(mean steps, mean bits, ns per step, us per message) of ``method`` on the pair's rows."""
    m = rb.METHODS[method]
    n = seeds.shape[0]
    encode_rows(m, pair, seeds, 8, BUDGET)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = encode_rows(m, pair, seeds, n, BUDGET)
        times.append(time.perf_counter() - t0)
    assert (out.code_bits >= 0).all(), f"{method}: a message ran past the budget"
    t = float(np.median(times))
    steps = int(out.steps.sum())
    return steps / n, float(out.code_bits.mean()), 1e9 * t / steps, 1e6 * t / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small message counts (smoke run)")
    args = ap.parse_args()
    n = 2000 if args.quick else 20000
    seeds = np.arange(n, dtype=np.uint64) + np.uint64(10**6)
    settings = [(f"KL=2, D_inf={d:g}", rb.fixed_kl(KL_BITS, d)) for d in DINFS]
    settings += [(f"channel I={i:g}", rb.gaussian_channel(i, n, seed=1)) for i in CHANNEL_BITS]
    print(f"\nGRC, GPRS and A* coding ({n} messages a setting; time: median of {REPEATS} runs)")
    print(f"{'setting':>18} {'method':>6} {'steps':>8} {'bits':>7} {'ns/step':>8} {'us/msg':>7} "
          f"{'step/AD*':>9}")
    results = {}
    for label, (q, p) in settings:
        pair = resolve(q, p, (n,))
        rows = {name: measure(name, pair, seeds) for name in METHODS}
        results[label] = rows
        for name, (steps, bits, ns, us) in rows.items():
            print(f"{label:>18} {name:>6} {steps:>8.3f} {bits:>7.2f} {ns:>8.0f} {us:>7.2f} "
                  f"{ns / rows['ad*'][2]:>9.2f}")
    print("\nTargets")
    at48 = results["KL=2, D_inf=48"]
    for name in ("grcs", "grcd"):
        print(f"  {name}: {at48[name][0]:.2f} steps at KL 2 / D_inf 48 bits (target <= 5; "
              f"AD* {at48['ad*'][0]:.1f})")
        worst = max(r[name][2] / r["ad*"][2] for r in results.values())
        print(f"  {name}: a step costs at most {worst:.2f} AD* steps over these settings (target <= 2.5)")
    q, p = settings[-1][1]
    kl = float(np.mean(rb.kl(q, p)))  # bits
    bound = kl + 2 * math.log2(kl + 1) + 2
    for name in ("grcs", "grcd"):
        bits = results[settings[-1][0]][name][1]
        print(f"  {name}: {bits:.2f} bits at I = 8 (mean KL {kl:.2f}; target <= KL + 2 log2(KL + 1) + 2 = "
              f"{bound:.2f})")


if __name__ == "__main__":
    main()
