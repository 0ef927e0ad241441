"""The coding layer: how a search's result becomes bits, and back, in one place.

Bottom up:

* ``codes``: the index codes (Elias gamma and delta, fixed length, the model-coded path), compiled,
  over a bit buffer; and the same universal codes through an entropy coder's sink.
* ``sinks``: one protocol over raw bit buffers and constriction's range and ANS coders; LEB128
  varints and a byte reader for headers.
* ``kernels``: the compiled encoder and decoder of rows of messages, specialised per method.
* ``setup``: options read from the method's record, step budgets, size checks; ``seeds``.
* ``rows``: the kernels called from Python, their statuses turned into exceptions.
* ``index_model``: the model-coded index (IndexModel).
* ``blocks``: b coordinates of a vector as one message (``block=b``; PFR, RS, ORC, MRC), and
  ``encode_blocks`` / ``decode_blocks`` over any sink.
* ``vector``, ``stream``, ``scalar``: the codecs users call.
"""

from .index_model import IndexModel
from .scalar import Code, decode, encode
from .seeds import coordinate_seed, message_seed
from .setup import DEFAULT_MAX_STEPS, BudgetExceeded
from .stream import StreamDecoder, StreamEncoder
from .vector import VectorCode, decode_vector, encode_vector

__all__ = [
    "encode", "decode", "Code", "encode_vector", "decode_vector", "VectorCode", "StreamEncoder",
    "StreamDecoder", "IndexModel", "coordinate_seed", "message_seed", "BudgetExceeded", "DEFAULT_MAX_STEPS",
]
