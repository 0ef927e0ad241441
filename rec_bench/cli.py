"""The ``rec-bench`` console script: run studies, draw their figures, list what exists, show provenance.

A mistake (a bad option or spec, an output path of the wrong kind, a missing or unreadable results
file, a file without study rows, an unreachable scheduler, nothing to draw) ends the command with
one ``error: ...`` line on stderr and a non-zero exit status (2 for a bad option or spec, 1
otherwise, 130 on Ctrl-C), never a traceback. Everything that can be checked is checked before
any work starts: ``run --out`` must be a writable ``.parquet`` file path and ``--figures`` a
directory before the study runs.

A closed standard output (``rec-bench figures | head -1``) stops the output, not the work: the
command runs to the end, writing nothing more to stdout, then says so in one ``error:`` line and
exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path


class _Fail(Exception):
    """A user-facing error the command reports as one line."""


class _Usage(Exception):
    """A command line argparse refuses (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block), so that every mistake reads alike."""

    def error(self, message):
        raise _Usage(f"{message} (see {self.prog} --help)")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _option_path(option, check, path):
    """``check(path)``, its error naming the option."""
    from .results import ResultsError

    try:
        return check(path)
    except ResultsError as e:
        raise _Fail(f"{option} {e}") from None


def _run(a):
    from .results import check_output_dir, check_output_file
    from .study import run_study

    if a.out is not None:
        _option_path("--out", check_output_file, a.out)  # before the spec is even read
    if a.plot:
        _option_path("--figures", check_output_dir, a.figures)
    out = run_study(a.spec, out=a.out, jobs=a.jobs, scheduler=a.scheduler, fresh=a.fresh,
                    progress=not a.quiet, connect_timeout=a.scheduler_timeout)
    if a.plot:
        _draw(out, a.figures)
    return 0


def _draw(path, out_dir):
    from .plots import plot_results
    from .results import ResultsError

    try:
        return plot_results(path, out_dir)
    except ResultsError:
        raise
    except ValueError as e:  # the data do not support a plot the spec asks for
        raise ResultsError(path, str(e)) from None


def _check_results(paths):
    """Every path is a readable study results file, checked before any work starts."""
    from .results import read_results_schema

    for path in paths:
        read_results_schema(path)


def _plot(a):
    from .results import check_output_dir

    _check_results(a.results)
    _option_path("--out", check_output_dir, a.out)
    for path in a.results:
        print(path)
        _draw(path, a.out)
    return 0


def _directory(option, path):
    path = Path(path)
    if not path.is_dir():
        raise _Fail(f"{option} {path}: " + ("not a directory" if path.exists() else "no such directory"))
    return path


def _figures(a):
    """Redraw every figure whose data is present; say which are skipped and why. Every spec and
    results file is read before the first figure is drawn; drawing none is an error."""
    import pandas as pd

    from .plots import draw, load_all
    from .results import check_output_dir, is_study_output
    from .study import load_spec

    results, studies = _directory("--results", a.results), _directory("--studies", a.studies)
    _option_path("--out", check_output_dir, a.out)
    outputs = [(p, is_study_output(p)) for p in sorted(results.glob("*.parquet"))]
    specs = [(p, load_spec(p)[0]) for p in sorted(studies.glob("*.yaml"))]
    if not any(ok for _, ok in outputs) and not specs:
        raise _Fail(f"nothing to draw: no study results in {results} and no specs in {studies}")
    drawn, figures = set(), 0
    for path, ok in outputs:
        if ok:
            print(path)
            figures += len(_draw(path, a.out)) // 2
            drawn.add(path.name)
        else:
            print(f"skip {path}: not a study output")
    kinds = load_all()
    for spec_path, spec in specs:
        output = Path(spec["output"])
        if output.name in drawn or not spec.get("plots"):
            continue
        summary = results / f"{output.stem}_summary.csv"
        if not summary.exists():
            print(f"skip {spec_path}: neither {results / output.name} nor {summary} is present "
                  f"(rec-bench run {spec_path})")
            continue
        print(f"{summary} (per-cell table of {spec_path})")
        table = pd.read_csv(summary)
        for plot in spec["plots"]:
            base = Path(a.out) / (plot.get("file") or f"{spec['name']}_{plot['kind']}")
            if not kinds[plot["kind"]].from_cells:
                print(f"  skip {base}: {plot['kind']} needs the per-message rows of {output}")
                continue
            try:
                draw(plot["kind"], table, base, title=plot.get("title"), **(plot.get("options") or {}))
            except ValueError as e:
                raise _Fail(f"{summary}: {e}") from None
            figures += 1
            print(f"  {base}.png/.pdf")
    if not figures:
        raise _Fail(f"no figure drawn: {results} holds no study results or per-cell tables for the specs in "
                    f"{studies} (rec-bench run SPEC first)")
    return 0


def _list(a):
    from .methods import METHODS
    from .pairs import FAMILY_NAMES
    from .plots import load_all
    from .study import CONSTRUCTIONS

    print("methods:")
    for m in METHODS.values():
        kind = "exact" if m.exact else "approximate"
        opt = f", option {m.option.name}=" if m.option else ""
        print(f"  {m.name:5s} {kind}{opt}: {m.summary} ({m.reference})")
    print("pair families (target/proposal):")
    for f in FAMILY_NAMES:
        print(f"  {f}")
    print("constructions:")
    for k, v in CONSTRUCTIONS.items():
        print(f"  {k}: {v}")
    print("plot kinds:")
    for k, fn in sorted(load_all().items()):
        print(f"  {k}: {fn.summary}")
    return 0


def _info(a):
    from .results import read_results
    from .results.summary import summary_text

    _check_results(a.results)
    for path in a.results:
        df, meta = read_results(path)
        if a.json:
            print(json.dumps({k: v for k, v in meta.items() if k != "spec_text"}, indent=2))
            continue
        print(f"{path}: {len(df)} rows, {int(df['censored'].sum())} censored")
        for k in ("rec_bench_version", "git_commit", "git_dirty", "spec_path", "spec_sha256", "start_time",
                  "end_time", "seconds", "backend", "cells", "cells_reused"):
            print(f"  {k}: {meta.get(k)}")
        print("  versions: " + ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items()))
        if not a.no_summary:
            print(summary_text(df))
    return 0


def _add_compression(sub):
    """``compress`` / ``decompress`` (lossless MNIST with a VAE; rec_bench.compression)."""
    from .compression import add_subcommands

    add_subcommands(sub)


def _parser():
    from . import __version__

    ap = _Parser(prog="rec-bench", description=__doc__.split("\n")[0])
    ap.add_argument("--version", action="version", version=f"rec-bench {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a study spec (YAML) into a parquet table")
    r.add_argument("spec")
    r.add_argument("--out", help="output parquet (default: the spec's output)")
    r.add_argument("--jobs", type=_positive_int, default=None, help="worker processes (default: all cores)")
    r.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    r.add_argument("--scheduler-timeout", type=_positive_seconds, default=5.0, metavar="SECONDS",
                   help="give up on an unreachable scheduler after this long (default: 5)")
    r.add_argument("--fresh", action="store_true", help="discard finished cells and start over")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--plot", action="store_true", help="draw the spec's figures afterwards")
    r.add_argument("--figures", default="figures", help="figure directory for --plot")
    r.set_defaults(fn=_run)
    p = sub.add_parser("plot", help="draw the figures a results file's spec asks for")
    p.add_argument("results", nargs="+")
    p.add_argument("--out", default="figures", help="output directory (default: figures)")
    p.set_defaults(fn=_plot)
    f = sub.add_parser("figures", help="redraw every figure whose data is present, skip the rest")
    f.add_argument("--results", default="results", help="directory of results (default: results)")
    f.add_argument("--studies", default="studies", help="directory of specs (default: studies)")
    f.add_argument("--out", default="figures", help="output directory (default: figures)")
    f.set_defaults(fn=_figures)
    s = sub.add_parser("list", help="methods, pair families, constructions and plot kinds")
    s.set_defaults(fn=_list)
    i = sub.add_parser("info", help="provenance and a summary of a results file")
    i.add_argument("results", nargs="+")
    i.add_argument("--json", action="store_true", help="print the whole provenance as JSON")
    i.add_argument("--no-summary", action="store_true")
    i.set_defaults(fn=_info)
    _add_compression(sub)
    return ap


def _error(message):
    print(f"error: {message}", file=sys.stderr)


class _Stdout:
    """Standard output that, once its reader has gone (a closed pipe), discards what is written
    instead of raising: the command's work goes on, and :func:`main` reports it once at the end.
    Each write is flushed, so the point where output stops does not depend on buffering."""

    def __init__(self, stream):
        self.stream, self.closed_early = stream, False

    def write(self, text):
        if not self.closed_early:
            try:
                n = self.stream.write(text)
                self.stream.flush()
                return n
            except BrokenPipeError:
                self.gone()
        return len(text)

    def flush(self):
        if not self.closed_early:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.gone()

    def gone(self):
        self.closed_early = True
        # point the file descriptor at /dev/null, so that the interpreter's final flush of what
        # is still buffered does not fail again
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        except (OSError, ValueError):
            pass

    def __getattr__(self, name):
        return getattr(self.stream, name)


def main(argv=None):
    out = _Stdout(sys.stdout)
    sys.stdout = out
    try:
        status = _main(argv)
        out.flush()
    except BrokenPipeError:  # written past the wrapper (e.g. to sys.__stdout__)
        out.gone()
        status = 1
    finally:
        sys.stdout = out.stream
    if out.closed_early:
        _error("output closed early (broken pipe): the command ran to the end; the rest of its output "
               "was discarded")
        return 1
    return status


def _main(argv):
    try:
        a = _parser().parse_args(argv)
        return a.fn(a)
    except _Usage as e:
        _error(e)
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as e:
        from .results import ResultsError
        from .study import SchedulerError, SpecError

        if isinstance(e, SpecError):
            _error(e)
            return 2
        if isinstance(e, (ResultsError, SchedulerError, _Fail, OSError)):
            _error(e)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
