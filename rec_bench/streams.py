"""Vectors and streams under their former module name (rec_bench 0.1): the same objects as
``rec_bench.encode_vector``, ``rec_bench.StreamEncoder`` and so on, which live in rec_bench.coding."""

from .coding import (  # noqa: F401
    IndexModel, StreamDecoder, StreamEncoder, VectorCode, coordinate_seed, decode_vector, encode_vector,
    message_seed,
)

__all__ = ["VectorCode", "encode_vector", "decode_vector", "StreamEncoder", "StreamDecoder", "IndexModel",
           "coordinate_seed", "message_seed"]
