"""String oracles of the index codes, for the tests only (the package's codes are compiled, in
rec_bench.coding.codes; tests/test_codecs.py checks those against these bit for bit).

Every code maps a positive integer (a heap index or a 1-based candidate index; Python ints, so any
depth) to a bit string and back, symmetrically: ``code.encode(n) -> str`` of '0'/'1' and
``code.decode(bits) -> (n, used)``. ``pack``/``unpack`` turn bit strings into bytes (most
significant bit first, zero-padded) and back. Decoding malformed input raises ValueError.

* Elias gamma: floor(log2 n) zeros, then n in binary; 2 floor(log2 n) + 1 bits.
* Elias delta (the default): Elias gamma of L = bit length of n, then n's L - 1 low bits;
  L + 2 floor(log2 L) bits, about log2 n + 2 log2(log2 n + 1) + 1.
* Fixed length (DAD*, ORC, MRC): n in exactly ``width`` bits.

Written independently of the package on purpose: nothing here imports rec_bench.
"""

ELIAS_GAMMA = 0
ELIAS_DELTA = 1
FIXED = 2


def code_length(code, bitlen, width):
    """Length in bits of the code of an integer whose bit length is ``bitlen``."""
    if code == ELIAS_GAMMA:
        return 2 * bitlen - 1
    if code == ELIAS_DELTA:
        return bitlen + 2 * (bitlen.bit_length() - 1)
    return width


class _Reader:
    def __init__(self, bits):
        self.bits = bits
        self.pos = 0

    def take(self, k, what):
        if self.pos + k > len(self.bits):
            raise ValueError(f"truncated code: {what} needs {k} more bits, {len(self.bits) - self.pos} left")
        out = self.bits[self.pos : self.pos + k]
        self.pos += k
        return out

    def zeros(self, limit, what):
        start = self.pos
        while self.pos < len(self.bits) and self.bits[self.pos] == "0":
            self.pos += 1
            if self.pos - start > limit:
                raise ValueError(f"corrupted code: {what} has more than {limit} leading zeros")
        if self.pos == len(self.bits):
            raise ValueError(f"truncated code: {what} ends inside its leading zeros")
        return self.pos - start


def _positive(n):
    n = int(n)
    if n < 1:
        raise ValueError(f"only positive integers can be coded, got {n}")
    return n


class EliasGamma:
    name = "elias-gamma"
    id = ELIAS_GAMMA
    fixed = False

    def encode(self, n):
        n = _positive(n)
        return "0" * (n.bit_length() - 1) + format(n, "b")

    def decode(self, bits, limit=4096):
        r = _Reader(bits)
        z = r.zeros(limit, "Elias gamma prefix")
        return int(r.take(z + 1, "Elias gamma value"), 2), r.pos


class EliasDelta:
    name = "elias-delta"
    id = ELIAS_DELTA
    fixed = False

    def encode(self, n):
        n = _positive(n)
        return EliasGamma().encode(n.bit_length()) + format(n, "b")[1:]

    def decode(self, bits, limit=32):
        length, used = EliasGamma().decode(bits, limit)
        r = _Reader(bits)
        r.pos = used
        return int("1" + r.take(length - 1, "Elias delta value"), 2), r.pos


class FixedLength:
    name = "fixed"
    id = FIXED
    fixed = True

    def __init__(self, width):
        self.width = int(width)
        if self.width < 1:
            raise ValueError(f"a fixed-length code needs a width of at least 1 bit, got {width}")

    def encode(self, n):
        n = int(n)
        if not 0 <= n < 2**self.width:
            raise ValueError(f"{n} does not fit in {self.width} bits")
        return format(n, f"0{self.width}b")

    def decode(self, bits):
        return int(_Reader(bits).take(self.width, "fixed-length index"), 2), self.width


UNIVERSAL = {c.name: c for c in (EliasDelta(), EliasGamma())}


def universal(name):
    """The universal code called ``name`` ('elias-delta' or 'elias-gamma')."""
    try:
        return UNIVERSAL[name]
    except KeyError:
        raise ValueError(f"unknown code {name!r}; choose one of {sorted(UNIVERSAL)}") from None


def pack(bits):
    """'0'/'1' string -> bytes, most significant bit first, zero-padded to a whole byte."""
    if not bits:
        return b""
    pad = -len(bits) % 8
    return int(bits + "0" * pad, 2).to_bytes((len(bits) + pad) // 8, "big")


def unpack(data):
    """bytes -> '0'/'1' string of length 8 * len(data)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"a code is bytes, got {type(data).__name__}")
    if not data:
        return ""
    return format(int.from_bytes(data, "big"), f"0{8 * len(data)}b")


def check_padding(bits, used):
    """A packed code ends in fewer than 8 zero bits after the code itself; anything else is corrupt."""
    rest = bits[used:]
    if len(rest) >= 8 or "1" in rest:
        raise ValueError(
            f"corrupted code: {len(rest)} bits follow the {used}-bit code, expected fewer than 8 zero "
            "padding bits"
        )
