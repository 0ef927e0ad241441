"""Batch runs: many messages inside compiled code, one row per message."""

import numpy as np

from .coding.rows import run_encode
from .coding.setup import check_budget, check_family, resolve_options, step_budget
from .pairs import FAMILIES, resolve
from .results.layout import message_frame
from .status import OK

LN2 = np.log(2.0)
PROGRESS_CHUNK = 4096  # messages per compiled call when a progress bar is shown


def _seeds(seeds):
    a = np.asarray(seeds)
    if a.dtype.kind not in "iu":
        raise ValueError(f"seeds must be integers, got dtype {a.dtype}")
    if a.dtype.kind == "i" and np.any(a < 0):
        raise ValueError("seeds must be non-negative")
    return a.astype(np.uint64)


def simulate(method, q, p, seeds, *, max_steps=None, code=None, depth=None, bits=None, progress=False):
    """Encode one message per element of ``seeds`` broadcast against the parameters of q and p.

    Returns a DataFrame, one row per message (rec_bench.results.layout): seed, kl and dinf of its
    pair (bits), steps (each step draws one sample of P), nbits (length of the real code; <NA> when
    censored), ideal_bits (log2 of the index), sample (NaN when censored) and censored (the step
    budget ran out). Options as for :func:`rec_bench.encode`. ``progress=True`` shows a progress bar
    (tqdm). Ctrl-C stops the run within about a second with KeyboardInterrupt.
    """
    r = resolve_options(method, code, depth, bits)
    budget = step_budget(max_steps)
    check_budget(r.method, r.value, budget)
    s = _seeds(seeds)
    pair = resolve(q, p, shape=s.shape)
    check_family(r.method, pair.family)
    s = np.array(np.broadcast_to(s, pair.shape).ravel())  # writable: one compiled signature
    n = s.shape[0]
    option = np.full(n, r.kernel_option, np.int64)
    width = np.full(n, r.width, np.int64)
    step = n if not progress else PROGRESS_CHUNK
    parts = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="msg", desc=r.method.name)
    try:
        for lo in range(0, max(n, 1), max(step, 1)):
            hi = min(lo + step, n)
            out, _, _ = run_encode(r.method, pair.family, pair.params[lo:hi], pair.loc[lo:hi],
                                   pair.scale[lo:hi], s[lo:hi], 1, False, budget, option[lo:hi], width[lo:hi],
                                   r.code, write=False)
            parts.append(out)
            if bar is not None:
                bar.update(hi - lo)
    finally:
        if bar is not None:
            bar.close()
    status, steps, nbits, ideal, x = (np.concatenate([getattr(o, f) for o in parts])
                                      for f in ("status", "steps", "code_bits", "ideal", "x"))
    module = FAMILIES[pair.family]
    kl = np.broadcast_to(module.kl(q, p), pair.shape).ravel() / LN2
    return message_frame(s, kl, pair.params[:, 0] / LN2, steps, nbits, ideal, x, status != OK)
