"""Keep Numba's on-disk cache consistent with the package's sources.

Numba invalidates a cached function when the file that defines it changes, but not when a function
it calls, defined in another file, changes: the caller's cached machine code keeps the old callee
compiled in. After editing, say, ``search/tree.py``, ``search/batch.py``'s cached kernels would
silently run the old search. On import, this module fingerprints the source files that define kernels
(``KERNEL_SOURCES``) and, when the fingerprint differs from the one stored beside the cache,
removes the package's cached kernels so that they are compiled afresh. Editing the study runner,
the plots or a docstring elsewhere leaves the cache alone. Failures (a read-only install, say) are ignored:
Numba then falls back to its own rules.
"""

import hashlib
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
KERNEL_SOURCES = (
    "special.py", "_math.py", "_quadrature.py", "_signals.py", "_dispatch.py", "methods.py", "randomness.py",
    "status.py", "coding/codes.py", "coding/kernels.py", "coding/seeds.py", "pairs/*.py", "search/*.py", "vae/_kernels.py",
)
_STAMP = _ROOT / "__pycache__" / "numba-sources.sha256"


def _fingerprint():
    h = hashlib.sha256()
    for path in sorted(p for pattern in KERNEL_SOURCES for p in _ROOT.glob(pattern)):
        h.update(str(path.relative_to(_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def refresh():
    """Drop cached kernels compiled from other sources than the ones now installed."""
    try:
        digest = _fingerprint()
        if _STAMP.exists() and _STAMP.read_text() == digest:
            return
        for pattern in ("*.nbi", "*.nbc"):
            for cached in _ROOT.rglob(pattern):
                cached.unlink(missing_ok=True)
        _STAMP.parent.mkdir(exist_ok=True)
        tmp = _STAMP.with_suffix(f".{id(digest)}.tmp")
        tmp.write_text(digest)
        tmp.replace(_STAMP)
    except OSError:
        pass
