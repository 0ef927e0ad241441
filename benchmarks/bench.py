"""rec_bench speed benchmark: `make bench` (or `python benchmarks/bench.py`).

In one run on one machine it measures

1. ns per step and us per message of every method through ``rec_bench.simulate`` at D_inf = 5, 10,
   20, 30, 50 bits with KL = 2 bits (Normal target against N(0, 1), ``rec_bench.fixed_kl``); RS and
   PFR only up to 20 bits (their cost is 2^D_inf); DAD* with depth 30, ORC and MRC with 2^12
   candidates. Median of several repeats after a warm-up call;
2. the plain-Python reference AS*/AD* (rec_bench.reference) on the same pairs and seeds, checked to
   take the same steps as the compiled search, and the speed ratio per message;
3. the cost of the primitives one step needs, each in a compiled loop (one inverse-CDF evaluation
   ndtri_exp, one log tail mass log_ndtr + log1mexp, one truncated Gumbel, one uniform draw, one
   heap push + pop), and ns per step as a multiple of their sum;
4. compile time with a cold cache (subprocess, NUMBA_CACHE_DIR = an empty directory) and start-up
   with the on-disk cache warm (subprocess: import rec_bench, then the first encode);
5. a study's wall time with 1 and 2 worker processes (joblib/loky, the same chunks of a simulate
   workload), and the throughput ratio.

Writes results/bench.parquet (long format: section, method, dinf_bits, metric, value, unit; JSON
metadata under the schema key ``rec_bench_bench``: machine, versions, date, load average) and
figures/bench.png, and prints a table. ``--quick`` shrinks every budget (for a smoke run).
"""

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import rec_bench as rb
from rec_bench.methods import EXPONENTIAL

ROOT = Path(__file__).resolve().parents[1]
KL_BITS = 2.0
DINFS = (5.0, 10.0, 20.0, 30.0, 50.0)
EXP_COST_MAX_DINF = 20.0  # RS and PFR: 2^D_inf steps per message
DAD_DEPTH = 30
LIST_BITS = 12
METHODS = tuple(rb.METHODS)  # every registered method

WARM_START_CODE = """
import time
t0 = time.perf_counter()
import rec_bench as rb
t1 = time.perf_counter()
rb.encode(rb.Normal(0.3, 0.8), rb.Normal(0.0, 1.0), "ad*", 0)
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""

COLD_COMPILE_CODE = """
import time
t0 = time.perf_counter()
import rec_bench as rb
t1 = time.perf_counter()
q, p = rb.fixed_kl(2.0, 10.0)
rb.encode(q, p, "ad*", 0)
t2 = time.perf_counter()
rb.simulate("ad*", q, p, [0, 1])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def method_options(method):
    m = rb.METHODS[method]
    if m.option is not None:
        return {m.option.name: {"depth": DAD_DEPTH, "bits": LIST_BITS}.get(m.option.name, m.option.default)}
    if m.runtime == EXPONENTIAL:
        return {"max_steps": 2**27}
    return {}


def median_time(fn, repeats):
    """(median wall time, median CPU time of this process, last result) over ``repeats`` calls.

    CPU time is what the code costs; wall time also counts the time other processes on the machine
    held the CPU. Both are recorded; per-step and per-message costs are quoted in CPU time.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        c = time.process_time()
        t = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return float(np.median(walls)), float(np.median(cpus)), out


# ---------------------------------------------------------------------------------------------
# 1. every method through simulate
# ---------------------------------------------------------------------------------------------
def bench_methods(cfg, rows):
    import rec_bench as rb

    print("\n== 1. compiled methods through rec_bench.simulate (KL = 2 bits, Normal vs N(0,1)) ==")
    print("   (CPU time of this process; wall time, which also counts other processes, in brackets)")
    print(f"{'method':7s} {'D_inf':>6s} {'msgs':>7s} {'steps/msg':>11s} {'ns/step':>9s} {'(wall)':>8s} "
          f"{'us/msg':>11s} {'(wall)':>11s}")
    for method in METHODS:
        opts = method_options(method)
        for d in DINFS:
            if rb.METHODS[method].runtime == EXPONENTIAL and d > EXP_COST_MAX_DINF:
                continue
            q, p = rb.fixed_kl(KL_BITS, d)
            # warm-up + pilot: how long does one message take?
            n0 = 2 if rb.METHODS[method].runtime == EXPONENTIAL and d >= 20 else 20
            rb.simulate(method, q, p, np.arange(n0), **opts)
            t0 = time.perf_counter()
            rb.simulate(method, q, p, np.arange(n0), **opts)
            per_msg = max((time.perf_counter() - t0) / n0, 1e-7)
            n = int(min(cfg.max_msgs, max(3, cfg.budget / per_msg)))
            seeds = np.arange(n)
            wall, cpu, df = median_time(lambda: rb.simulate(method, q, p, seeds, **opts), cfg.repeats)
            steps = int(df.steps.sum())
            ns_step, us_msg = cpu / steps * 1e9, cpu / n * 1e6
            ns_wall, us_wall = wall / steps * 1e9, wall / n * 1e6
            print(f"{method:7s} {d:6.0f} {n:7d} {steps / n:11.1f} {ns_step:9.1f} {ns_wall:8.1f} "
                  f"{us_msg:11.2f} {us_wall:11.2f}")
            base = dict(section="methods", method=method, dinf_bits=d, n_messages=n, repeats=cfg.repeats)
            rows.append(dict(base, metric="ns_per_step", value=ns_step, unit="ns"))
            rows.append(dict(base, metric="us_per_message", value=us_msg, unit="us"))
            rows.append(dict(base, metric="ns_per_step_wall", value=ns_wall, unit="ns"))
            rows.append(dict(base, metric="us_per_message_wall", value=us_wall, unit="us"))
            rows.append(dict(base, metric="steps_per_message", value=steps / n, unit="steps"))
            rows.append(dict(base, metric="censored_fraction", value=float(df.censored.mean()), unit="1"))


# ---------------------------------------------------------------------------------------------
# 1b. a user-defined target against the built-in one of the same shape
# ---------------------------------------------------------------------------------------------
def bench_custom(cfg, rows):
    """ns per step of rb.Custom(examples.normal) against the built-in Normal pair it equals: the
    cost of evaluating log r through a function pointer instead of inlined code."""
    import rec_bench as rb
    from rec_bench.pairs import examples

    print("\n== 1b. custom target (examples.normal via a function pointer) vs the same built-in Normal "
          "pair ==")
    print(f"{'method':7s} {'D_inf':>6s} {'msgs':>7s} {'built-in ns/step':>17s} {'custom ns/step':>15s} "
          f"{'ratio':>7s}")
    for method, d in (("as*", 10.0), ("as*", 30.0), ("ad*", 10.0), ("ad*", 30.0), ("pfr", 10.0)):
        q, p = rb.fixed_kl(KL_BITS, d)
        custom = rb.Custom(examples.normal, [float(q.loc), float(q.scale)])
        res = {}
        for kind, target in (("builtin", q), ("custom", custom)):
            rb.simulate(method, target, p, np.arange(20))
            t0 = time.perf_counter()
            rb.simulate(method, target, p, np.arange(20))
            n = int(min(cfg.max_msgs, max(3, cfg.budget / max((time.perf_counter() - t0) / 20, 1e-7))))
            seeds = np.arange(n)
            wall, cpu, df = median_time(lambda: rb.simulate(method, target, p, seeds), cfg.repeats)
            res[kind] = cpu / int(df.steps.sum()) * 1e9
            base = dict(section="custom", method=method, dinf_bits=d, n_messages=n, repeats=cfg.repeats)
            rows.append(dict(base, metric=f"ns_per_step_{kind}", value=res[kind], unit="ns"))
        print(f"{method:7s} {d:6.0f} {n:7d} {res['builtin']:17.1f} {res['custom']:15.1f} "
              f"{res['custom'] / res['builtin']:7.2f}")


# ---------------------------------------------------------------------------------------------
# 2. plain-Python reference against the compiled search
# ---------------------------------------------------------------------------------------------
def bench_reference(cfg, rows):
    import rec_bench as rb
    from rec_bench import reference as R
    from rec_bench.pairs import resolve

    print("\n== 2. plain-Python reference (math + heapq, pure-Python special functions) vs compiled ==")
    print("   (CPU times; the same pair and seeds; speed-up = reference / compiled per message)")
    print(f"{'method':7s} {'D_inf':>6s} {'msgs':>5s} {'ref us/msg':>11s} {'ref ns/step':>12s} "
          f"{'compiled us/msg':>16s} {'speed-up':>9s} {'(wall)':>9s}")
    for method in ("as*", "ad*"):
        rule = R.AS if method == "as*" else R.AD
        for d in DINFS:
            q, p = rb.fixed_kl(KL_BITS, d)
            pair = resolve(q, p)  # set-up once per pair, as a researcher would: not timed per message
            fam, prm = pair.family, pair.params[0].tolist()
            t0 = time.perf_counter()
            for s in range(5):  # warm-up and pilot
                R.search(fam, prm, s, rule)
            per_msg = (time.perf_counter() - t0) / 5
            n = int(min(5000, max(10, cfg.ref_budget / per_msg)))
            seeds = np.arange(n)

            def run_ref():
                return [R.search(fam, prm, int(s), rule) for s in seeds]

            # the compiled search on the same pair and the same seeds, tiled so that simulate's fixed
            # per-call cost (DataFrame, broadcasting) is amortised as it is in a study
            k = max(1, cfg.ref_tile // n)
            tiled = np.tile(seeds, k)
            rb.simulate(method, q, p, seeds)
            t_ref, t_cmp, w_ref, w_cmp = [], [], [], []
            for _ in range(cfg.repeats):  # interleaved, so that both see the same machine load
                w, c, ref = median_time(run_ref, 1)
                t_ref.append(c)
                w_ref.append(w)
                w, c, df = median_time(lambda: rb.simulate(method, q, p, tiled), 1)
                t_cmp.append(c / k)
                w_cmp.append(w / k)
            t_ref, t_cmp = float(np.median(t_ref)), float(np.median(t_cmp))
            wall_ratio = float(np.median(w_ref) / np.median(w_cmp))
            df = df.iloc[:n]
            ref_steps = np.array([r[1] for r in ref])
            same = bool(np.array_equal(ref_steps, df.steps.to_numpy()))
            steps = int(ref_steps.sum())
            ratio = t_ref / t_cmp
            print(f"{method:7s} {d:6.0f} {n:5d} {t_ref / n * 1e6:11.1f} {t_ref / steps * 1e9:12.0f} "
                  f"{t_cmp / n * 1e6:16.2f} {ratio:8.0f}x {wall_ratio:8.0f}x"
                  + ("" if same else "  STEPS DIFFER"))
            base = dict(section="reference", method=method, dinf_bits=d, n_messages=n, repeats=cfg.repeats)
            rows.append(dict(base, metric="reference_us_per_message", value=t_ref / n * 1e6, unit="us"))
            rows.append(dict(base, metric="reference_ns_per_step", value=t_ref / steps * 1e9, unit="ns"))
            rows.append(dict(base, metric="compiled_us_per_message", value=t_cmp / n * 1e6, unit="us"))
            rows.append(dict(base, metric="speedup_per_message", value=ratio, unit="x"))
            rows.append(dict(base, metric="speedup_per_message_wall", value=wall_ratio, unit="x"))
            rows.append(dict(base, metric="same_steps_as_compiled", value=float(same), unit="bool"))


# ---------------------------------------------------------------------------------------------
# 3. primitives, each in a compiled loop
# ---------------------------------------------------------------------------------------------
def _primitive_kernels():
    from numba import njit

    from rec_bench import randomness as rnd
    from rec_bench._math import log1mexp, truncated_gumbel
    from rec_bench.special import log_ndtr, ndtri_exp

    # the binary max-heap the search writes out inline in its step loop, as two small kernels
    @njit(inline="always")
    def _heap_push(hb, hn, size, bound, node):
        i = size
        while i > 0:
            parent = (i - 1) >> 1
            if hb[parent] >= bound:
                break
            hb[i] = hb[parent]
            hn[i] = hn[parent]
            i = parent
        hb[i] = bound
        hn[i] = node
        return size + 1

    @njit(inline="always")
    def _heap_pop(hb, hn, size):
        size -= 1
        bound, node = hb[size], hn[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and hb[child + 1] > hb[child]:
                child += 1
            if hb[child] <= bound:
                break
            hb[i] = hb[child]
            hn[i] = hn[child]
            i = child
        hb[i] = bound
        hn[i] = node
        return size

    @njit
    def k_ndtri_exp(ys, zs, us, gs, keys):
        s = 0.0
        for i in range(ys.shape[0]):
            s += ndtri_exp(ys[i])
        return s

    @njit
    def k_tail(ys, zs, us, gs, keys):
        s = 0.0
        for i in range(zs.shape[0]):
            s += log1mexp(log_ndtr(zs[i]))
        return s

    @njit
    def k_gumbel(ys, zs, us, gs, keys):
        s = 0.0
        for i in range(us.shape[0]):
            s += truncated_gumbel(ys[i], gs[i], -math.log(us[i]))
        return s

    @njit
    def k_uniform(ys, zs, us, gs, keys):
        s = 0.0
        for i in range(keys.shape[0]):
            s += rnd.uniform(keys[i], rnd.LOCATION)
        return s

    @njit
    def k_heap(ys, zs, us, gs, keys):
        hb = np.empty(64)
        hn = np.empty(64, np.int64)
        size = 0
        for i in range(32):  # a heap of typical size for D_inf ~ 30 bits
            size = _heap_push(hb, hn, size, gs[i], i)
        s = 0.0
        for i in range(gs.shape[0]):
            size = _heap_push(hb, hn, size, gs[i], i)
            s += hb[0]
            size = _heap_pop(hb, hn, size)
        return s

    @njit
    def k_empty(ys, zs, us, gs, keys):  # the loop itself: reading the inputs
        s = 0.0
        for i in range(ys.shape[0]):
            s += ys[i]
        return s

    return {
        "inverse CDF (ndtri_exp)": k_ndtri_exp,
        "log tail mass (log_ndtr + log1mexp)": k_tail,
        "truncated Gumbel (-log u, exp, log)": k_gumbel,
        "uniform draw (SplitMix64)": k_uniform,
        "heap push + pop (32 nodes)": k_heap,
        "empty loop": k_empty,
    }


def bench_primitives(cfg, rows, step_ns):
    print("\n== 3. per-step primitives, each in a compiled loop ==")
    rng = np.random.default_rng(0)
    n = cfg.prim_n
    args = (
        -rng.uniform(0.7, 30.0, n),  # log-CDF values a search inverts (lower half, D_inf <= 40 bits)
        rng.uniform(-8.0, 0.0, n),
        rng.uniform(size=n),
        rng.normal(size=n),
        rng.integers(0, 2**63, n).astype(np.uint64),
    )
    costs = {}
    for name, k in _primitive_kernels().items():
        k(*(a[:10] for a in args))
        _, t, _ = median_time(lambda: k(*args), cfg.repeats + 2)
        costs[name] = t / n * 1e9
        print(f"  {name:42s} {costs[name]:7.1f} ns")
        rows.append(dict(section="primitives", method=name, dinf_bits=math.nan, n_messages=n,
                         repeats=cfg.repeats + 2, metric="ns_per_call", value=costs[name], unit="ns"))
    floor = sum(v for k, v in costs.items() if k != "empty loop")
    print(f"  {'sum of the five primitives':42s} {floor:7.1f} ns")
    rows.append(dict(section="primitives", method="sum", dinf_bits=math.nan, n_messages=n,
                     repeats=cfg.repeats + 2, metric="ns_per_call", value=floor, unit="ns"))
    for (method, d), ns in sorted(step_ns.items()):
        mult = ns / floor
        print(f"  {method} at D_inf = {d:.0f} bits: {ns:.1f} ns/step = {mult:.2f} x the sum")
        rows.append(dict(section="primitives", method=method, dinf_bits=d, n_messages=math.nan,
                         repeats=cfg.repeats, metric="step_over_primitive_sum", value=mult, unit="x"))
    return floor


# ---------------------------------------------------------------------------------------------
# 4. compile time (cold cache) and start-up (warm cache)
# ---------------------------------------------------------------------------------------------
def _python(code, env=None, timeout=600):
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=timeout, check=True)
    wall = time.perf_counter() - t
    return wall, [float(x) for x in out.stdout.split()]


def bench_startup(cfg, rows):
    print("\n== 4. compile time (cold cache) and start-up (warm on-disk cache), in subprocesses ==")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="rec_bench_numba_cache_") as cache:
        env["NUMBA_CACHE_DIR"] = cache
        wall, (imp, enc, sim) = _python(COLD_COMPILE_CODE, env)
    print(f"  cold cache: process {wall:6.2f} s = import {imp:.2f} s + first encode (compiles the search) "
          f"{enc:.2f} s + first simulate (compiles the batch loop) {sim:.2f} s")
    base = dict(section="startup", method="ad*", dinf_bits=math.nan, n_messages=1, repeats=1)
    rows.append(dict(base, metric="cold_process_s", value=wall, unit="s"))
    rows.append(dict(base, metric="cold_import_s", value=imp, unit="s"))
    rows.append(dict(base, metric="cold_first_encode_s", value=enc, unit="s"))
    rows.append(dict(base, metric="cold_first_simulate_s", value=sim, unit="s"))

    _python(WARM_START_CODE)  # make sure the default cache is warm
    walls, imps, encs = [], [], []
    for _ in range(cfg.startup_repeats):
        wall, (imp, enc) = _python(WARM_START_CODE)
        walls.append(wall)
        imps.append(imp)
        encs.append(enc)
    wall, imp, enc = (float(np.median(v)) for v in (walls, imps, encs))
    print(f"  warm cache (median of {cfg.startup_repeats}): import + first encode {imp + enc:.2f} s "
          f"(import {imp:.2f} s, first encode {enc:.2f} s); whole process {wall:.2f} s")
    base = dict(section="startup", method="ad*", dinf_bits=math.nan, n_messages=1,
                repeats=cfg.startup_repeats)
    rows.append(dict(base, metric="warm_import_plus_first_encode_s", value=imp + enc, unit="s"))
    rows.append(dict(base, metric="warm_import_s", value=imp, unit="s"))
    rows.append(dict(base, metric="warm_first_encode_s", value=enc, unit="s"))
    rows.append(dict(base, metric="warm_process_s", value=wall, unit="s"))
    return imp + enc


# ---------------------------------------------------------------------------------------------
# 5. a study with 1 and 2 worker processes
# ---------------------------------------------------------------------------------------------
def study_chunk(method, dinf, start, n):
    """One chunk of a study: n messages, summarised (a study keeps aggregates, not rows)."""
    import rec_bench as rb

    c, t = time.process_time(), time.perf_counter()
    q, p = rb.fixed_kl(KL_BITS, dinf)
    df = rb.simulate(method, q, p, np.arange(start, start + n))
    cpu, wall = time.process_time() - c, time.perf_counter() - t
    return int(df.steps.sum()), float(df.nbits.astype(float).sum()), n, cpu, wall


def bench_workers(cfg, rows):
    from joblib import Parallel, delayed

    print("\n== 5. a study (AD* at D_inf = 30 bits) with 1 and 2 worker processes (joblib/loky) ==")
    method, d = "ad*", 30.0
    chunk = cfg.study_chunk
    # size the study so that one process needs about cfg.study_seconds
    study_chunk(method, d, 0, 1000)
    t0 = time.perf_counter()
    study_chunk(method, d, 0, chunk)
    per_chunk = time.perf_counter() - t0
    nchunks = max(4, 2 * math.ceil(cfg.study_seconds / per_chunk / 2))
    jobs = [delayed(study_chunk)(method, d, i * chunk, chunk) for i in range(nchunks)]
    result, share, cpu = {}, {}, {}
    for workers in (1, 2):
        with Parallel(n_jobs=workers, backend="loky") as par:
            par(delayed(study_chunk)(method, d, 0, 100) for _ in range(2 * workers))  # start + warm workers
            t = time.perf_counter()
            out = par(jobs)
            result[workers] = time.perf_counter() - t
        assert sum(o[2] for o in out) == nchunks * chunk
        # the share of a CPU each worker actually got while it ran its chunks (1 on an idle machine)
        share[workers] = sum(o[3] for o in out) / sum(o[4] for o in out)
        cpu[workers] = sum(o[3] for o in out)
    n = nchunks * chunk
    ratio = result[1] / result[2]
    print(f"  {n} messages in {nchunks} chunks: 1 worker {result[1]:.2f} s "
          f"({n / result[1]:,.0f} msg/s), 2 workers {result[2]:.2f} s ({n / result[2]:,.0f} msg/s); "
          f"throughput ratio {ratio:.2f}")
    print(f"  CPU share per worker while running chunks: 1 worker {share[1]:.2f}, 2 workers {share[2]:.2f} "
          f"(1.00 = a whole CPU; less means other processes held the CPUs)")
    n_msgs = nchunks * chunk
    projected = 2 * cpu[1] / cpu[2]
    print(f"  CPU time per message: 1 worker {cpu[1] / n_msgs * 1e6:.2f} us, "
          f"2 workers {cpu[2] / n_msgs * 1e6:.2f} us; "
          f"with two otherwise idle CPUs that projects to a ratio of {projected:.2f} (a projection, not the "
          "measurement above)")
    for workers in (1, 2):
        base = dict(section="workers", method=method, dinf_bits=d, n_messages=n, repeats=1)
        rows.append(dict(base, metric=f"wall_s_{workers}_workers", value=result[workers], unit="s"))
        rows.append(dict(base, metric=f"cpu_share_{workers}_workers", value=share[workers], unit="1"))
    rows.append(dict(section="workers", method=method, dinf_bits=d, n_messages=n, repeats=1,
                     metric="throughput_ratio_2_vs_1", value=ratio, unit="x"))
    rows.append(dict(section="workers", method=method, dinf_bits=d, n_messages=n, repeats=1,
                     metric="projected_ratio_idle_cpus", value=projected, unit="x"))
    return ratio


# ---------------------------------------------------------------------------------------------
def metadata(cfg, started):
    import numba
    import scipy

    import rec_bench

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": (dt.datetime.now(dt.timezone.utc) - started).total_seconds(),
        "machine": platform.machine(), "cpu": cpu, "cpus": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__, "scipy": scipy.__version__,
        "rec_bench": rec_bench.__version__, "git_commit": commit,
        "load_average_at_end": list(os.getloadavg()),
        "kl_bits": KL_BITS, "dad_depth": DAD_DEPTH, "list_bits": LIST_BITS,
        "config": vars(cfg),
    }


def write_parquet(df, meta, path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    md = dict(table.schema.metadata or {})
    md[b"rec_bench_bench"] = json.dumps(meta).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(md), path)


def plot(df, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    m = df[df.section == "methods"]
    for ax, metric, label in ((axes[0, 0], "ns_per_step", "ns per step"),
                              (axes[0, 1], "us_per_message", "us per message")):
        for method, g in m[m.metric == metric].groupby("method", sort=False):
            ax.plot(g.dinf_bits, g.value, "o-", label=method)
        if metric == "us_per_message":
            r = df[(df.section == "reference") & (df.metric == "reference_us_per_message")]
            for method, g in r.groupby("method", sort=False):
                ax.plot(g.dinf_bits, g.value, "s--", label=f"{method} plain Python")
        ax.set_yscale("log")
        ax.set_xlabel("D_inf (bits), KL = 2 bits")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    axes[0, 0].set_title("compiled, through rec_bench.simulate")
    axes[0, 1].set_title("per message (plain-Python reference dashed)")

    ax = axes[1, 0]
    p = df[(df.section == "primitives") & (df.metric == "ns_per_call") & (df.method != "empty loop")]
    s = df[(df.section == "methods") & (df.metric == "ns_per_step") & (df.dinf_bits == 30.0)
           & df.method.isin(["as*", "ad*"])]
    names = list(p.method) + [f"{x} step (D_inf 30)" for x in s.method]
    vals = list(p.value) + list(s.value)
    colors = ["C0"] * (len(p) - 1) + ["C1"] + ["C3"] * len(s)
    ax.barh(names, vals, color=colors)
    ax.set_xlabel("ns")
    ax.set_title("per-step primitives (compiled loops) vs one search step")
    ax.tick_params(axis="y", labelsize=8)

    ax = axes[1, 1]
    st = df[df.section == "startup"].set_index("metric").value
    wk = df[df.section == "workers"].set_index("metric").value
    labels = ["cold cache:\nimport + compile", "warm cache:\nimport + 1st encode", "study,\n1 worker",
              "study,\n2 workers"]
    cold = st.get("cold_import_s", 0) + st.get("cold_first_encode_s", 0) + st.get("cold_first_simulate_s", 0)
    vals = [cold, st.get("warm_import_plus_first_encode_s", 0), wk.get("wall_s_1_workers", 0),
            wk.get("wall_s_2_workers", 0)]
    ax.bar(labels, vals, color=["C7", "C2", "C0", "C1"])
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.2f} s", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("seconds")
    ratio = wk.get("throughput_ratio_2_vs_1", float("nan"))
    ax.set_title(f"start-up and a study (2 vs 1 workers: {ratio:.2f}x)")
    ax.tick_params(axis="x", labelsize=8)
    fig.suptitle("rec_bench: make bench (CPU times; see results/bench.parquet metadata for machine and load)",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny budgets: a smoke run, not a measurement")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench.parquet"))
    ap.add_argument("--figure", default=str(ROOT / "figures" / "bench.png"))
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: methods,custom,reference,"
                    "primitives,startup,workers")
    ap.add_argument("--replot", action="store_true", help="only redraw the figure from --out")
    args = ap.parse_args(argv)
    if args.replot:
        import pandas as pd

        plot(pd.read_parquet(args.out), Path(args.figure))
        return
    cfg = argparse.Namespace(
        # 9 repeats of about a second: with 5 repeats of a quarter second the median of one
        # (method, D_inf) moved by 10% between runs on this machine
        repeats=3 if args.quick else 9,
        budget=0.02 if args.quick else 1.0,  # seconds per timed repeat of one (method, D_inf)
        max_msgs=2000 if args.quick else 200_000,
        ref_budget=0.05 if args.quick else 0.4,  # seconds of plain Python per repeat
        ref_tile=2_000 if args.quick else 20_000,
        prim_n=100_000 if args.quick else 2_000_000,
        startup_repeats=2 if args.quick else 5,
        study_seconds=1.0 if args.quick else 12.0,
        study_chunk=5_000 if args.quick else 50_000,
    )
    skip = set(filter(None, args.skip.split(",")))
    started = dt.datetime.now(dt.timezone.utc)
    import pandas as pd

    import rec_bench as rb

    rb.warmup()
    rows = []
    print(f"rec_bench benchmark, {started:%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    def stamp():  # the 1-minute load average after each section: other processes slow every number
        for r in rows:
            r.setdefault("load1", os.getloadavg()[0])

    if "methods" not in skip:
        bench_methods(cfg, rows)
        stamp()
    if "custom" not in skip:
        bench_custom(cfg, rows)
        stamp()
    if "reference" not in skip:
        bench_reference(cfg, rows)
        stamp()
    step_ns = {(r["method"], r["dinf_bits"]): r["value"] for r in rows
               if r["section"] == "methods" and r["metric"] == "ns_per_step"
               and r["method"] in ("as*", "ad*") and r["dinf_bits"] == 30.0}
    if "primitives" not in skip:
        bench_primitives(cfg, rows, step_ns)
        stamp()
    warm = bench_startup(cfg, rows) if "startup" not in skip else math.nan
    stamp()
    ratio = bench_workers(cfg, rows) if "workers" not in skip else math.nan
    stamp()

    df = pd.DataFrame(rows)
    meta = metadata(cfg, started)
    write_parquet(df, meta, Path(args.out))
    plot(df, Path(args.figure))

    print("\n== targets (issue 5) ==")

    def check(label, value, ok):
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}: {value}")

    for method in ("as*", "ad*"):
        ns = step_ns.get((method, 30.0), math.nan)
        check(f"{method} at D_inf = 30 bits <= 150 ns/step", f"{ns:.1f} ns", ns <= 150)
        sp = df[(df.section == "reference") & (df.method == method) & (df.dinf_bits == 30.0)
                & (df.metric == "speedup_per_message")].value
        sp = float(sp.iloc[0]) if len(sp) else math.nan
        check(f"{method} at D_inf = 30 bits >= 25x faster per message than plain Python", f"{sp:.0f}x",
              sp >= 25)
    check("warm start (import + first encode) < 1.5 s", f"{warm:.2f} s", warm < 1.5)
    check("2 workers >= 1.7x the throughput of 1", f"{ratio:.2f}x", ratio >= 1.7)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (other processes on the machine slow "
          "every number here)")
    print(f"wrote {args.out} and {args.figure} in {meta['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
