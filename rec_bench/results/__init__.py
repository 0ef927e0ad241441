"""Study results: the row layout, results files with their provenance, shards, per-cell statistics.

Everything that reads or writes a results table goes through this package: the study runner
(``rec_bench.study``) writes tables, the plots (``rec_bench.plots``) and ``rec-bench info`` read
them, and neither imports the other to do so.

* ``layout``: the columns of a result row, defined once (:data:`MESSAGE_COLUMNS`,
  :data:`CELL_COLUMNS`), and the frames built from them (:func:`message_frame`,
  :func:`not_run_frame`, :func:`study_rows`);
* ``store``: parquet files written atomically, :func:`read_results`, shards and :func:`merge`;
* ``provenance``: what a results file records about the run that made it;
* ``summary``: per-cell statistics, fits and the text summary that figures and ``info`` show.

Importing this package imports neither pandas nor pyarrow (they load on first use), so
``rec_bench.simulate`` can build its frame with :func:`message_frame` without slowing
``import rec_bench``.
"""

from .layout import (CELL_COLUMNS, CENSOR_NONE, CENSOR_STEPS, CENSOR_TIME, MESSAGE_COLUMNS, PAIR_PREFIXES,
                     is_study_table, message_frame, messages, not_run_frame, study_columns, study_rows)
from .provenance import METADATA_KEY, git_state, provenance
from .store import (ResultsError, check_output_dir, check_output_file, finished_cells, is_study_output, merge,
                    open_shards, read_results, read_results_schema, read_table, remove_shards, shard_dir,
                    write_results, write_shard, write_table)

__all__ = [
    "MESSAGE_COLUMNS", "CELL_COLUMNS", "PAIR_PREFIXES", "CENSOR_NONE", "CENSOR_STEPS", "CENSOR_TIME",
    "message_frame", "not_run_frame", "messages", "study_rows", "study_columns", "is_study_table",
    "METADATA_KEY", "git_state", "provenance",
    "ResultsError", "check_output_file", "check_output_dir", "read_table", "read_results",
    "read_results_schema", "is_study_output", "write_table",
    "write_results", "shard_dir", "open_shards", "write_shard", "remove_shards", "finished_cells", "merge",
]
