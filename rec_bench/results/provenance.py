"""Provenance stored as JSON in the parquet file metadata (key ``rec_bench``)."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

METADATA_KEY = "rec_bench"
LIBRARIES = ("numba", "numpy", "scipy", "pandas", "pyarrow", "llvmlite", "joblib", "jsonschema")


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_state(where=None):
    """(commit, dirty) of the repository holding the rec_bench package, or (None, None).

    ``dirty`` says whether tracked files other than study outputs (results/, figures/) differ from
    the commit: whether the code and specs that ran are the committed ones. Outputs are left out
    because a study rewrites them, and a run of several specs would otherwise see its own results.
    """
    where = Path(where or Path(__file__).resolve().parents[2])
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                 ":(exclude)results", ":(exclude)figures"], cwd=where,
                                capture_output=True, text=True, timeout=10).stdout
        return commit, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def provenance(spec, text, sha, spec_path, start, end, extra=None, git=None):
    """The provenance record; ``git`` is the (commit, dirty) pair read when the run started."""
    from .. import __version__

    commit, dirty = git_state() if git is None else git
    return {
        "rec_bench_version": __version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "spec_path": str(spec_path),
        "spec_sha256": sha,
        "spec_text": text,
        "spec": spec,
        "versions": {"python": sys.version.split()[0], **{n: _version(n) for n in LIBRARIES}},
        "platform": platform.platform(),
        "start_time": start.isoformat(),
        "end_time": end.isoformat(),
        "seconds": round((end - start).total_seconds(), 3),
        "argv": sys.argv,
        **(extra or {}),
    }
