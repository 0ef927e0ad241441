"""Streams: many vectors appended to one stream, read back in order.

:class:`StreamEncoder` / :class:`StreamDecoder` have the shape of constriction's stream coders:
``encode`` appends, ``get_compressed`` returns the data, a decoder reads in the same order. With
universal or fixed-length codes the vectors' codes follow each other bit by bit and the stream is
padded once at its end; with an :class:`IndexModel` everything goes through one range coder,
framed with the number of vectors (docs/streams.md).
"""

import math

import numpy as np

from ..methods import method_spec
from ..pairs import proposal_family, resolve
from .seeds import check_seed, check_seeds, message_seed, message_seeds
from .setup import check_model_index, count, resolve_options, setup, step_budget, vector_shape
from .sinks import BitSource
from .blocks import check_block, decode_blocks, encode_blocks, vector_fields
from .vector import (VectorCode, check_block_options, check_model, check_size, decode_from, encode_into,
                     model_frame, new_sink, read_model_frame)

__all__ = ["StreamEncoder", "StreamDecoder"]


def _check_options(method, code, index_model):
    """The stream's method, with its code and index model checked before anything is appended
    (size options may differ per call and are checked there)."""
    m = method_spec(method)
    if m.option is None or code is not None:
        resolve_options(m, code)  # an unknown code, or a code given to a fixed-length method, raises
    check_model(index_model)
    if index_model is not None:
        check_model_index(m)
    return m


class StreamEncoder:
    """Append vectors to one stream; ``get_compressed()`` returns it.

    Method, code, step budget and index model are the stream's; ``depth`` and ``bits`` are
    defaults that each call may override. Vector j of the stream (j = 0, 1, ... in the order of
    appending) has the seed ``message_seed(seed, j)`` unless the call gives its own. ``block=b``
    (PFR, RS, ORC, MRC) codes every vector in blocks of b coordinates (rec_bench.coding.blocks);
    ``threads`` bounds the Numba threads of the block searches.
    """

    def __init__(self, method="ad*", seed=0, *, code=None, depth=None, bits=None, index_model=None,
                 max_steps=None, block=None, threads=None):
        self.method = _check_options(method, code, index_model).name
        self.block = check_block(self.method, block)
        if self.block is not None:
            check_block_options(self.method, depth, index_model)
        self.threads = threads
        self.seed = int(check_seed(seed))
        self.code = code
        self.depth, self.bits = depth, bits
        self.index_model = index_model
        self.budget = step_budget(max_steps)
        self._sink = new_sink(index_model, 512)
        self.count = 0

    def _options(self, depth, bits):
        return self.depth if depth is None else depth, self.bits if bits is None else bits

    def _append(self, q, p, seeds, depth, bits, pair, one=False):
        if self.block is not None:
            check_block_options(self.method, depth, None)
            c = encode_blocks(self._sink, q, p, self.method, seeds, block=self.block,
                              bits=self.bits if bits is None else bits, code=self.code, max_steps=self.budget,
                              threads=self.threads, _pair=pair)
            self.count += seeds.size
            return c.nbits, vector_fields(c, one)
        s = setup(self.method, self.code, *self._options(depth, bits), pair.shape, self.index_model)
        fields = encode_into(self._sink, pair, s, seeds, self.budget)
        self.count += seeds.size
        nbits = None if self.index_model is not None else int(fields["code_bits"].sum())
        return nbits, fields

    def encode(self, q, p, *, seed=None, depth=None, bits=None):
        """Append one vector (shape: the broadcast shape of q's and p's parameters); returns its
        :class:`VectorCode` (``bits`` None: the bits are in the stream)."""
        s = check_seed(message_seed(self.seed, self.count) if seed is None else seed)
        nbits, fields = self._append(q, p, np.array([s], np.uint64), depth, bits, resolve(q, p), one=True)
        return VectorCode(bits=None, nbits=nbits, seed=int(s), **fields)

    def encode_many(self, q, p, *, seeds=None, depth=None, bits=None):
        """Append n vectors in one compiled call: the parameters of q and p broadcast to (n, ...),
        the first axis running over vectors. The same as n calls of :meth:`encode` with the rows, bit
        for bit; ``seeds`` (n,) defaults to the vectors' message seeds. Returns one
        :class:`VectorCode` whose arrays have shape (n, ...) and whose ``seed`` is the array of seeds."""
        pair = resolve(q, p)
        if len(pair.shape) == 0:
            raise ValueError("encode_many needs parameters with a leading axis that runs over vectors")
        n = pair.shape[0]
        s = message_seeds(self.seed, self.count, n) if seeds is None else check_seeds(seeds, n)
        nbits, fields = self._append(q, p, s, depth, bits, pair)
        return VectorCode(bits=None, nbits=nbits, seed=s, **fields)

    def num_bits(self):
        """Bits in the stream so far (universal codes: exact, before padding; model-coded: the range
        coder's words, its header not included)."""
        if self.index_model is None:
            return self._sink.pos
        return self._sink.num_bits()

    def get_compressed(self):
        """The stream as bytes: every vector's code, then one padding (see docs/streams.md)."""
        if self.index_model is None:
            return self._sink.data()
        return model_frame(self.count, self._sink.words())

    def __len__(self):
        return self.count


class StreamDecoder:
    """Read the vectors of a stream back in the order they were appended.

    Takes the encoder's method, seed, code, options and index model. :meth:`decode` reads one
    vector, :meth:`decode_many` several; :meth:`finish` checks that nothing but the final padding
    is left. A model-coded stream knows how many vectors it holds: asking for more is a ValueError,
    and so is data left after its last vector once that vector is read.
    """

    def __init__(self, data, method="ad*", seed=0, *, code=None, depth=None, bits=None, index_model=None,
                 block=None):
        self.method = _check_options(method, code, index_model).name
        self.block = check_block(self.method, block)
        if self.block is not None:
            check_block_options(self.method, depth, index_model)
        self.seed = int(check_seed(seed))
        self.code = code
        self.depth, self.bits = depth, bits
        self.index_model = index_model
        if index_model is None:
            self._source, self._total = BitSource(data), None
        else:
            self._total, self._source = read_model_frame(data)
        self.count = 0

    def _options(self, depth, bits):
        return self.depth if depth is None else depth, self.bits if bits is None else bits

    def _read(self, p, n, shape, one, seeds, depth, bits):
        if self._total is not None and self.count + n > self._total:
            left = self._total - self.count
            raise ValueError(f"the stream holds {self._total} vectors; {n} asked for, {left} left")
        d = math.prod(one)
        if self.block is not None:
            check_block_options(self.method, depth, None)
            s = message_seeds(self.seed, self.count, n) if seeds is None else check_seeds(seeds, n)
            x = decode_blocks(self._source, p, n, self.method, s, shape=one, block=self.block,
                              bits=self.bits if bits is None else bits, code=self.code).reshape(shape)
            self.count += n
            return x
        check_size(self._source, n, d, self.index_model)  # before anything of n d entries is allocated
        st = setup(self.method, self.code, *self._options(depth, bits), shape, self.index_model)
        if n * d == 0:
            proposal_family(p, shape)  # checked all the same
            x = np.empty(shape)
        else:
            s = message_seeds(self.seed, self.count, n) if seeds is None else check_seeds(seeds, n)
            x = decode_from(self._source, p, st, s, shape, d)
        self.count += n
        if self._total is not None and self.count == self._total:
            self.finish()  # a model-coded stream read whole: nothing may follow
        return x

    def decode(self, p, *, shape=None, seed=None, depth=None, bits=None):
        """The next vector (shape: ``shape``, or the proposal's)."""
        shape = vector_shape(p, shape)
        seeds = None if seed is None else [seed]
        return self._read(p, 1, shape, shape, seeds, depth, bits)

    def decode_many(self, p, n, *, shape=None, seeds=None, depth=None, bits=None):
        """The next n vectors, as an array of shape (n, ``shape``); ``shape`` is one vector's shape
        (default: the proposal's), and P's parameters broadcast to (n, shape)."""
        n = count(n)
        one = vector_shape(p, shape)
        return self._read(p, n, (n, *one), one, seeds, depth, bits)

    def maybe_exhausted(self):
        """True when no further vector can follow: a model-coded stream's announced count has been
        read, or only fewer than 8 zero bits are left (universal codes; a fixed-length code can be
        all zeros, so with DAD*, ORC or MRC the reader must know the count)."""
        if self._total is not None:
            return self.count == self._total
        return self._source.exhausted()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None:  # ``with StreamDecoder(...) as dec:``: the stream must be read whole
            self.finish()
        return False

    def finish(self):
        """Raise ValueError unless the whole stream has been read (up to its final padding). A raw
        stream carries no count of its vectors, so this (or leaving a ``with`` block) is where
        data after the last vector is refused."""
        if self._total is None:
            self._source.finish()
            return
        if self.count != self._total:
            raise ValueError(f"the stream holds {self._total} vectors, {self.count} were read")
        if not self._source.exhausted():
            raise ValueError("corrupted stream: data follows its last vector")

    def __len__(self):
        return self.count

