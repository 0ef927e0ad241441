"""Smallest extra bits (code bits - KL) at which DAD*, ORC and MRC's bias falls to the noise floor.

For each KL (bits) the pair is ``rec_bench.fixed_kl(KL, KL + DINF_OFFSET)`` (Gaussian target,
P = N(0, 1)). For each method the budget b = KL + e bits (DAD*: depth D = b - 1; ORC, MRC: K = b)
is raised one bit at a time from e = --start; at each budget ``rec_bench.bias.bias`` measures n
messages (seeds disjoint per budget). "At the floor" = the bias measure's KS test does not detect the
bias (p >= 1e-3, i.e. KS distance below the Kolmogorov 99.9% quantile at n); the reported e is the
smallest one that is at the floor at e and at e + 1 (two consecutive budgets). The mean steps of
the method there are reported (ORC/MRC: always 2^K). A run whose n * 2^K candidate evaluations
exceed --max-evals is skipped and the result is reported as "> e".

    .venv/bin/python benchmarks/bias_table.py                   # KL = 2, 4, 8; n = 100,000
    .venv/bin/python benchmarks/bias_table.py --kl 2 4 --n 20000 --jobs 2

Measured with the first command (n = 100,000, D_inf = KL + 4 bits, seed 0; 2 shared cores, ~40 min):

      KL method extra bits code bits  mean steps  KS there KS at e-1  AD* KS KS crit AD* steps
       2   dad*          5         7         5.1    0.0036    0.0179  0.0023  0.0062       5.1
       2    orc          5         7       128.0    0.0046    0.0115  0.0023  0.0062       5.1
       2    mrc          9        11      2048.0    0.0052    0.0071  0.0023  0.0062       5.1
       4   dad*          6        10         7.0    0.0022    0.0069  0.0016  0.0062       7.0
       4    orc          5         9       512.0    0.0056    0.0245  0.0016  0.0062       7.0
       4    mrc          9        13      8192.0    0.0047    0.0069  0.0016  0.0062       7.0
       8   dad*          6        14        11.0    0.0019    0.0109  0.0021  0.0062      11.0
       8    orc          6        14     16384.0    0.0037    0.0084  0.0021  0.0062      11.0
       8    mrc        > 8

("> 8": MRC at KL = 8 is detected at e = 7 (KS 0.0116, p = 4e-12) and not at e = 8 (KS 0.0046,
p = 0.027, 2^16 steps), but the confirming e = 9 needs n 2^17 candidate evaluations, beyond
--max-evals. DAD*'s mean steps at the floor equal AD*'s; ORC and MRC take 2^K.)
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

from rec_bench import fixed_kl
from rec_bench.bias import bias

METHODS = ("dad*", "orc", "mrc")


def options(method, budget):
    return {"depth": budget - 1} if method == "dad*" else {"bits": budget}


def scan(method, kl, dinf_offset, n, start, max_extra, max_evals, seed):
    q, p = fixed_kl(kl, kl + dinf_offset)
    rows, clean = [], 0
    for e in range(start, max_extra + 1):
        b = kl + e
        if b < 1:
            continue
        if method != "dad*" and n * 2.0**b > max_evals:
            rows.append((e, None))
            break
        t = time.perf_counter()
        r = bias(method, q, p, n=n, seed=seed + e + 64, floor=None, **options(method, b))
        rows.append((e, r, time.perf_counter() - t))
        clean = clean + 1 if not r.detected else 0
        if clean == 2:
            break
    q, p = fixed_kl(kl, kl + dinf_offset)
    floor = bias("ad*", q, p, n=n, seed=seed, floor=None)
    return method, kl, rows, floor


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kl", type=float, nargs="+", default=[2, 4, 8])
    ap.add_argument("--dinf-offset", type=float, default=4.0, help="D_inf = KL + this (bits)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--start", type=int, default=-2, help="first extra bits tried")
    ap.add_argument("--max-extra", type=int, default=12)
    ap.add_argument("--max-evals", type=float, default=2**16 * 100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="print every budget's measurement")
    a = ap.parse_args()
    kls = [int(k) if float(k).is_integer() else k for k in a.kl]
    tasks = [(m, k) for k in kls for m in METHODS]
    with ProcessPoolExecutor(a.jobs) as ex:
        futs = [ex.submit(scan, m, k, a.dinf_offset, a.n, a.start, a.max_extra, a.max_evals, a.seed)
                for m, k in tasks]
        results = [f.result() for f in futs]

    print(f"n = {a.n}, pair fixed_kl(KL, KL + {a.dinf_offset:g}) bits, P = N(0, 1); "
          "at floor = KS p >= 1e-3 at two consecutive budgets")
    if a.verbose:
        for method, kl, rows, floor in results:
            for row in rows:
                if row[1] is None:
                    print(f"  {method:5s} KL={kl} e={row[0]:+d}: skipped (n 2^K > --max-evals)")
                    continue
                e, r, dt = row
                print(f"  {method:5s} KL={kl} e={e:+d}: KS={r.ks:.4f} p={r.ks_pvalue:.2g} "
                      f"mean err {r.mean_rel_err:+.4f}+-{r.mean_se:.4f} var err {r.var_rel_err:+.4f}"
                      f"+-{r.var_se:.4f} steps {r.mean_steps:.1f} ({dt:.1f} s)")
    print(f"{'KL':>4} {'method':>6} {'extra bits':>10} {'code bits':>9} {'mean steps':>11} "
          f"{'KS there':>9} {'KS at e-1':>9} {'AD* KS':>7} {'KS crit':>7} {'AD* steps':>9}")
    for method, kl, rows, floor in results:
        done = [r for r in rows if r[1] is not None]
        at = None
        for i in range(len(done) - 1):
            if not done[i][1].detected and not done[i + 1][1].detected:
                at = i
                break
        if at is None:
            last = done[-1][0] if done else a.start
            print(f"{kl:>4} {method:>6} {'> ' + str(last):>10} {'':>9} {'':>11}")
            continue
        e, r, _ = done[at]
        before = f"{done[at - 1][1].ks:.4f}" if at > 0 else "-"
        print(f"{kl:>4} {method:>6} {e:>10d} {kl + e:>9} {r.mean_steps:>11.1f} {r.ks:>9.4f} "
              f"{before:>9} {floor.ks:>7.4f} {r.ks_critical:>7.4f} {floor.mean_steps:>9.1f}")


if __name__ == "__main__":
    main()
