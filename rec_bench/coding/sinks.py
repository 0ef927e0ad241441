"""Where bits go and come from: raw bit buffers and constriction's entropy coders, one protocol.

A *sink* takes symbols; a *source* gives them back in the same order:

* ``put_bits(packed, nbits)`` / ``get_bits(nbits)``: ``nbits`` raw bits, most significant first,
  given and returned packed into bytes (a uint8 array, zero-padded). An entropy coder sends them
  as uniform symbols of 16 bits (and one of the remaining bits), so they cost exactly ``nbits``.
* ``put_flags(flags)`` / ``get_flag()``: bits sent one uniform symbol each, for bits a decoder
  must see one at a time (the zero-run prefix of a universal code).
* ``put_symbols(symbols, model)`` / ``get_symbols(n, model)``: symbols of a constriction model
  (a categorical table), for entropy coders only.

:class:`BitSink` / :class:`BitSource` hold a bit buffer that the compiled encoders and decoders
(rec_bench.coding.kernels) also write and read in place; :class:`RangeSink` / :class:`RangeSource`
use constriction's range coder (a queue: symbols come back in the order they went in);
:class:`AnsSink` / :class:`AnsSource` its ANS coder (a stack: the sink keeps what it is given and
pushes it in reverse when finished, so that the source pops it in order). The constriction coders
are Bamler's (constriction, 2022); everything here only arranges calls to them.

Also here: LEB128 varints and a byte reader, for the headers of streams and files.
"""

import numpy as np

from .codes import padding_ok

CHUNK = 16  # raw bits go through an entropy coder as uniform symbols of up to 16 bits


# ---- bytes -----------------------------------------------------------------------------------------

def varint(n):
    """LEB128: 7 bits per byte, least significant group first, high bit set on all but the last."""
    n = int(n)
    if n < 0:
        raise ValueError(f"a varint is non-negative, got {n}")
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class ByteReader:
    """Reads a header field by field; every shortfall is a ValueError naming the field.

    ``kind`` names the container in messages ("stream", "file").
    """

    def __init__(self, data, kind="stream"):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a {kind} is bytes, got {type(data).__name__}")
        self.data = bytes(data)
        self.pos = 0
        self.kind = kind

    def left(self):
        return len(self.data) - self.pos

    def take(self, k, what):
        if self.pos + k > len(self.data):
            raise ValueError(f"truncated {self.kind}: {what} is cut off")
        out = self.data[self.pos : self.pos + k]
        self.pos += k
        return out

    def varint(self, what, limit=2**64):
        """A LEB128 varint below ``limit``."""
        n = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ValueError(f"truncated {self.kind}: it ends inside its header ({what})")
            if shift > 63:
                raise ValueError(f"corrupted {self.kind}: its header's {what} is too long")
            b = self.data[self.pos]
            self.pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        if n >= limit:
            raise ValueError(f"corrupted {self.kind}: its {what} {n} is out of range (at most {limit - 1})")
        return n

    def rest(self):
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


# ---- raw bits --------------------------------------------------------------------------------------

class BitSink:
    """A growing bit buffer (``buf``, zero past ``pos``); compiled encoders write into it in place."""

    def __init__(self, nbytes=64):
        self.buf = np.zeros(max(int(nbytes), 1), np.uint8)
        self.pos = 0

    def _room(self, nbits):
        need = (self.pos + nbits + 7) >> 3
        if need > self.buf.size:
            bigger = np.zeros(max(need, 2 * self.buf.size), np.uint8)
            bigger[: self.buf.size] = self.buf
            self.buf = bigger

    def put_bits(self, packed, nbits):
        nbits = int(nbits)
        self._room(nbits)
        bits = np.unpackbits(np.asarray(packed, np.uint8), count=nbits)
        where = self.pos + np.flatnonzero(bits)
        np.bitwise_or.at(self.buf, where >> 3, (np.uint8(0x80) >> (where & 7).astype(np.uint8)))
        self.pos += nbits

    def put_flags(self, flags):
        flags = np.asarray(flags, np.uint8)
        self.put_bits(np.packbits(flags), flags.size)

    def put_symbols(self, symbols, model):
        raise ValueError("a raw bit sink takes bits, not model symbols: use an entropy coder's sink")

    def data(self):
        """The bits so far, zero-padded to whole bytes."""
        return self.buf[: (self.pos + 7) >> 3].tobytes()


class BitSource:
    """Reads a bit buffer from ``pos`` to ``end``; compiled decoders read it in place."""

    def __init__(self, data):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"a code is bytes, got {type(data).__name__}")
        self.buf = np.frombuffer(bytes(data), np.uint8).copy()
        self.pos = 0
        self.end = 8 * self.buf.size

    def bits_left(self):
        return self.end - self.pos

    def get_bits(self, nbits):
        nbits = int(nbits)
        if nbits > self.end - self.pos:
            raise ValueError(f"truncated code: {nbits} bits asked for, {self.end - self.pos} left")
        first = self.pos >> 3  # only the bytes these bits lie in
        bits = np.unpackbits(self.buf[first : (self.pos + nbits + 7) >> 3])[self.pos - 8 * first :][:nbits]
        self.pos += nbits
        return np.packbits(bits)

    def get_flag(self):
        return int(self.get_bits(1)[0] >> 7)

    def get_symbols(self, n, model):
        raise ValueError("a raw bit source gives bits, not model symbols")

    def exhausted(self):
        """Only the final padding (fewer than 8 zero bits) is left."""
        return bool(padding_ok(self.buf, self.pos, self.end))

    def finish(self):
        if not self.exhausted():
            raise ValueError(f"corrupted code: {self.end - self.pos} bits follow the last code, expected "
                             "fewer than 8 zero padding bits")


# ---- entropy coders ----------------------------------------------------------------------------

def _sizes(nbits):
    """The sizes of the uniform symbols that carry ``nbits`` raw bits: 2^16, ..., 2^(the rest)."""
    n = (nbits + CHUNK - 1) // CHUNK
    sizes = np.full(n, 1 << CHUNK, np.int32)
    if nbits % CHUNK:
        sizes[-1] = 1 << (nbits % CHUNK)
    return sizes


def _chunks(packed, nbits):
    """Raw bits as CHUNK-bit uniform symbols: (symbols, sizes) for constriction's Uniform family."""
    sizes = _sizes(nbits)
    padded = np.zeros(2 * sizes.size, np.uint8)
    padded[: (nbits + 7) >> 3] = np.asarray(packed, np.uint8)[: (nbits + 7) >> 3]
    words = padded.view(">u2").astype(np.int32)
    rest = nbits % CHUNK
    if rest:
        words[-1] >>= CHUNK - rest
    return words, sizes


def _unchunk(words, nbits):
    """The inverse of :func:`_chunks`: packed bytes (zero-padded to a whole 16-bit word)."""
    words = np.asarray(words, np.int64)
    rest = nbits % CHUNK
    if rest and words.size:
        words[-1] <<= CHUNK - rest
    return words.astype(">u2").view(np.uint8)


class _Models:
    def __init__(self):
        import constriction

        self.uniform = constriction.stream.model.Uniform()  # a family: each symbol's size given
        self.flag = constriction.stream.model.Uniform(2)


class _CoderSink:
    """The protocol over an entropy coder; ``_put(symbols, model, *params)`` is the coder's call."""

    def put_bits(self, packed, nbits):
        nbits = int(nbits)
        if nbits:
            words, sizes = _chunks(packed, nbits)
            self._put(words, self.models.uniform, sizes)

    def put_flags(self, flags):
        flags = np.asarray(flags, np.int32)
        if flags.size:
            self._put(flags, self.models.flag)

    def put_symbols(self, symbols, model):
        symbols = np.asarray(symbols, np.int32)
        if symbols.size:
            self._put(symbols, model)


class _CoderSource:
    """The source side; ``_get(n, model, *params)`` decodes n symbols, turning constriction's
    refusals of data no encoder wrote into ValueError."""

    def _get(self, n, model, *params):
        try:
            if params:
                return np.asarray(self.coder.decode(model, *params))
            return np.asarray(self.coder.decode(model, n))
        except ValueError:
            raise
        except Exception as e:  # constriction signals data that no encoder wrote with an AssertionError
            raise ValueError(f"corrupted stream: the entropy decoder refused it ({e})") from None

    def get_bits(self, nbits):
        nbits = int(nbits)
        if nbits > self.capacity:
            raise ValueError(f"corrupted stream: it names {nbits} bits, more than its {self.capacity} bits "
                             "hold")
        if nbits == 0:
            return np.zeros(0, np.uint8)
        sizes = _sizes(nbits)
        return _unchunk(self._get(sizes.size, self.models.uniform, sizes), nbits)

    def get_flag(self):
        return int(self._get(1, self.models.flag)[0])

    def get_symbols(self, n, model):
        if n == 0:
            return np.zeros(0, np.int64)
        return self._get(n, model).astype(np.int64)


class RangeSink(_CoderSink):
    """constriction's range coder: symbols are decoded in the order they were put."""

    def __init__(self):
        import constriction

        self.models = _Models()
        self.coder = constriction.stream.queue.RangeEncoder()

    def _put(self, symbols, model, *params):
        self.coder.encode(symbols, model, *params)

    def num_bits(self):
        return int(self.coder.num_bits())

    def words(self):
        """The compressed data: 32-bit words (uint32), the coder's flush included."""
        return self.coder.get_compressed()


class RangeSource(_CoderSource):
    def __init__(self, words):
        import constriction

        self.models = _Models()
        words = np.asarray(words, np.uint32)
        self.coder = constriction.stream.queue.RangeDecoder(words)
        # no vector can name more bits than the data holds (and the coder's 64-bit state)
        self.capacity = 32 * words.size + 64

    def exhausted(self):
        return bool(self.coder.maybe_exhausted())


class AnsSink(_CoderSink):
    """constriction's ANS coder (a stack). What is put is kept, and pushed in reverse when the
    words are asked for, so that an :class:`AnsSource` pops it in the order it was put."""

    def __init__(self):
        self.models = _Models()
        self._ops = []
        self._words = None

    def _put(self, symbols, model, *params):
        if self._words is not None:
            raise ValueError("this ANS sink is finished: its words were taken")
        self._ops.append((symbols, model, params))

    def num_bits(self):
        return 32 * self.words().size

    def words(self):
        if self._words is None:
            import constriction

            coder = constriction.stream.stack.AnsCoder()
            self.push_onto(coder)
            self._words = coder.get_compressed()
        return self._words

    def push_onto(self, coder):
        """Push what was put onto ``coder`` (a constriction AnsCoder that may hold data already), in
        reverse, so that popping from it gives these symbols in the order they were put, before
        whatever the coder held. Leaves this sink as it was (it may be pushed again)."""
        for symbols, model, params in reversed(self._ops):
            coder.encode_reverse(symbols, model, *params)
        return coder


class AnsSource(_CoderSource):
    """The ANS coder's source. An ANS coder holds any number of leading zero symbols in no words at
    all, so its data bounds nothing: ``capacity`` (bits a caller allows, default unbounded) is the
    bound a format that uses it must set from its own header."""

    def __init__(self, words, capacity=None):
        import constriction

        self.models = _Models()
        words = np.asarray(words, np.uint32)
        self.coder = constriction.stream.stack.AnsCoder(words)
        self.capacity = float("inf") if capacity is None else int(capacity)

    def exhausted(self):
        return bool(self.coder.is_empty())
