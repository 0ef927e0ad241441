"""Studies: YAML specs -> grid of cells -> parallel runs -> one long-format parquet with provenance."""

from ..results import read_results, shard_dir
from .cells import Cell, PairPoint, expand, plan
from .runner import SchedulerError, run_study
from .schema import CONSTRUCTIONS, SpecError, build_schema, load_spec, validate



def check_spec(path):
    """Validate a spec file completely (schema, grid expansion, plots); returns its cells."""
    spec, _, _ = load_spec(path)
    return plan(spec, path)


__all__ = ["check_spec", "SpecError", "load_spec", "validate", "build_schema", "expand", "plan", "Cell",
           "PairPoint",
           "run_study", "SchedulerError", "read_results", "shard_dir", "CONSTRUCTIONS"]
