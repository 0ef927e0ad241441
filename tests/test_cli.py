"""The rec-bench command line: every mistake ends with one `error:` line on stderr and a non-zero exit
status, never a traceback; `--version`; `rec-bench figures` draws what its data allow and skips the rest."""

import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import rec_bench

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reference"


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "rec_bench.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=180, cwd=cwd)


def one_error(r, *words, status=1):
    assert r.returncode == status, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


SPEC = """
name: tiny
seed: 1
output: {out}
repetitions: 5
pairs: {{construction: fixed_kl, kl: 2, dinf: [3, 4]}}
methods: [as*]
"""


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"rec-bench {rec_bench.__version__}"
    from importlib.metadata import version

    assert rec_bench.__version__ == version("rec_bench")


def test_missing_results_file(tmp_path):
    one_error(cli("info", tmp_path / "nope.parquet"), "nope.parquet: no such file")
    one_error(cli("plot", tmp_path / "nope.parquet"), "nope.parquet: no such file")
    one_error(cli("info", tmp_path), "is a directory, not a parquet file")


def test_results_file_that_is_not_parquet(tmp_path):
    f = tmp_path / "text.parquet"
    f.write_text("name: not a table\n")
    one_error(cli("info", f), "text.parquet: not a readable parquet file")
    one_error(cli("plot", f), "text.parquet: not a readable parquet file")


def test_results_file_without_study_rows(tmp_path):
    other = tmp_path / "bench.parquet"  # a parquet table, but not a study's
    pd.DataFrame({"section": ["methods"], "value": [1.0]}).to_parquet(other)
    one_error(cli("info", other), "bench.parquet: holds no study rows (not the output of `rec-bench run`)")
    one_error(cli("plot", other), "holds no study rows")
    from rec_bench.results.layout import STUDY_REQUIRED

    empty = tmp_path / "empty.parquet"  # a study's columns, no rows
    pd.DataFrame({c: pd.Series([], dtype=float) for c in STUDY_REQUIRED}).to_parquet(empty)
    one_error(cli("info", empty), "empty.parquet: holds no study rows (the table is empty)")


def test_bad_spec_is_one_error_line_with_status_2(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet").replace("kl: 2,", "kl: .nan,"))
    one_error(cli("run", spec, "--quiet"), "bad.yaml: at pairs.kl: nan is not a finite number", status=2)
    one_error(cli("run", tmp_path / "absent.yaml"), "absent.yaml", "cannot read the spec", status=2)
    assert not (tmp_path / "o.parquet").exists()


def test_unreachable_scheduler_fails_fast_and_writes_nothing(tmp_path):
    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tmp_path / "s.yaml"
    out = tmp_path / "o.parquet"
    spec.write_text(SPEC.format(out=out))
    r = cli("run", spec, "--scheduler", f"tcp://127.0.0.1:{port}", "--scheduler-timeout", "1", "--quiet")
    one_error(r, f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1.0 s")
    assert not out.exists() and not (tmp_path / "o.parquet.shards").exists()


def test_closed_pipe():
    proc = subprocess.Popen([sys.executable, "-m", "rec_bench.cli", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before rec-bench writes anything, as with `| head -0`
    err = proc.stderr.read()
    proc.wait(timeout=180)
    one_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", err), "broken pipe")


BIAS = """
name: b
seed: 4
output: {out}
repetitions: 400
pairs: {{construction: fixed_kl, kl: 2, dinf: 5}}
methods: [ad*, {{name: dad*, extra_bits: [0, 3]}}, {{name: orc, extra_bits: [0]}}]
plots:
  - {{kind: bias_vs_bits, file: bias_b, title: bias}}
  - {{kind: runtime_vs_dinf, file: runtime_b}}
"""


def test_figures_draws_what_its_data_allow_and_skips_the_rest(tmp_path, capsys):
    from rec_bench.cli import main
    from rec_bench.plots.bias import write_summary
    from rec_bench.study import run_study

    results, studies, figs = tmp_path / "results", tmp_path / "studies", tmp_path / "figures"
    results.mkdir()
    studies.mkdir()
    quiet = dict(jobs=1, progress=False, log=lambda *a: None)
    # a study whose output is present
    plots = "plots: [{kind: runtime_vs_dinf}]\n"
    (studies / "tiny.yaml").write_text(SPEC.format(out=results / "tiny.parquet") + plots)
    run_study(studies / "tiny.yaml", **quiet)
    # a study of which only the per-cell bias table is kept
    (studies / "b.yaml").write_text(BIAS.format(out=results / "b.parquet"))
    run_study(studies / "b.yaml", **quiet)
    write_summary(results / "b.parquet", results / "b_summary.csv")
    (results / "b.parquet").unlink()
    # a study never run, and a parquet file that is not a study's
    (studies / "never.yaml").write_text(SPEC.format(out=results / "never.parquet") + plots)
    pd.DataFrame({"x": [1]}).to_parquet(results / "bench.parquet")

    assert main(["figures", "--results", str(results), "--studies", str(studies), "--out", str(figs)]) == 0
    out = capsys.readouterr().out
    drawn = sorted(p.name for p in figs.iterdir())
    assert drawn == ["bias_b.pdf", "bias_b.png", "tiny_runtime_vs_dinf.pdf",
                     "tiny_runtime_vs_dinf.png"], drawn
    assert f"skip {results / 'bench.parquet'}: not a study output" in out
    assert f"skip {figs / 'runtime_b'}: runtime_vs_dinf needs the per-message rows" in out
    assert f"skip {studies / 'never.yaml'}: neither {results / 'never.parquet'} nor" in out


def test_plot_options_the_data_cannot_serve(tmp_path):
    """A results file whose stored spec asks for a plot option the kind does not take."""
    import json

    import pyarrow.parquet as pq

    t = pq.read_table(REFERENCE / "codelength_channel.parquet")
    meta = json.loads(t.schema.metadata[b"rec_bench"])
    meta["spec"]["plots"][0]["options"] = {"c": 1, "methods": ["rs"]}
    bad = tmp_path / "bad.parquet"
    pq.write_table(t.replace_schema_metadata({b"rec_bench": json.dumps(meta).encode()}), bad)
    one_error(cli("plot", bad, "--out", tmp_path / "figs"),
              "bad.parquet: plots[0]: methods: 'rs' is not in the study's data, which holds method as*, ad*")
    assert not (tmp_path / "figs").exists()


# ---- everything checked before work starts (issue 18) -------------------------------------------
def _nothing_written(where, *keep):
    assert sorted(p.name for p in where.iterdir()) == sorted(keep), list(where.iterdir())


def test_out_that_is_a_directory_fails_at_once_and_writes_nothing(tmp_path):
    import time

    from rec_bench.cli import main

    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet").replace("repetitions: 5", "repetitions: 100000"))
    (tmp_path / "adir").mkdir()
    line = one_error(cli("run", spec, "--out", tmp_path / "adir", "--quiet"), "--out", "adir: is a directory")
    assert ".parquet" in line
    _nothing_written(tmp_path, "s.yaml", "adir")
    assert not any((tmp_path / "adir").iterdir())
    t0 = time.perf_counter()  # in process (no interpreter start-up): the check comes before any work
    assert main(["run", str(spec), "--out", str(tmp_path / "adir"), "--quiet"]) == 1
    assert time.perf_counter() - t0 < 1.0
    _nothing_written(tmp_path, "s.yaml", "adir")


@pytest.mark.parametrize("out, words", [
    ("o.csv", ["--out", "o.csv: the output must be a .parquet file"]),
    ("afile/o.parquet", ["--out", "afile is not a directory"]),
])
def test_bad_out_paths(tmp_path, out, words):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet"))
    (tmp_path / "afile").write_text("x")
    one_error(cli("run", spec, "--out", tmp_path / out, "--quiet"), *words)
    _nothing_written(tmp_path, "s.yaml", "afile")


def test_spec_output_of_the_wrong_kind_fails_before_the_run(tmp_path):
    spec = tmp_path / "s.yaml"
    (tmp_path / "o.parquet").mkdir()  # the spec's own output path is a directory
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet"))
    one_error(cli("run", spec, "--quiet"), "o.parquet: is a directory")
    _nothing_written(tmp_path, "s.yaml", "o.parquet")


def test_figures_path_that_is_a_file_fails_before_the_run(tmp_path):
    spec = tmp_path / "s.yaml"
    out = tmp_path / "o.parquet"
    spec.write_text(SPEC.format(out=out) + "plots: [{kind: runtime_vs_dinf}]\n")
    (tmp_path / "digits.npy").write_text("x")
    one_error(cli("run", spec, "--plot", "--figures", tmp_path / "digits.npy", "--quiet"),
              "--figures", "digits.npy: is not a directory")
    _nothing_written(tmp_path, "s.yaml", "digits.npy")
    one_error(cli("plot", REFERENCE / "codelength_channel.parquet", "--out", tmp_path / "digits.npy"),
              "--out", "digits.npy: is not a directory")
    _nothing_written(tmp_path, "s.yaml", "digits.npy")


@pytest.mark.parametrize("args, words", [
    (["--scheduler-timeout", "-1"], ["argument --scheduler-timeout", "positive number of seconds, got '-1'"]),
    (["--scheduler-timeout", "0"], ["argument --scheduler-timeout", "got '0'"]),
    (["--scheduler-timeout", "nan"], ["argument --scheduler-timeout", "got 'nan'"]),
    (["--scheduler-timeout", "soon"], ["argument --scheduler-timeout", "got 'soon'"]),
    (["--jobs", "0"], ["argument --jobs", "positive integer, got '0'"]),
    (["--jobs", "-2"], ["argument --jobs", "positive integer, got '-2'"]),
    (["--frobnicate"], ["unrecognized arguments: --frobnicate"]),
])
def test_numeric_options_out_of_range(tmp_path, args, words):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet"))
    one_error(cli("run", spec, "--quiet", *args), *words, status=2)
    _nothing_written(tmp_path, "s.yaml")


def test_usage_errors_are_one_line():
    one_error(cli(), "the following arguments are required", status=2)
    one_error(cli("run"), "the following arguments are required: spec", status=2)


def test_figures_with_nothing_to_do(tmp_path):
    nope = tmp_path / "nope"
    one_error(cli("figures", "--results", nope, "--studies", nope, "--out", tmp_path / "f"),
              "--results", "nope: no such directory")
    (tmp_path / "file").write_text("x")
    one_error(cli("figures", "--results", tmp_path / "file", "--studies", tmp_path, "--out", tmp_path / "f"),
              "--results", "file: not a directory")
    (tmp_path / "r").mkdir()
    one_error(cli("figures", "--results", tmp_path / "r", "--studies", nope, "--out", tmp_path / "f"),
              "--studies", "nope: no such directory")
    (tmp_path / "s").mkdir()
    one_error(cli("figures", "--results", tmp_path / "r", "--studies", tmp_path / "s", "--out",
                  tmp_path / "f"),
              "nothing to draw")
    # specs whose results are all missing: nothing drawn is an error too, after the skip lines
    (tmp_path / "s" / "t.yaml").write_text(SPEC.format(out=tmp_path / "r" / "t.parquet")
                                           + "plots: [{kind: runtime_vs_dinf}]\n")
    r = cli("figures", "--results", tmp_path / "r", "--studies", tmp_path / "s", "--out", tmp_path / "f")
    one_error(r, "no figure drawn")
    assert "skip" in r.stdout
    assert not (tmp_path / "f").exists()


def test_closed_pipe_stops_the_output_not_the_work(tmp_path):
    """`rec-bench figures | head -1`: every figure is drawn, then one error line and status 1."""
    import shutil

    results, figs = tmp_path / "results", tmp_path / "figs"
    results.mkdir()
    for name in ("codelength_channel", "codelength_fixed_kl"):
        shutil.copy(REFERENCE / f"{name}.parquet", results)
    proc = subprocess.Popen([sys.executable, "-m", "rec_bench.cli", "figures", "--results", str(results),
                             "--studies", str(tmp_path), "--out", str(figs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before the first line, as with `| head -0`
    err = proc.stderr.read()
    proc.wait(timeout=180)
    one_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", err), "broken pipe",
              "ran to the end")
    assert sorted(p.name for p in figs.iterdir()) == ["codelength_channel.pdf", "codelength_channel.png",
                                                      "codelength_fixed_kl.pdf", "codelength_fixed_kl.png"]


def test_spec_with_orc_bits_beyond_the_step_budget_is_refused(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(out=tmp_path / "o.parquet").replace("methods: [as*]",
                    "methods: [{name: orc, bits: 30}]"))
    one_error(cli("run", spec, "--quiet"), "at methods[0].bits", "orc with bits=30", "max_steps=4194304",
              "bits <= 22", status=2)
    _nothing_written(tmp_path, "s.yaml")
