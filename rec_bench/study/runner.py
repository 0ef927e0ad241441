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
  on the number of workers, the backend or the machine's load: a message's fate is decided by its
  step budget alone. A time budget is the one exception: where it cuts a cell short, which messages
  ran depends on the machine, so the shipped specs set none and a run that has one says so.
"""

from __future__ import annotations

import math
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .. import results as R
from .cells import plan
from .schema import load_spec

SCHEDULER_TIMEOUT = 5  # seconds to reach a Dask scheduler before giving up


class SchedulerError(RuntimeError):
    """The Dask scheduler named for a run cannot be used (unreachable, or dask not installed)."""


# ----------------------------------------------------------------------------------------- workers
def _simulate(cell, q, p, seeds):
    from .. import simulate

    kw = dict(max_steps=cell.max_steps, depth=cell.depth, bits=cell.bits)
    if cell.code != "fixed":
        kw["code"] = cell.code
    if cell.coords > 1:
        return _simulate_blocks(cell, q, p, seeds, kw)
    return simulate(cell.method, q, p, seeds, **kw)


def _simulate_blocks(cell, q, p, seeds, kw):
    """One block of ``cell.coords`` copies of each message's pair per seed: the message columns
    (``seed`` the repetition's, ``kl`` and ``dinf`` the block's, ``sample`` its first coordinate)
    and ``block_joint``, the block's Gaussianised sum sum_j Phi^-1(F_Q(x_j)) / sqrt(b), which is
    N(0, 1) for exact samples (rec_bench.bias.BlockBiasResult)."""
    from scipy.special import ndtri

    from ..simulate import simulate_blocks

    b = cell.coords
    wide = lambda d: type(d)(*[np.ascontiguousarray(np.broadcast_to(  # noqa: E731
        np.asarray(getattr(d, f), np.float64)[..., None] if np.ndim(getattr(d, f)) else getattr(d, f),
        (len(seeds), b))) for f in d._fields])
    kw.pop("depth")
    df = simulate_blocks(cell.method, wide(q), p if p.shape == () else wide(p), seeds, block=b, **kw)
    df["seed"] = np.asarray(seeds, np.uint64)
    x = np.array([v if len(v) else [np.nan] * b for v in df["samples"]], np.float64)
    qs = wide(q).scipy()
    with np.errstate(all="ignore"):
        df["block_joint"] = ndtri(np.clip(qs.cdf(x), 1e-300, 1 - 1e-16)).sum(axis=1) / np.sqrt(b)
    return df


def _subset(q, idx):
    """q with array parameters restricted to positions idx (scalars stay as they are)."""
    vals = [getattr(q, f) for f in q._fields]
    return type(q)(*[v[idx] if v.ndim else v for v in vals])


def _repeat(q, k):
    return type(q)(*[np.full(k, getattr(q, f), dtype=np.float64) for f in q._fields])


_WARM = set()


def _warm_up(cell, q, p):
    """Compile (or load from Numba's cache) this method's kernel in this process, outside the
    cell's clock: a one-message call with a one-step budget (ORC's and MRC's 2^K candidates: a size
    beyond its budget is refused up front), result discarded."""
    key = (cell.method, cell.pair.family, cell.code, cell.depth is None, cell.bits is None, cell.coords > 1)
    if key not in _WARM:
        one = _subset(q, np.arange(1)) if q.shape != () else _repeat(q, 1)
        kw = dict(depth=cell.depth, bits=cell.bits, **({} if cell.code == "fixed" else {"code": cell.code}))
        from .. import simulate

        budget = 1 if cell.bits is None else 2 ** int(cell.bits)
        if cell.coords > 1:
            _simulate_blocks(cell, one, p, np.zeros(1, np.uint64), dict(kw, max_steps=budget))
        else:
            simulate(cell.method, one, p, np.zeros(1, np.uint64), max_steps=budget, **kw)
        _WARM.add(key)


def run_chunk(cell, start, stop, time_share=None):
    """Message rows (``rep``, the message columns, ``censor``) for repetitions [start, stop) of
    ``cell``, and their running time; stops early when ``time_share`` seconds run out.

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
        sim = _simulate(cell, qq, p, seeds[done:done + k])
        part = R.messages(sim)
        if cell.coords > 1:
            part["block_joint"] = sim["block_joint"].to_numpy()
        parts.append(part)
        done += k
    censor = [np.where(part["censored"].to_numpy(), R.CENSOR_STEPS, R.CENSOR_NONE) for part in parts]
    if done < n:  # the time budget ran out: the rest are censored rows, never dropped
        from .. import pairs as P

        rest = _subset(q, np.arange(done, n)) if per_message else q
        parts.append(R.not_run_frame(seeds[done:], P.kl(rest, p), P.dinf(rest, p)))
        censor.append(np.full(n - done, R.CENSOR_TIME))
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "rep", np.arange(start, stop, dtype=np.int64))
    df["censor"] = np.concatenate(censor)
    return df, time.perf_counter() - t0


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


def _connect(scheduler, timeout=SCHEDULER_TIMEOUT):
    """A dask.distributed Client for ``scheduler`` (an address, or a Client passed through);
    SchedulerError if dask is missing or the scheduler does not answer within ``timeout`` s."""
    if hasattr(scheduler, "submit"):
        return scheduler
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError("--scheduler needs dask.distributed: pip install 'rec_bench[dask]'") from None
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler} within {timeout} s "
                             f"({detail})") from None


def _run_dask(tasks, client):
    from distributed import as_completed

    futures = {client.submit(run_chunk, *t, pure=False): t for t in tasks}
    for fut in as_completed(futures):
        yield futures[fut], fut.result()


# -------------------------------------------------------------------------------------------- main
def run_study(spec_path, out=None, jobs=None, scheduler=None, fresh=False, progress=True,
              stop_after_cells=None, log=print, connect_timeout=SCHEDULER_TIMEOUT):
    """Run the spec at ``spec_path``; returns the output path.

    ``scheduler`` (a Dask scheduler's address, or a Client) runs the chunks on a cluster; a
    scheduler that does not answer within ``connect_timeout`` seconds raises SchedulerError before
    anything is written.

    ``stop_after_cells`` (for tests) raises KeyboardInterrupt once that many new cells are written.
    """
    start = datetime.now(timezone.utc)
    if out is not None:
        R.check_output_file(out)  # before the spec is read: a wrong path fails at once
    if isinstance(connect_timeout, bool) or not isinstance(connect_timeout, (int, float)) \
            or not (math.isfinite(connect_timeout) and connect_timeout > 0):
        raise SchedulerError("the scheduler timeout must be a positive number of seconds, "
                             f"got {connect_timeout!r}")
    if jobs is not None and (isinstance(jobs, bool) or int(jobs) != jobs or jobs < 1):
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    git = R.git_state()  # before any output is touched: the code this run starts from
    spec, text, sha = load_spec(spec_path)
    cells = plan(spec, spec_path)
    output = R.check_output_file(Path(out or spec["output"]))
    # an unreachable scheduler fails here, first
    client = _connect(scheduler, connect_timeout) if scheduler else None
    output.parent.mkdir(parents=True, exist_ok=True)
    shards = R.open_shards(output, fresh)
    done = R.finished_cells(output, {c.id for c in cells})  # shards and cells of an earlier output
    todo = [c for c in cells if c.id not in done]
    blocks = any(c.coords > 1 for c in cells)
    reused = len(cells) - len(todo)
    jobs = int(jobs) if jobs else (os.cpu_count() or 1)
    where = scheduler if isinstance(scheduler, str) else "client"
    backend = f"dask {where}" if scheduler else f"joblib x{jobs}"
    log(f"{spec['name']}: {len(cells)} cells ({reused} already done), "
        f"{sum(c.repetitions for c in todo)} messages to run on {backend}")
    timed = sum(c.time_budget is not None for c in cells)
    if timed:
        log(f"note: {timed} cells have a time_budget: where it runs out, which messages ran depends on "
            "this machine's speed and load (rows with censor = 'time'), so the rows are not reproducible")
    tasks = [t for c in todo for t in _task_list(c)]
    pending = {c.id: [0, len(_task_list(c))] for c in todo}
    results = {c.id: [] for c in todo}
    elapsed = {c.id: 0.0 for c in todo}
    written = 0
    bars = _bars(progress, len(todo), sum(c.repetitions for c in todo))
    try:
        stream = _run_dask(tasks, client) if client is not None else _run_local(tasks, jobs)
        for (cell, a, b, _), (frame, secs) in stream:
            results[cell.id].append((a, frame))
            elapsed[cell.id] += secs
            pending[cell.id][0] += 1
            bars.messages(b - a)
            if pending[cell.id][0] == pending[cell.id][1]:
                rows = pd.concat([f for _, f in sorted(results.pop(cell.id), key=lambda x: x[0])],
                                 ignore_index=True)
                df = R.study_rows(cell.columns(), rows["rep"], rows, rows["censor"], elapsed[cell.id])
                if blocks:  # a spec with blocks: every row says its block size
                    df["block_size"] = np.int64(cell.coords)
                    df["block_joint"] = rows["block_joint"].to_numpy() if "block_joint" in rows \
                        else df["sample"].to_numpy() * 0.0 + np.nan
                R.write_shard(shards, cell.id, df)
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
    finally:
        if client is not None and client is not scheduler:
            client.close()
    bars.close()
    frame = R.merge(done[c.id] for c in cells)
    end = datetime.now(timezone.utc)
    meta = R.provenance(spec, text, sha, spec_path, start, end, git=git,
                        extra={"backend": backend, "cells": len(cells), "cells_reused": reused,
                               "rows": len(frame), "censored_rows": int(frame["censored"].sum())})
    R.write_results(frame, output, meta)
    R.remove_shards(output)
    by_time = int((frame["censor"] == R.CENSOR_TIME).sum())
    log(f"wrote {output}: {len(frame)} rows, {int(frame['censored'].sum())} censored"
        + (f" ({by_time} by the time budget: machine-dependent)" if by_time else "")
        + f", {(end - start).total_seconds():.1f} s")
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

