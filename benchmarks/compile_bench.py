"""Compile-time benchmark (part of `make bench`; alone: `python benchmarks/compile_bench.py`).

How long Numba takes to compile the package's kernels, measured on a copy of the package in a
temporary directory with an empty cache (NUMBA_CACHE_DIR), so the checkout's own cache is left
alone:

1. cold: ``rec_bench.warmup()`` with an empty cache: every method's two entry points and the
   kernels they call, for the Gaussian pair (what ``make install`` does);
2. warm: the same again, everything loaded from the cache;
3. after an edit: a comment appended to one kernel module (``--edits``, default search/gprs.py and
   search/tree.py), then ``warmup()`` again: only what depends on the edited file is recompiled
   (rec_bench._cache), the rest is loaded.

Each step runs in a fresh interpreter; wall time and the CPU time of that process are printed.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARMUP = "import rec_bench, sys; assert rec_bench.__file__.startswith(sys.argv[1]), rec_bench.__file__; " \
         "rec_bench.warmup()"


def _run(copy, cache):
    env = dict(os.environ, PYTHONPATH=str(copy), NUMBA_CACHE_DIR=str(cache))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", WARMUP, str(copy)], env=env, check=True, cwd=copy)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", nargs="*", default=["search/gprs.py", "search/tree.py"],
                    help="kernel modules (relative to rec_bench/) to edit one after the other")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rec_bench-compile-") as tmp:
        copy, cache = Path(tmp) / "src", Path(tmp) / "cache"
        shutil.copytree(ROOT / "rec_bench", copy / "rec_bench", ignore=shutil.ignore_patterns("__pycache__"))
        load = os.getloadavg()[0]
        print(f"# rec_bench compile benchmark  (load average {load:.2f} on {os.cpu_count()} cores)")
        print(f"{'step':<44} {'wall s':>8} {'CPU s':>8}")
        rows = [("cold warmup (empty cache)", *_run(copy, cache))]
        rows.append(("warm warmup (all cached)", *_run(copy, cache)))
        for rel in args.edits:
            with open(copy / "rec_bench" / rel, "a") as f:
                f.write("\n# an edit (benchmarks/compile_bench.py)\n")
            rows.append((f"warmup after editing {rel}", *_run(copy, cache)))
        for what, wall, cpu in rows:
            print(f"{what:<44} {wall:>8.1f} {cpu:>8.1f}")


if __name__ == "__main__":
    main()
