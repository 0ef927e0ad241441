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


def simulate(method, q, p, seeds, *, max_steps=None, code=None, depth=None, bits=None, progress=False,
             block=None):
    """Encode one message per element of ``seeds`` broadcast against the parameters of q and p.

    Returns a DataFrame, one row per message (rec_bench.results.layout): seed, kl and dinf of its
    pair (bits), steps (each step draws one sample of P), nbits (length of the real code; <NA> when
    censored), ideal_bits (log2 of the index), sample (NaN when censored) and censored (the step
    budget ran out). Options as for :func:`rec_bench.encode`. ``progress=True`` shows a progress bar
    (tqdm). Ctrl-C stops the run within about a second with KeyboardInterrupt.

    ``block=b`` (PFR, RS, ORC, MRC; b >= 2): see :func:`simulate_blocks`.
    """
    from .coding.blocks import check_block

    if check_block(method, block) is not None:
        if depth is not None:
            raise ValueError(f"{method} takes no depth= option")
        return simulate_blocks(method, q, p, seeds, block=block, max_steps=max_steps, code=code, bits=bits)
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


def simulate_blocks(method, q, p, seeds, *, block, max_steps=None, code=None, bits=None):
    """Vectors coded in blocks of ``block`` coordinates (rec_bench.coding.blocks), one row per block.

    The parameters of q and p broadcast to (n, d) (or (d,) for one vector), ``seeds`` to (n,):
    vector v has d coordinates and the seed seeds[v], its block k the seed
    ``coordinate_seed(seeds[v], k)``. Returns a DataFrame with the message columns
    (rec_bench.results.layout; ``seed`` is the block's own seed, ``kl`` and ``dinf`` the block's,
    i.e. the sums over its coordinates, ``steps`` its candidates, ``sample`` its first coordinate)
    and ``vector``, ``block``, ``size`` (coordinates in the block), ``drawn`` (coordinate draws)
    and ``samples`` (the block's coordinates, a list per row; empty when censored).
    """
    from .coding.blocks import encode_blocks
    from .coding.sinks import BitSink
    s = _seeds(seeds).ravel()
    pair = resolve(q, p)
    shape = pair.shape
    if len(shape) == 1:
        shape = (1, shape[0])
    if len(shape) != 2:
        raise ValueError(f"simulate with block= takes parameters of shape (n, d) or (d,), got {pair.shape}")
    n, d = shape
    if s.size == 1 and n > 1:
        s = np.full(n, s[0], np.uint64)
    if s.size != n:
        raise ValueError(f"seeds (shape {np.shape(seeds)}) must be one per vector ({n})")
    c = encode_blocks(BitSink(), q, p, method, s, block=block, bits=bits, code=code, max_steps=max_steps,
                      write=False, _pair=pair)
    nb = c.index.shape[1]
    sizes = np.minimum(block, d - np.arange(nb) * block)
    offsets = np.arange(nb) * block
    x = c.sample.reshape(n, d)
    censored = (c.status != OK).ravel()
    seeds_b = _block_seeds(s, nb)
    samples = [x[v, offsets[k] : offsets[k] + sizes[k]].tolist() if not censored[v * nb + k] else []
               for v in range(n) for k in range(nb)]
    df = message_frame(seeds_b, c.kl.ravel(), c.dinf.ravel(), c.steps.ravel(), c.code_bits.ravel(),
                       c.ideal_bits.ravel(), np.where(censored, np.nan, x[:, offsets].ravel()), censored)
    df.insert(1, "vector", np.repeat(np.arange(n), nb))
    df.insert(2, "block", np.tile(np.arange(nb), n))
    df.insert(3, "size", np.tile(sizes, n))
    df["drawn"] = c.drawn.ravel()
    df["samples"] = samples
    return df


def _block_seeds(s, nb):
    from .coding.blocks import _layout

    one = np.zeros(nb, np.int64)
    return _layout(s, 1, one, one + 1, one, one)[0]
