"""Codecs beyond the contract suite (tests/test_contract.py, which round-trips every method on
every family): the compiled index codes of rec_bench.coding.codes and the sinks of
rec_bench.coding.sinks against the string oracles of tests/code_oracles.py, bit for bit; the
exponential baselines at a moderate D_inf; A* nodes past any 64-bit heap index; malformed
fixed-length codes."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import code_oracles as C
import rec_bench as rb
from rec_bench.coding import codes as K
from rec_bench.coding import sinks as S
from rec_bench.methods import EXPONENTIAL, METHODS, default_options, supports
from rec_bench.pairs import FAMILIES, resolve
from rec_bench.status import INDEX_ZERO, LONG_PREFIX, OK, TRUNCATED

def _supported(pair):
    """The methods whose requires the family of ``pair`` provides."""
    fam = FAMILIES[resolve(*pair).family]
    return [m.name for m in METHODS.values() if supports(m, fam)]


MODERATE = rb.fixed_kl(2, 16)  # D_inf = 16 bits: about 2^16 steps for an exponential-runtime method


@pytest.mark.parametrize("method", [m for m in _supported(MODERATE) if METHODS[m].runtime == EXPONENTIAL])
def test_exponential_baselines_round_trip_at_moderate_dinf(method):
    q, p = MODERATE
    for seed in range(20):
        code = rb.encode(q, p, method, seed, **default_options(method))
        assert rb.decode(code.bits, p, method, seed, **default_options(method)) == code.sample


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_deep_returned_nodes_round_trip(method):
    """KL near 80 bits returns AD* nodes about 80 deep, past any 64-bit heap index (AS* splits at
    its own sample, which shrinks by about e per level, so its nodes are about 80 ln 2 deep).

    A triangle at the proposal's lower edge keeps full relative precision in its coordinates
    (a Gaussian target that narrow would be below float64's spacing; see README, Numerics).
    """
    q, p = rb.Triangular(0.0, 2.0**-80, 2.0**-79), rb.Uniform(0.0, 1.0)
    samples, depths = set(), []
    for seed in range(20):
        code = rb.encode(q, p, method, seed)
        depths.append(code.index.bit_length() - 1)
        assert rb.decode(code.bits, p, method, seed) == code.sample
        assert 0 < code.sample < 2.0**-79
        samples.add(code.sample)
    assert len(samples) == 20
    if method == "ad*":
        assert min(depths) > 70
    else:
        assert np.mean(depths) > 45 and max(depths) > 62


@pytest.mark.parametrize("method", ["as*", "ad*"])
def test_narrow_gaussian_targets_round_trip(method):
    q, p = rb.Normal(0.3, 2.0**-40), rb.Normal(0.0, 1.0)  # KL about 40 bits
    for seed in range(10):
        code = rb.encode(q, p, method, seed)
        assert code.index.bit_length() > 30
        assert rb.decode(code.bits, p, method, seed) == code.sample
        assert abs(code.sample - 0.3) < 6 * 2.0**-40


@given(st.integers(1, 2**200), st.integers(1, 2**200))
@settings(max_examples=500, deadline=None)
def test_universal_codes_are_prefix_free_and_invert(a, b):
    for code in (C.EliasDelta(), C.EliasGamma()):
        ca, cb = code.encode(a), code.encode(b)
        assert code.decode(ca) == (a, len(ca))
        assert code.decode(ca + "1011") == (a, len(ca))  # self-delimiting
        if a != b:
            assert not cb.startswith(ca) and not ca.startswith(cb)


def test_fixed_length_codes_refuse_the_wrong_length_and_index_zero():
    p = rb.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="truncated"):
        rb.decode(b"\xff", p, "dad*", 0, depth=12)  # 13 bits needed
    with pytest.raises(ValueError, match="heap index of the message is 0"):
        rb.decode(b"\x00\x00", p, "dad*", 0, depth=12)
    with pytest.raises(ValueError, match="corrupted"):
        rb.decode(b"\x00\x00\x00", p, "orc", 0, bits=6)


# ---- the compiled codes and the sinks against the string oracles ----------------------------------

ORACLES = {K.ELIAS_GAMMA: C.EliasGamma(), K.ELIAS_DELTA: C.EliasDelta()}
WIDE = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


def _bits(buf, nbits):
    return "".join(map(str, np.unpackbits(buf, count=nbits)))


@WIDE
@given(ns=st.lists(st.integers(1, 2**63 - 1), min_size=1, max_size=8), start=st.integers(0, 13))
def test_compiled_universal_codes_are_the_oracles_bit_for_bit(ns, start):
    for code, oracle in ORACLES.items():
        buf = np.zeros(8 + (start + 150 * len(ns)) // 8, np.uint8)
        pos = start
        for n in ns:
            end = K.write_int(buf, pos, code, n, 0)
            assert end - pos == len(oracle.encode(n)) == K.code_length(code, n.bit_length(), 0)
            assert end - pos == C.code_length(code, n.bit_length(), 0)
            pos = end
        assert _bits(buf, pos) == "0" * start + "".join(oracle.encode(n) for n in ns)
        assert C.pack(_bits(buf, pos)) == buf[: (pos + 7) // 8].tobytes()
        at = start
        for n in ns:
            st_, got, at = K.read_int(buf, at, pos, code, 0)
            assert (st_, got) == (OK, n)
        assert at == pos
        # every proper prefix of the last code is truncated, never another integer
        last = pos - len(oracle.encode(ns[-1]))
        for end in range(last, pos):
            assert K.read_int(buf, last, end, code, 0)[0] == TRUNCATED


@WIDE
@given(data=st.data(), width=st.integers(1, 63))
def test_compiled_fixed_length_code_is_the_oracle_bit_for_bit(data, width):
    n = data.draw(st.integers(1, 2**width - 1))
    buf = np.zeros(9, np.uint8)
    end = K.write_int(buf, 3, K.FIXED, n, width)
    assert end == 3 + width and _bits(buf, end)[3:] == C.FixedLength(width).encode(n)
    assert K.read_int(buf, 3, end, K.FIXED, width) == (OK, n, end)
    assert K.read_int(buf, 3, end - 1, K.FIXED, width)[0] == TRUNCATED
    assert K.read_int(np.zeros(9, np.uint8), 0, 72, K.FIXED, width)[0] == INDEX_ZERO


def test_compiled_decoders_refuse_long_prefixes():
    zeros = np.zeros(1024, np.uint8)
    for code in ORACLES:
        assert K.read_int(zeros, 0, 8 * zeros.size, code, 0)[0] == LONG_PREFIX


def _sink_kinds(raw=True):
    out = [pytest.param("bits", id="bits")] if raw else []
    return out + [pytest.param("range", id="range"), pytest.param("ans", id="ans")]


def _sink(kind):
    if kind == "bits":
        return S.BitSink(), lambda sink: S.BitSource(sink.data())
    pytest.importorskip("constriction")
    if kind == "range":
        return S.RangeSink(), lambda sink: S.RangeSource(sink.words())
    return S.AnsSink(), lambda sink: S.AnsSource(sink.words())


@pytest.mark.parametrize("kind", _sink_kinds())
@WIDE
@example(ns=[2**33])  # mostly zero bits: an ANS coder holds them in no words
@given(ns=st.lists(st.integers(1, 2**200), min_size=1, max_size=6))
def test_universal_codes_through_every_sink_are_the_oracles(kind, ns):
    """put_universal through a sink sends the oracle's bits (the zero-run prefix as flags, the rest
    as raw bits) and get_universal reads them back; a raw bit sink holds exactly the oracle's
    bit string, an entropy coder's the same symbols."""
    for code, oracle in ORACLES.items():
        sink, source_of = _sink(kind)
        for n in ns:
            K.put_universal(sink, n, code)
        if kind == "bits":
            assert _bits(sink.buf, sink.pos) == "".join(oracle.encode(n) for n in ns)
        source = source_of(sink)
        assert [K.get_universal(source, code, 400) for _ in ns] == ns
        assert source.exhausted()


OPS = st.lists(st.one_of(
    st.tuples(st.just("bits"), st.integers(0, 70), st.integers(0, 2**70 - 1)),
    st.tuples(st.just("flags"), st.lists(st.integers(0, 1), max_size=9)),
    st.tuples(st.just("symbols"), st.lists(st.integers(0, 3), max_size=9)),
), max_size=12)


def _packed(v, nbits):
    nbytes = (nbits + 7) // 8
    return np.frombuffer((v << (8 * nbytes - nbits)).to_bytes(nbytes, "big"), np.uint8)


@pytest.mark.parametrize("kind", _sink_kinds())
@WIDE
@example(ops=[("bits", 16, 0)])  # zeros only: no words at all for the ANS coder
@given(ops=OPS)
def test_every_sink_gives_back_what_it_was_given(kind, ops):
    """The one protocol: put_bits / put_flags / put_symbols in, get_bits / get_flag / get_symbols
    out, in the same order; a raw bit sink takes no model symbols."""
    sink, source_of = _sink(kind)
    model = None if kind == "bits" else rb.IndexModel([0.4, 0.3, 0.2, 0.1]).categorical
    sent = []
    for op in ops:
        if op[0] == "bits":
            nbits, v = op[1], op[2] & ((1 << op[1]) - 1)
            sink.put_bits(_packed(v, nbits), nbits)
            sent.append(("bits", nbits, v))
        elif op[0] == "flags":
            sink.put_flags(op[1])
            sent.append(op)
        elif kind == "bits":
            with pytest.raises(ValueError, match="model symbols"):
                sink.put_symbols(op[1], None)
        else:
            sink.put_symbols(op[1], model)
            sent.append(op)
    if kind == "bits":
        nbits = sum(o[1] if o[0] == "bits" else len(o[1]) for o in sent)
        assert sink.pos == nbits and len(sink.data()) == (nbits + 7) // 8
    source = source_of(sink)
    for op in sent:
        if op[0] == "bits":
            nbits = op[1]
            got = bytes(source.get_bits(nbits))
            assert len(got) >= (nbits + 7) // 8
            full = int.from_bytes(got, "big")
            assert full >> (8 * len(got) - nbits) == op[2] and full & ((1 << (8 * len(got) - nbits)) - 1) == 0
        elif op[0] == "flags":
            assert [source.get_flag() for _ in op[1]] == op[1]
        else:
            assert list(source.get_symbols(len(op[1]), model)) == op[1]
    assert source.exhausted()
    if kind == "bits":
        source.finish()


def test_a_bit_source_refuses_reading_past_its_end_and_trailing_data():
    source = S.BitSource(b"\xa0")
    assert source.get_flag() == 1 and source.get_flag() == 0
    with pytest.raises(ValueError, match="corrupted code"):
        source.finish()  # a 1 bit is left
    with pytest.raises(ValueError, match="truncated"):
        source.get_bits(7)
    assert S.BitSource(b"\x80").get_bits(1).tolist() == [0x80]
    with pytest.raises(TypeError, match="a code is bytes"):
        S.BitSource("0101")


@given(st.integers(0, 2**64 - 1))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_varints_read_back(n):
    data = S.varint(n) + b"rest"
    r = S.ByteReader(data, "stream")
    assert r.varint("n") == n and r.left() == 4 and r.take(2, "two") == b"re" and r.rest() == b"st"
    assert r.left() == 0
    with pytest.raises(ValueError, match="truncated stream"):
        S.ByteReader(S.varint(n)[:-1], "stream").varint("n")
    with pytest.raises(ValueError, match="truncated file: the head is cut off"):
        S.ByteReader(b"x", "file").take(2, "the head")
