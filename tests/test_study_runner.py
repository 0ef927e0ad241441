"""Study runner: same rows whatever the backend, resume after interruption, provenance, censoring."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_bench.results import read_results, shard_dir
from rec_bench.results.summary import cell_stats, censoring_onset
from rec_bench.study import run_study

REPO = Path(__file__).resolve().parents[1]

SMALL = """
name: small
seed: 11
output: {out}
repetitions: 30
chunk: 10
pairs:
  - {{construction: fixed_kl, kl: 2, dinf: [3, 12]}}
  - {{construction: gaussian_channel, info: [1, 4]}}
  - {{construction: explicit, family: Laplace/Laplace, target: {{loc: [1.0, 3.0], scale: 0.5}},
      proposal: {{loc: 0, scale: 1}}}}
methods:
  - as*
  - ad*
  - {{name: rs, repetitions: 12, max_steps: 300}}
  - {{name: dad*, extra_bits: [1, 3]}}
  - {{name: orc, bits: 3}}
plots:
  - {{kind: runtime_vs_dinf}}
"""


def _spec(tmp_path, name="small.yaml", text=SMALL, out="out.parquet"):
    f = tmp_path / name
    f.write_text(text.format(out=tmp_path / out))
    return f


def _rows(path):
    df, _ = read_results(path)
    return df.drop(columns=["cell_seconds"])


def _quiet(*a, **k):
    pass


def test_same_rows_for_jobs_1_jobs_2_and_dask(tmp_path):
    spec = _spec(tmp_path)
    a = run_study(spec, out=tmp_path / "j1.parquet", jobs=1, progress=False, log=_quiet)
    b = run_study(spec, out=tmp_path / "j2.parquet", jobs=2, progress=False, log=_quiet)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        c = run_study(spec, out=tmp_path / "dask.parquet", scheduler=cluster.scheduler_address,
                      progress=False, log=_quiet)
    ra, rb, rc = _rows(a), _rows(b), _rows(c)
    n_cells = 6 * 6  # 6 pairs x (as*, ad*, rs, dad* x 2, orc)
    assert ra["study_cell"].nunique() == n_cells
    assert len(ra) == 6 * (30 * 5 + 12)
    pd.testing.assert_frame_equal(ra, rb)
    pd.testing.assert_frame_equal(ra, rc)
    # rows are sorted canonically and carry the cell parameters
    assert ra[["cell_index", "rep"]].equals(ra[["cell_index", "rep"]].sort_values(["cell_index", "rep"]))
    dad = ra[ra["method"] == "dad*"]
    assert (dad["code_bits"] == dad["depth"] + 1).all() and (dad["nbits"] == dad["code_bits"]).all()


def test_interrupted_run_resumes_with_every_row_once(tmp_path):
    spec = _spec(tmp_path)
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        run_study(spec, jobs=1, progress=False, stop_after_cells=4, log=_quiet)
    assert not out.exists()
    assert len(list(shard_dir(out).glob("*.parquet"))) == 4
    msgs = []
    run_study(spec, jobs=1, progress=False, log=msgs.append)
    assert "(4 already done)" in msgs[0]
    df = _rows(out)
    assert not df.duplicated(["study_cell", "rep"]).any()
    assert len(df) == 6 * (30 * 5 + 12)
    assert not shard_dir(out).exists()
    full = run_study(spec, out=tmp_path / "ref.parquet", jobs=1, progress=False, log=_quiet)
    pd.testing.assert_frame_equal(df, _rows(full))
    # a rerun reuses every cell of the finished output; --fresh starts over
    msgs = []
    run_study(spec, jobs=1, progress=False, log=msgs.append)
    assert "36 cells (36 already done)" in msgs[0]
    msgs = []
    run_study(spec, jobs=1, progress=False, fresh=True, log=msgs.append)
    assert "(0 already done)" in msgs[0]
    pd.testing.assert_frame_equal(_rows(out), df)


KILL = """
name: kill
seed: 5
output: {out}
repetitions: 30
pairs: {{construction: fixed_kl, kl: 2, dinf: [3, 4, 5, 15, 16, 17, 18]}}
methods: [as*, {{name: pfr, max_steps: 262144}}]
"""


def test_run_killed_with_sigkill_resumes_exactly_once(tmp_path):
    spec = _spec(tmp_path, "kill.yaml", KILL)
    out = tmp_path / "out.parquet"
    cmd = [sys.executable, "-m", "rec_bench.cli", "run", str(spec), "--jobs", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shards = shard_dir(out)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if shards.is_dir() and len(list(shards.glob("*.parquet"))) >= 3:
            break
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not out.exists()
        done = len(list(shards.glob("*.parquet")))
        assert 3 <= done < 14
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    df = _rows(out)
    assert len(df) == 14 * 30 and not df.duplicated(["study_cell", "rep"]).any()
    ref = run_study(spec, out=tmp_path / "ref.parquet", jobs=1, progress=False, log=_quiet)
    pd.testing.assert_frame_equal(df, _rows(ref))
    assert killed, "the run finished before it could be killed; make the spec heavier"


def test_provenance_is_present_and_true(tmp_path, capsys):
    spec = _spec(tmp_path)
    out = run_study(spec, jobs=1, progress=False, log=_quiet)
    _, meta = read_results(out)
    assert meta["spec_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert meta["spec_text"] == spec.read_text()
    assert meta["spec"]["name"] == "small"
    import rec_bench

    assert meta["rec_bench_version"] == rec_bench.__version__
    for lib in ("numba", "numpy", "scipy", "pandas", "pyarrow"):
        mod = __import__(lib)
        assert meta["versions"][lib] == mod.__version__
    assert meta["start_time"] <= meta["end_time"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode == 0:
        assert meta["git_commit"] == head.stdout.strip()
        assert isinstance(meta["git_dirty"], bool)
    # the CLI shows it
    from rec_bench.cli import main

    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert meta["spec_sha256"] in text and meta["git_commit"] in text and "fit as*" in text


CENSOR = """
name: censor
seed: 3
output: {out}
repetitions: 60
pairs: {{construction: fixed_kl, kl: 2, dinf: [3, 6, 10, 14]}}
methods:
  - as*
  - {{name: rs, max_steps: 64}}
  - {{name: pfr, max_steps: 200000, time_budget: 0.02, chunk: 60}}
plots: [{{kind: runtime_vs_dinf}}]
"""


def test_censored_rows_are_kept_counted_and_plotted(tmp_path):
    spec = _spec(tmp_path, "censor.yaml", CENSOR)
    out = run_study(spec, jobs=1, progress=False, log=_quiet)
    df, _ = read_results(out)
    assert df.groupby("study_cell").size().eq(60).all()  # nothing dropped
    rs = df[df["method"] == "rs"]
    steps_cens = rs["censored"]
    assert steps_cens.sum() > 0 and (rs.loc[steps_cens, "censor"] == "steps").all()
    assert rs.loc[steps_cens, "nbits"].isna().all() and rs.loc[steps_cens, "sample"].isna().all()
    assert (rs.loc[steps_cens, "steps"] == 64).all()
    assert rs.loc[~steps_cens, "nbits"].notna().all()
    # PFR at D_inf = 14 bits needs ~16k steps per message: a 20 ms cell budget cannot finish 60
    pfr = df[(df["method"] == "pfr") & (df["grid_dinf"] == 14)]
    timed = pfr["censor"] == "time"
    assert timed.sum() > 0 and pfr.loc[timed, "censored"].all() and (pfr.loc[timed, "steps"] == 0).all()
    st = cell_stats(df, "steps")
    rs_st = st[st["method"] == "rs"].set_index("grid_dinf")
    counted = rs.groupby("grid_dinf")["censored"].mean()
    np.testing.assert_allclose(rs_st["censored"].sort_index(), counted.sort_index())
    assert censoring_onset(st, "rs", "grid_dinf") == counted[counted > 0].index.min()
    assert (st.loc[st["method"] == "as*", "censored"] == 0).all()
    # the figure draws them: hollow markers at the censored cells and a censored-fraction panel
    from rec_bench.plots import load_all

    fig = load_all()["runtime_vs_dinf"](df)
    ax_log, ax_cens = fig.axes[1], fig.axes[2]
    hollow = [ln for ln in ax_log.lines if ln.get_markerfacecolor() == "none" and len(ln.get_xdata())]
    assert {float(x) for ln in hollow for x in ln.get_xdata()} >= set(counted[counted > 0].index)
    fractions = {round(float(y), 6) for ln in ax_cens.lines for y in ln.get_ydata()}
    assert {round(100 * f, 6) for f in counted} <= fractions
    from rec_bench.plots import plot_results

    paths = plot_results(out, tmp_path / "figs", log=_quiet)
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size > 0 for p in paths)
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_cli_list_names_methods_families_and_constructions(capsys):
    from rec_bench.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("as*", "dad*", "orc", "Laplace/Laplace", "Triangular/Uniform", "fixed_kl",
                 "gaussian_channel",
                 "explicit", "runtime_vs_dinf"):
        assert word in out


def test_git_dirty_means_code_not_outputs(tmp_path):
    """A study rewrites results/ and figures/; only other tracked changes make a run dirty."""
    import subprocess

    from rec_bench.results.provenance import git_state

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for name in ("code.py", "results/r.parquet", "figures/f.png"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("v1")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    assert git_state(tmp_path)[1] is False
    (tmp_path / "results/r.parquet").write_text("v2")
    (tmp_path / "figures/f.png").write_text("v2")
    assert git_state(tmp_path)[1] is False
    (tmp_path / "code.py").write_text("v2")
    assert git_state(tmp_path)[1] is True


HEAVY = """
name: heavy
seed: 18
output: {out}
repetitions: 200
chunk: 20
pairs: {{construction: fixed_kl, kl: 2, dinf: [6, 12, 20]}}
methods:
  - as*
  - {{name: gprs-global, max_steps: 512}}
  - {{name: rs, repetitions: 40, max_steps: 2048, chunk: 10}}
"""


def test_heavy_tailed_rows_do_not_depend_on_jobs_backend_or_the_clock(tmp_path, monkeypatch):
    """Same spec + seed -> the same rows, for a spec with a heavy-tailed method (global GPRS: median
    2-3 steps, mean 2^D_inf) whose messages the step budget censors: with 1 or 2 worker processes,
    on Dask, and on a machine so loaded that every clock reading is 100 s after the last. A message's
    fate is decided by its step budget alone; a time budget is what would make it depend on the clock."""
    from rec_bench.study import runner

    spec = _spec(tmp_path, "heavy.yaml", HEAVY)
    ref = _rows(run_study(spec, out=tmp_path / "j1.parquet", jobs=1, progress=False, log=_quiet))
    glob = ref[ref["method"] == "gprs-global"]
    assert glob["censored"].any() and (glob["steps"].median() <= 4)  # heavy tail, cut by steps
    assert set(ref.loc[ref["censored"], "censor"]) == {"steps"}
    pd.testing.assert_frame_equal(ref, _rows(run_study(spec, out=tmp_path / "j2.parquet", jobs=2,
                                                       progress=False,
                                                       log=_quiet)))
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        pd.testing.assert_frame_equal(ref, _rows(run_study(spec, out=tmp_path / "dask.parquet",
                                                           scheduler=cluster.scheduler_address,
                                                           progress=False, log=_quiet)))
    clock = iter(range(0, 10**9, 100))  # a very slow machine: 100 s between any two readings
    monkeypatch.setattr(runner.time, "perf_counter", lambda: float(next(clock)))
    slow = run_study(spec, out=tmp_path / "slow.parquet", jobs=1, progress=False, log=_quiet)
    pd.testing.assert_frame_equal(ref, _rows(slow))
    # the same slow clock with a time budget: messages are censored by time, so rows change
    timed = _spec(tmp_path, "timed.yaml", HEAVY.replace("chunk: 20", "chunk: 20\ntime_budget: 50"),
                  "timed.parquet")
    msgs = []
    df = _rows(run_study(timed, jobs=1, progress=False, log=msgs.append))
    assert (df["censor"] == "time").any()
    assert any("not reproducible" in m for m in msgs) and any("by the time budget" in m for m in msgs)
