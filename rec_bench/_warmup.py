"""Compile (or load from the on-disk cache) every kernel once, so the first real call is fast."""


def warmup():
    """Run one tiny message per method through ``simulate``, ``encode`` and ``decode``."""
    from . import Normal, decode, encode, simulate
    from .methods import METHODS, default_options

    q, p = Normal(0.3, 0.8), Normal(0.0, 1.0)
    for name in METHODS:
        opts = default_options(name)  # small: no warm-up runs a long message
        simulate(name, q, p, [0], **opts)
        code = encode(q, p, name, 0, **opts)
        decode(code, p)
    # the vector kernels (rec_bench.streams): one signature each, whatever the method
    from .streams import StreamDecoder, StreamEncoder

    enc = StreamEncoder("ad*", 0)
    enc.encode_many(Normal([[0.3, 0.1]], 0.8), p)
    dec = StreamDecoder(enc.get_compressed(), "ad*", 0)
    dec.decode_many(p, 1, shape=2)
    dec.finish()
