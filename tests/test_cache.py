"""Numba's on-disk cache follows the sources (rec_bench._cache): a method's compiled entry points
(rec_bench.coding.kernels) bind its record's runner and decoder, so an edit of the record in
methods.py must reach them. Run on a copy of the package with its cache, in subprocesses."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rec_bench as rb

ROOT = Path(rb.__file__).resolve().parent

ROUND_TRIPS = """
import rec_bench as rb, sys
assert rb.__file__.startswith(sys.argv[1]), rb.__file__
q, p = rb.Normal(0.8, 0.45), rb.Normal(0.2, 1.3)
codes = [rb.encode(q, p, "as*", s) for s in range(50)]
print(sum(rb.decode(c.bits, p, "as*", s) != c.sample for s, c in enumerate(codes)))
"""

# an edit of the record alone: AS* given AD*'s decoder (which walks a path by medians, not by the
# region's samples), so that most of AS*'s codes no longer decode to their samples
EDIT = """

# an edit of AS*'s record (tests/test_cache.py)
object.__setattr__(METHODS["as*"], "decoder", tree.tree_decoder(tree.SPLIT_AT_MEDIAN))
"""


def _mismatches(copy):
    env = dict(os.environ, PYTHONPATH=str(copy.parent))
    out = subprocess.run([sys.executable, "-c", ROUND_TRIPS, str(copy)], env=env, capture_output=True,
                         text=True, timeout=600, cwd=copy.parent)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.split()[-1])


@pytest.mark.slow
def test_an_edit_of_a_method_record_reaches_its_compiled_entry_points(tmp_path):
    copy = tmp_path / "rec_bench"
    shutil.copytree(ROOT, copy)  # with its cache (modification times kept, so the cache stays valid)
    assert _mismatches(copy) == 0
    with open(copy / "methods.py", "a") as f:
        f.write(EDIT)
    assert _mismatches(copy) > 0  # the new decoder runs
