"""The row layout of results, defined once: one row per message, which columns, in which order.

Two levels share it:

* the message columns (``MESSAGE_COLUMNS``): what one message yields, whoever runs it
  (``rec_bench.simulate``, a study chunk, or a message the time budget never ran);
* a study row: the cell's parameters in front (``CELL_COLUMNS``, then the ``q_*`` / ``p_*``
  target and proposal parameters of explicit pairs), the repetition index ``rep``, the message
  columns, ``censor`` (why the message is censored) and ``cell_seconds`` (the cell's wall time).

Divergences (``kl``, ``dinf``) and code lengths are in bits. Only numpy is imported here, so that
``import rec_bench`` stays fast; pandas is imported when a frame is built.
"""

from __future__ import annotations

import numpy as np

# one message: column -> pandas dtype
MESSAGE_COLUMNS = {
    "seed": "uint64",  # the message's seed for the shared randomness
    "kl": "float64",  # D_KL[Q || P] of this message's pair (bits)
    "dinf": "float64",  # D_inf[Q || P] of this message's pair (bits)
    "steps": "int64",  # search steps (candidates drawn for the list methods); max_steps if censored
    "nbits": "Int64",  # length of the real code; <NA> when censored
    "ideal_bits": "float64",  # log2 of the heap or candidate index; NaN when censored
    "sample": "float64",  # the decoded sample; NaN when censored
    "censored": "bool",  # the message did not finish (step budget, or time budget in a study)
}

# the cell's parameters, repeated on each of its rows: column -> pandas dtype (None: inferred,
# i.e. pandas' string dtype)
CELL_COLUMNS = {
    "study_cell": None,  # the cell's identity: a hash of everything that determines its rows
    "cell_index": "int64",  # position in the expanded spec: orders the rows
    "construction": None,  # fixed_kl | gaussian_channel | explicit
    "family": None,  # target/proposal family, e.g. Normal/Normal
    "grid_kl": "float64",  # fixed_kl: the grid's KL (bits); NaN otherwise
    "grid_dinf": "float64",  # fixed_kl: the grid's D_inf (bits); NaN otherwise
    "grid_info": "float64",  # gaussian_channel: I (bits); NaN otherwise
    "label": None,  # a readable name of the pair
    "method": None,
    "code": None,  # elias-delta | elias-gamma, or fixed for the fixed-length methods
    "depth": "Int64",  # DAD*'s depth D
    "bits": "Int64",  # ORC/MRC's K (2^K candidates)
    "code_bits": "Int64",  # size of a fixed-length code: D + 1 or K
    "extra_bits": "Int64",  # code_bits - round(KL) when the spec gave the size relative to KL
    "max_steps": "int64",  # the per-message step budget
    "time_budget": "float64",  # the cell's wall-time budget (s); NaN without one
}
PAIR_PREFIXES = ("q_", "p_")  # explicit pairs: q_<target parameter>, p_<proposal parameter>, float64

# columns only a study with blocks (rec_bench.coding.blocks) has, on every row, after cell_seconds
BLOCK_COLUMNS = {
    "block_size": "int64",  # coordinates per message (1: the per-coordinate methods of that study)
    "block_joint": "float64",  # sum_j Phi^-1(F_Q(x_j)) / sqrt(b) of the block's samples; NaN for b = 1
}

# why a study row is censored
CENSOR_NONE, CENSOR_STEPS, CENSOR_TIME = "", "steps", "time"


def _pd():
    import pandas as pd  # on first use: it costs ~0.4 s of `import rec_bench`

    return pd


def message_frame(seed, kl, dinf, steps, nbits, ideal_bits, sample, censored):
    """The message columns as a DataFrame, from arrays (or scalars broadcast) of one length.

    ``nbits`` is masked to <NA> where ``censored``; everything else is taken as given (callers put
    NaN in ``ideal_bits`` and ``sample`` of censored messages). This is the frame
    ``rec_bench.simulate`` returns.
    """
    pd = _pd()
    seed = np.asarray(seed, np.uint64).ravel()
    n = seed.shape[0]

    def col(a, dtype):
        return np.array(np.broadcast_to(np.asarray(a, dtype), (n,)))

    censored = col(censored, bool)
    nbits = col(nbits, np.int64)
    return pd.DataFrame({
        "seed": seed,
        "kl": col(kl, np.float64),
        "dinf": col(dinf, np.float64),
        "steps": col(steps, np.int64),
        "nbits": pd.arrays.IntegerArray(np.where(censored, 0, nbits), censored.copy()),
        "ideal_bits": col(ideal_bits, np.float64),
        "sample": col(sample, np.float64),
        "censored": censored,
    })


def not_run_frame(seed, kl, dinf):
    """Messages that never ran (a study cell's time budget ran out): censored, with 0 steps."""
    n = np.asarray(seed).size
    return message_frame(seed, kl, dinf, 0, 0, np.nan, np.nan, np.ones(n, bool))


def messages(df):
    """``df``'s message columns, in layout order and dtypes; other columns are left out."""
    missing = [c for c in MESSAGE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"a message frame needs the columns {', '.join(missing)}")
    return df[list(MESSAGE_COLUMNS)].astype(MESSAGE_COLUMNS)


def study_rows(cell_values, rep, msgs, censor, cell_seconds):
    """A cell's study rows: its parameters ``cell_values`` (a dict of the ``CELL_COLUMNS`` and any
    ``q_*``/``p_*`` columns) repeated in front of the message frame ``msgs``, with the repetition
    indices ``rep``, the censoring reasons ``censor`` and the cell's wall time."""
    pd = _pd()
    msgs = messages(msgs).reset_index(drop=True)
    n = len(msgs)
    unknown = [k for k in cell_values if k not in CELL_COLUMNS and not k.startswith(PAIR_PREFIXES)]
    missing = [k for k in CELL_COLUMNS if k not in cell_values]
    if unknown or missing:
        raise ValueError(f"cell columns: unknown {unknown}, missing {missing}")
    front = pd.DataFrame({k: [cell_values[k]] * n for k in CELL_COLUMNS})
    front = front.astype({k: t for k, t in CELL_COLUMNS.items() if t is not None})
    pair = pd.DataFrame({k: np.full(n, float(v)) for k, v in cell_values.items()
                         if k.startswith(PAIR_PREFIXES)})
    run = pd.DataFrame({"rep": np.asarray(rep, np.int64)})
    tail = pd.DataFrame({"censor": np.asarray(censor, dtype=object),
                         "cell_seconds": np.full(n, float(cell_seconds))})
    return pd.concat([front, pair, run, msgs, tail], axis=1)


def study_columns(columns, keep_others=True):
    """``columns`` (a study table's) in layout order: cell columns, pair parameters (in the order
    given), rep, the message columns, censor, cell_seconds, then anything else if ``keep_others``."""
    cols = list(columns)
    head = [c for c in CELL_COLUMNS if c in cols]
    pair = [c for c in cols if c.startswith(PAIR_PREFIXES)]
    body = [c for c in ("rep", *MESSAGE_COLUMNS, "censor", "cell_seconds", *BLOCK_COLUMNS) if c in cols]
    rest = [c for c in cols if c not in head + pair + body] if keep_others else []
    return head + pair + body + rest


STUDY_REQUIRED = (*CELL_COLUMNS, "rep", *MESSAGE_COLUMNS, "censor")


def is_study_table(columns):
    """Whether a table with these columns holds study rows (ignoring extra columns)."""
    return set(STUDY_REQUIRED) <= set(columns)
