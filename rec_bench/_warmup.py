"""Compile (or load from the on-disk cache) every method's entry points once, so that the first
real call is fast."""


def warmup(methods=None):
    """Run one tiny message per method (all of them by default) through ``simulate``, ``encode``,
    ``decode`` and a two-coordinate vector: the two compiled entry points of each method
    (rec_bench.coding.kernels), for the Gaussian pair."""
    from . import Normal, decode, decode_vector, encode, encode_vector, simulate
    from .methods import METHODS, default_options

    q, p = Normal(0.3, 0.8), Normal(0.0, 1.0)
    for name in METHODS if methods is None else methods:
        opts = default_options(name)  # small: no warm-up runs a long message
        simulate(name, q, p, [0], **opts)
        decode(encode(q, p, name, 0, **opts), p)
        v = encode_vector(Normal([0.3, 0.1], 0.8), p, name, 0, **opts)
        decode_vector(v, p)
    from .coding.blocks import BLOCK_METHODS

    for name in BLOCK_METHODS if methods is None else [m for m in methods if m in BLOCK_METHODS]:
        opts = default_options(name)  # blocks: one search kernel for the four methods, in two forms
        for v in (Normal([0.3, 0.1, 0.2], 0.8), Normal([[0.3, 0.1, 0.2]] * 2, 0.8)):
            decode_vector(encode_vector(v, p, name, 0, block=2, **opts), p)
