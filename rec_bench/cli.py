"""The ``rec-bench`` console script: run studies, draw their figures, list what exists, show provenance."""

from __future__ import annotations

import argparse
import json
import sys


def _run(a):
    from .study import SpecError, run_study

    try:
        out = run_study(a.spec, out=a.out, jobs=a.jobs, scheduler=a.scheduler, fresh=a.fresh,
                        progress=not a.quiet)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    if a.plot:
        from .plots import plot_results

        plot_results(out, a.figures)
    return 0


def _plot(a):
    from .plots import plot_results

    for path in a.results:
        print(path)
        plot_results(path, a.out)
    return 0


def _list(a):
    from .codecs import METHODS
    from .pairs import FAMILY_NAMES
    from .plots import load_all
    from .study import CONSTRUCTIONS

    print("methods:")
    for m in METHODS.values():
        kind = "exact" if m.exact else "approximate"
        opt = f", option {m.option}=" if m.option else ""
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
    from .study import read_results
    from .study.summary import summary_text

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


def main(argv=None):
    ap = argparse.ArgumentParser(prog="rec-bench", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a study spec (YAML) into a parquet table")
    r.add_argument("spec")
    r.add_argument("--out", help="output parquet (default: the spec's output)")
    r.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    r.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    r.add_argument("--fresh", action="store_true", help="discard finished cells and start over")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--plot", action="store_true", help="draw the spec's figures afterwards")
    r.add_argument("--figures", default="figures", help="figure directory for --plot")
    r.set_defaults(fn=_run)
    p = sub.add_parser("plot", help="draw the figures a results file's spec asks for")
    p.add_argument("results", nargs="+")
    p.add_argument("--out", default="figures", help="output directory (default: figures)")
    p.set_defaults(fn=_plot)
    s = sub.add_parser("list", help="methods, pair families, constructions and plot kinds")
    s.set_defaults(fn=_list)
    i = sub.add_parser("info", help="provenance and a summary of a results file")
    i.add_argument("results", nargs="+")
    i.add_argument("--json", action="store_true", help="print the whole provenance as JSON")
    i.add_argument("--no-summary", action="store_true")
    i.set_defaults(fn=_info)
    _add_compression(sub)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
