"""Run a study: cells -> chunks -> worker processes (joblib) or a Dask cluster -> shards -> parquet.

* A task is a chunk of one cell's messages, so progress moves inside large cells and a cell can
  run on several workers at once. A cell's time budget is split over its chunks in proportion to
  their sizes; inside a chunk, messages run in growing mini-batches and the deadline is checked
  between them. Messages not run because the time budget ran out are still rows: censored, with
  ``censor = "time"`` and steps = 0 (``censor = "steps"`` marks a message stopped by max_steps).
* When every chunk of a cell is back, the cell is written as one shard, atomically (temporary
  file + rename), in the sidecar directory ``<output>.shards/``. A rerun reuses every shard (and
  every cell of an existing output) whose cell identity matches, so an interrupted run resumes
  with each row exactly once; ``fresh=True`` starts over.
* Rows are sorted canonically (spec order of cells, then repetition), so the table does not depend
  on the number of workers or the backend, unless a time budget actually cut a cell short.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .cells import expand
from .provenance import METADATA_KEY, git_state, provenance
from .schema import load_spec


# ----------------------------------------------------------------------------------------- workers
def _simulate(cell, q, p, seeds):
    from .. import simulate

    kw = dict(max_steps=cell.max_steps, depth=cell.depth, bits=cell.bits)
    if cell.code != "fixed":
        kw["code"] = cell.code
    return simulate(cell.method, q, p, seeds, **kw)


def _subset(q, idx):
    """q with array parameters restricted to positions idx (scalars stay as they are)."""
    vals = [getattr(q, f) for f in q._fields]
    return type(q)(*[v[idx] if v.ndim else v for v in vals])


def _repeat(q, k):
    return type(q)(*[np.full(k, getattr(q, f), dtype=np.float64) for f in q._fields])


_WARM = set()


def _warm_up(cell, q, p):
    """Compile (or load from Numba's cache) this method's kernel in this process, outside the
    cell's clock: a one-message call with a one-step budget, result discarded."""
    key = (cell.method, cell.pair.family, cell.code, cell.depth is None, cell.bits is None)
    if key not in _WARM:
        one = _subset(q, np.arange(1)) if q.shape != () else _repeat(q, 1)
        kw = dict(depth=cell.depth, bits=cell.bits, **({} if cell.code == "fixed" else {"code": cell.code}))
        from .. import simulate

        simulate(cell.method, one, p, np.zeros(1, np.uint64), max_steps=1, **kw)
        _WARM.add(key)


def run_chunk(cell, start, stop, time_share=None):
    """Rows for repetitions [start, stop) of ``cell``; stops early when ``time_share`` s run out.

    ``time_share`` counts the messages' running time, not the one-off compilation of the kernel."""
    q, p = cell.pair.build(cell.repetitions, cell.pair_seed())
    _warm_up(cell, q, p)
    t0 = time.perf_counter()
    seeds = cell.message_seeds(start, stop)
    n = stop - start
    per_message = q.shape != ()  # a target per message (Gaussian channel)
    if per_message:
        q = _subset(q, np.arange(start, stop))
    parts, done, batch = [], 0, 1
    while done < n:
        if time_share is None:
            k = n
        else:
            if time.perf_counter() - t0 >= time_share:
                break
            k = min(batch, n - done)
            batch = min(2 * batch, 64)
        # always per-message parameter arrays: one array layout for every pair, hence one compiled
        # signature of the kernel (scalar and array targets reach it with different read-only flags)
        qq = _subset(q, np.arange(done, done + k)) if per_message else _repeat(q, k)
        parts.append(_simulate(cell, qq, p, seeds[done:done + k]))
        done += k
    df = pd.concat(parts, ignore_index=True) if parts else _empty(cell, q, p)
    df["censor"] = np.where(df["censored"].to_numpy(), "steps", "")
    if done < n:  # the time budget ran out: the rest are censored rows, never dropped
        rest = _not_run(cell, q if not per_message else _subset(q, np.arange(done, n)), p, seeds[done:])
        df = pd.concat([df, rest], ignore_index=True)
    df.insert(0, "rep", np.arange(start, stop, dtype=np.int64))
    df["nbits"] = df["nbits"].astype("Int64")
    return df, time.perf_counter() - t0


def _empty(cell, q, p):
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
        ("seed", "uint64"), ("kl", "float64"), ("dinf", "float64"), ("steps", "int64"),
        ("samples_drawn", "int64"), ("nbits", "Int64"), ("ideal_bits", "float64"), ("sample", "float64"),
        ("censored", "bool"))})


def _not_run(cell, q, p, seeds):
    from .. import pairs as P

    m = len(seeds)
    kl = np.broadcast_to(np.asarray(P.kl(q, p), float), (m,))
    dinf = np.broadcast_to(np.asarray(P.dinf(q, p), float), (m,))
    return pd.DataFrame({
        "seed": np.asarray(seeds, np.uint64), "kl": kl, "dinf": dinf, "steps": np.zeros(m, np.int64),
        "samples_drawn": np.zeros(m, np.int64), "nbits": pd.array([pd.NA] * m, dtype="Int64"),
        "ideal_bits": np.full(m, np.nan), "sample": np.full(m, np.nan), "censored": np.ones(m, bool),
        "censor": np.full(m, "time", dtype=object),
    })


def _task_list(cell):
    out = []
    for a in range(0, cell.repetitions, cell.chunk):
        b = min(a + cell.chunk, cell.repetitions)
        share = None if cell.time_budget is None else cell.time_budget * (b - a) / cell.repetitions
        out.append((cell, a, b, share))
    return out


# ---------------------------------------------------------------------------------------- backends
def _run_local(tasks, jobs):
    from joblib import Parallel, delayed

    if jobs == 1:
        for t in tasks:
            yield t, run_chunk(*t)
        return
    par = Parallel(n_jobs=jobs, return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs")
    # results come back unordered: carry the task along with its result
    for t, res in par(delayed(_tagged)(t) for t in tasks):
        yield t, res


def _tagged(t):
    return t, run_chunk(*t)


def _run_dask(tasks, scheduler):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover
        raise SystemExit("--scheduler needs dask.distributed: pip install 'rec_bench[dask]'") from None
    client = scheduler if hasattr(scheduler, "submit") else Client(scheduler)
    try:
        futures = {client.submit(run_chunk, *t, pure=False): t for t in tasks}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        if client is not scheduler:
            client.close()


# ------------------------------------------------------------------------------------------ shards
def shard_dir(output):
    return Path(str(output) + ".shards")


def _write_atomic_table(table, path, metadata=None):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if metadata is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_shards(directory, wanted):
    found = {}
    if not directory.is_dir():
        return found
    for f in directory.glob("*.parquet"):
        cid = f.stem
        if cid in wanted:
            try:
                found[cid] = pq.read_table(f).to_pandas()
            except Exception:  # an unreadable shard is recomputed, never trusted
                f.unlink(missing_ok=True)
    return found


def _cell_frame(cell, chunks):
    rows = pd.concat([c for _, c in sorted(chunks, key=lambda x: x[0])], ignore_index=True)
    cols = cell.columns()
    front = pd.DataFrame({k: [v] * len(rows) for k, v in cols.items()})
    for k in ("depth", "bits", "code_bits", "extra_bits"):
        front[k] = front[k].astype("Int64")
    return pd.concat([front, rows], axis=1)


# -------------------------------------------------------------------------------------------- main
def run_study(spec_path, out=None, jobs=None, scheduler=None, fresh=False, progress=True,
              stop_after_cells=None, log=print):
    """Run the spec at ``spec_path``; returns the output path.

    ``stop_after_cells`` (for tests) raises KeyboardInterrupt once that many new cells are written.
    """
    start = datetime.now(timezone.utc)
    git = git_state()  # before any output is touched: the code this run starts from
    spec, text, sha = load_spec(spec_path)
    cells = expand(spec, spec_path)
    output = Path(out or spec["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    shards = shard_dir(output)
    if fresh:
        shutil.rmtree(shards, ignore_errors=True)
        output.unlink(missing_ok=True)
    shards.mkdir(parents=True, exist_ok=True)
    for stale in shards.glob(".*.tmp-*"):  # a write cut short by an interruption: never a shard
        stale.unlink(missing_ok=True)
    wanted = {c.id for c in cells}
    done = _read_shards(shards, wanted)
    if output.exists():  # cells of a finished earlier run count as finished
        try:
            prev = pq.read_table(output).to_pandas()
            for cid, g in prev.groupby("study_cell", sort=False):
                if cid in wanted and cid not in done:
                    done[cid] = g.reset_index(drop=True)
        except Exception:
            pass
    todo = [c for c in cells if c.id not in done]
    reused = len(cells) - len(todo)
    jobs = int(jobs) if jobs else (os.cpu_count() or 1)
    backend = f"dask {scheduler if isinstance(scheduler, str) else 'client'}" if scheduler else f"joblib x{jobs}"
    log(f"{spec['name']}: {len(cells)} cells ({reused} already done), "
        f"{sum(c.repetitions for c in todo)} messages to run on {backend}")
    tasks = [t for c in todo for t in _task_list(c)]
    pending = {c.id: [0, len(_task_list(c))] for c in todo}
    results = {c.id: [] for c in todo}
    elapsed = {c.id: 0.0 for c in todo}
    written = 0
    bars = _bars(progress, len(todo), sum(c.repetitions for c in todo))
    try:
        stream = _run_dask(tasks, scheduler) if scheduler else _run_local(tasks, jobs)
        for (cell, a, b, _), (frame, secs) in stream:
            results[cell.id].append((a, frame))
            elapsed[cell.id] += secs
            pending[cell.id][0] += 1
            bars.messages(b - a)
            if pending[cell.id][0] == pending[cell.id][1]:
                df = _cell_frame(cell, results.pop(cell.id))
                df["cell_seconds"] = elapsed[cell.id]
                _write_atomic_table(pa.Table.from_pandas(df, preserve_index=False),
                                    shards / f"{cell.id}.parquet")
                done[cell.id] = df
                written += 1
                bars.cell()
                if stop_after_cells is not None and written >= stop_after_cells:
                    raise KeyboardInterrupt(f"stopped after {written} cells (test hook)")
    except KeyboardInterrupt:
        bars.close()
        log(f"interrupted: {len(done)} of {len(cells)} cells are saved in {shards}; "
            f"rerun the same command to resume (or --fresh to start over)")
        raise
    bars.close()
    frame = pd.concat([done[c.id] for c in cells], ignore_index=True)
    frame = frame.sort_values(["cell_index", "rep"], kind="stable").reset_index(drop=True)
    end = datetime.now(timezone.utc)
    meta = provenance(spec, text, sha, spec_path, start, end, git=git,
                      extra={"backend": backend, "cells": len(cells), "cells_reused": reused,
                             "rows": len(frame), "censored_rows": int(frame["censored"].sum())})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _write_atomic_table(table, output, {METADATA_KEY: json.dumps(meta).encode()})
    shutil.rmtree(shards, ignore_errors=True)
    log(f"wrote {output}: {len(frame)} rows, {int(frame['censored'].sum())} censored, "
        f"{(end - start).total_seconds():.1f} s")
    return output


class _bars:
    def __init__(self, enabled, ncells, nmsgs):
        self.enabled = enabled
        if enabled:
            from tqdm.auto import tqdm

            self.c = tqdm(total=ncells, desc="cells", unit="cell", position=0, file=sys.stderr)
            self.m = tqdm(total=nmsgs, desc="messages", unit="msg", position=1, file=sys.stderr,
                          unit_scale=True)

    def cell(self):
        if self.enabled:
            self.c.update(1)

    def messages(self, n):
        if self.enabled:
            self.m.update(n)

    def close(self):
        if self.enabled:
            self.m.close()
            self.c.close()


def read_results(path):
    """(DataFrame, provenance dict) of a results parquet."""
    table = pq.read_table(path)
    meta = (table.schema.metadata or {}).get(METADATA_KEY.encode())
    return table.to_pandas(), (json.loads(meta) if meta else {})
