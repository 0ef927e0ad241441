"""Results files: parquet tables with provenance, per-cell shards, and their merge into one table.

* A study's output is one parquet table (zstd) of study rows (``rec_bench.results.layout``) whose
  schema metadata holds the provenance as JSON under the key ``rec_bench``
  (``rec_bench.results.provenance``).
* While a study runs, each finished cell is a shard ``<output>.shards/<cell id>.parquet``. Every
  file is written atomically: to a hidden temporary file in the same directory, fsynced, then
  renamed, so a file that exists is complete, and an interrupted write leaves only a temporary
  file that the next run removes.
* :func:`finished_cells` collects the cells a previous run left (shards, and the cells of an
  existing output); :func:`merge` puts cells together in canonical order (spec order of cells,
  then repetition), so a table does not depend on the order in which cells finished.

pyarrow and pandas are imported on first use.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .layout import is_study_table, study_columns
from .provenance import METADATA_KEY


class ResultsError(ValueError):
    """A results file that cannot be used: names the file and what is wrong with it."""

    def __init__(self, path, message):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


def _check_file(path):
    path = Path(path)
    if path.is_dir():
        raise ResultsError(path, "is a directory, not a parquet file")
    if not path.exists():
        raise ResultsError(path, "no such file")
    return path


def _not_parquet(path, e):
    return ResultsError(path, f"not a readable parquet file ({str(e).splitlines()[0]})")


def read_table(path):
    """The pyarrow Table of a parquet file; ResultsError if it is missing or not parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _check_file(path)
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise _not_parquet(path, e) from None


def _require_study(path, names, num_rows):
    if not is_study_table(names):
        raise ResultsError(path, "holds no study rows (not the output of `rec-bench run`)")
    if num_rows == 0:
        raise ResultsError(path, "holds no study rows (the table is empty)")


def read_results(path):
    """(DataFrame, provenance dict) of a study's results file.

    Raises ResultsError when the file is missing, is not parquet, or holds no study rows (another
    table, such as the benchmark's, or an empty one). The provenance is ``{}`` when the file has
    none.
    """
    table = read_table(path)
    _require_study(path, table.column_names, table.num_rows)
    return table.to_pandas(), provenance_of(table)


def read_results_schema(path):
    """(column names, provenance) of a study's results file, reading only its footer: the checks
    of :func:`read_results` without loading the rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _check_file(path)
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as e:
        raise _not_parquet(path, e) from None
    _require_study(path, schema.names, meta.num_rows)
    return schema.names, provenance_of(schema)


def provenance_of(table_or_schema):
    """The provenance dict stored in a table's (or schema's) metadata; ``{}`` if none."""
    schema = getattr(table_or_schema, "schema", table_or_schema)
    meta = (schema.metadata or {}).get(METADATA_KEY.encode())
    return json.loads(meta) if meta else {}


def is_study_output(path):
    """Whether ``path`` is a readable parquet file of study rows."""
    try:
        read_results_schema(path)
        return True
    except ResultsError:
        return False


def _check_parent(path):
    """The nearest existing ancestor of ``path`` must be a directory that can be written to."""
    here = Path(path).absolute()
    for anc in here.parents:
        if anc.exists():
            if not anc.is_dir():
                raise ResultsError(path, f"{anc} is not a directory")
            if not os.access(anc, os.W_OK | os.X_OK):
                raise ResultsError(path, f"cannot write in the directory {anc}")
            return


def check_output_file(path):
    """Raise ResultsError unless a study's results can be written to ``path``: a ``.parquet`` file
    path (not a directory) whose directory exists or can be made, and whose shard directory
    ``<path>.shards`` is not a file. Reads nothing and writes nothing: the check a run makes
    before any work starts."""
    path = Path(path)
    if path.is_dir():
        raise ResultsError(path, "is a directory; the output is a .parquet file (e.g. "
                           f"{path / 'results.parquet'})")
    if path.suffix != ".parquet":
        raise ResultsError(path, "the output must be a .parquet file")
    if path.exists() and not path.is_file():
        raise ResultsError(path, "exists and is not a regular file")
    shards = shard_dir(path)
    if shards.exists() and not shards.is_dir():
        raise ResultsError(path, f"{shards} (where the run keeps its finished cells) is not a directory")
    _check_parent(path)
    return path


def check_output_dir(path):
    """Raise ResultsError unless ``path`` is a directory, or one that can be made, to write into
    (figures): checked before any work starts."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise ResultsError(path, "is not a directory (figures are written into a directory)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ResultsError(path, "cannot write in this directory")
        return path
    _check_parent(path / "x")
    return path


def write_table(df, path, metadata=None):
    """Write a DataFrame (or pyarrow Table) to ``path`` atomically; ``metadata`` (str -> bytes) is
    added to the schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed write leaves no temporary file behind
        raise
    return path


def write_results(frame, path, provenance):
    """Write a study's merged rows with their provenance (JSON under the key ``rec_bench``)."""
    return write_table(frame, path, {METADATA_KEY: json.dumps(provenance).encode()})


# ------------------------------------------------------------------------------------------ shards
def shard_dir(output):
    """The directory holding the finished cells of a running study whose output is ``output``."""
    return Path(str(output) + ".shards")


def open_shards(output, fresh=False):
    """Prepare the shard directory of ``output``: emptied (and the output removed) if ``fresh``,
    without the temporary files of an interrupted write. Returns its path."""
    shards = shard_dir(output)
    if fresh:
        shutil.rmtree(shards, ignore_errors=True)
        Path(output).unlink(missing_ok=True)
    shards.mkdir(parents=True, exist_ok=True)
    for stale in shards.glob(".*.tmp-*"):  # a write cut short by an interruption: never a shard
        stale.unlink(missing_ok=True)
    return shards


def write_shard(shards, cell_id, rows):
    """Write one finished cell's rows as the shard ``<shards>/<cell_id>.parquet``."""
    return write_table(rows, Path(shards) / f"{cell_id}.parquet")


def remove_shards(output):
    shutil.rmtree(shard_dir(output), ignore_errors=True)


def finished_cells(output, wanted):
    """{cell id: rows} of the cells in ``wanted`` that a previous run finished: its shards, then
    the cells of an existing output. An unreadable shard is deleted (it will be recomputed, never
    trusted); an unreadable output is ignored."""
    import pyarrow.parquet as pq

    found = {}
    shards = shard_dir(output)
    if shards.is_dir():
        for f in shards.glob("*.parquet"):
            if f.stem in wanted:
                try:
                    found[f.stem] = pq.read_table(f).to_pandas()
                except Exception:
                    f.unlink(missing_ok=True)
    if Path(output).exists():
        try:
            prev = pq.read_table(output).to_pandas()
            for cid, g in prev.groupby("study_cell", sort=False):
                if cid in wanted and cid not in found:
                    found[cid] = g.reset_index(drop=True)
        except Exception:
            pass
    return found


def merge(cells):
    """One table from the cells' row frames: sorted by (cell_index, rep), with the layout's columns
    in layout order (a column the layout does not define, e.g. from an older version, is dropped)."""
    import pandas as pd

    frame = pd.concat(list(cells), ignore_index=True)
    frame = frame.sort_values(["cell_index", "rep"], kind="stable").reset_index(drop=True)
    return frame[study_columns(frame.columns, keep_others=False)]
