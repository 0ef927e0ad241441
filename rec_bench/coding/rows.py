"""The compiled entry points called from Python: rows of messages in, arrays and bits out.

``run_encode(...)`` and ``run_decode(...)`` call a method's entry points (rec_bench.coding.kernels) with
arrays of the one type each parameter is compiled for, and turn a kernel's status into the
exception a user sees: BudgetExceeded, KeyboardInterrupt, or ValueError naming where a code is
corrupt. :class:`Rows` holds what an encoder returns per row.
"""

import math
from typing import NamedTuple

import numpy as np

from ..search.workspace import new_workspace
from ..status import CENSORED, INTERRUPTED, OK
from .kernels import entry
from .setup import ERRORS, BudgetExceeded, where

_WS = [None]  # the search workspace, reused across calls (compiled code holds the GIL)


def _workspace():
    if _WS[0] is None:
        _WS[0] = new_workspace(1024)
    return _WS[0]


class Rows(NamedTuple):
    """Per-row results of an encoder call (arrays of one entry per row)."""

    status: np.ndarray  # int8: rec_bench.status
    steps: np.ndarray
    drawn: np.ndarray  # samples of P drawn
    index_bits: np.ndarray  # bit length of the index (tree methods: depth + 1)
    code_bits: np.ndarray  # the code's length (-1 when censored)
    ideal: np.ndarray  # log2 of the index
    x: np.ndarray  # the sample (NaN when censored)


def run_encode(method, fam, prm, loc, scale, seeds, d, derive, budget, option, width, code, *, write=True,
               align=0, buf=None, pos=0):
    """Run ``method`` (a registry record) over the rows of ``prm``; returns (Rows, buf, pos).

    With ``write``, the codes go into ``buf`` from bit ``pos`` on and a censored row raises
    BudgetExceeded; without, censored rows are only marked. Ctrl-C raises KeyboardInterrupt.
    """
    rows = prm.shape[0]
    status = np.empty(rows, np.int8)
    counts = np.empty((rows, 4), np.int64)
    ideal = np.empty(rows)
    x = np.empty(rows)
    if buf is None:
        buf = np.zeros(max(16, 2 * rows) if write else 1, np.uint8)
    st, row, pos, buf, ws = entry("encode", method)(
        int(fam), prm, loc, scale, seeds, max(int(d), 1), bool(derive), int(budget), option, width, int(code),
        bool(write), int(align), buf, int(pos), _workspace(), status, counts, ideal, x)
    _WS[0] = ws
    if st == INTERRUPTED:
        raise KeyboardInterrupt
    if st == CENSORED:
        raise BudgetExceeded(
            f"{method.name} did not finish {where(row, d, seeds.size)} within max_steps={budget} steps "
            f"(D_inf = {prm[row, 0] / math.log(2):.4g} bits); raise max_steps")
    out = Rows(status, counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3], ideal, x)
    return out, buf, int(pos)


def run_decode(method, fam, loc, scale, seeds, d, derive, width, code, depths, buf, pos, end, *, align=0):
    """Read len(loc) rows' codes from ``buf``; returns (samples, new position). A malformed code
    raises ValueError naming the coordinate."""
    x = np.empty(loc.shape[0])
    st, row, pos = entry("decode", method)(
        int(fam), loc, scale, seeds, max(int(d), 1), bool(derive), width, int(code), depths, int(align), buf,
        int(pos), int(end), x)
    if st != OK:
        raise ValueError(ERRORS[st].format(where=where(row, d, seeds.size)))
    return x, int(pos)
