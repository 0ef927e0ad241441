"""Every bad input gets a ValueError (or BudgetExceeded) that names the problem; never a hang or a
crash inside compiled code."""

import time
import tracemalloc
import warnings

import numpy as np
import pytest

import rec_bench as rb
from rec_bench.coding import sinks as S
from rec_bench.methods import CANDIDATES, METHODS, default_options

Q, P = rb.Normal(0.3, 0.5), rb.Normal(0.0, 1.0)
CANDIDATE_METHODS = [m.name for m in METHODS.values() if m.runtime == CANDIDATES]  # every candidate a step


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: rb.encode(Q, P, "a-star"), r"unknown method 'a-star'; available methods: as\*, ad\*"),
        (lambda: rb.simulate("bogus", Q, P, [0]), "unknown method 'bogus'"),
        (lambda: rb.decode(b"\x80", P, "bogus", 0), "unknown method"),
        (lambda: rb.encode(Q, P, "dad*"), r"dad\* needs depth=<int in \[0, 1023\]>"),
        (lambda: rb.encode(Q, P, "dad*", depth=-1), r"dad\* needs depth to be an integer in \[0, 1023\]"),
        (lambda: rb.encode(Q, P, "orc"), r"orc needs bits=<int in \[1, 40\]>"),
        (lambda: rb.encode(Q, P, "mrc", bits=2.5), r"mrc needs bits to be an integer in \[1, 40\].*got 2\.5"),
        (lambda: rb.encode(Q, P, "ad*", depth=3), r"ad\* takes no depth= option"),
        (lambda: rb.encode(Q, P, "orc", bits=3, depth=3), r"orc takes bits=, not depth="),
        (lambda: rb.encode(Q, P, "dad*", depth=3, code="elias-gamma"),
         r"dad\* writes a fixed-length code .* no code="),
        (lambda: rb.decode(b"\x80", P, "ad*", 0, code="fixed"), r"unknown code 'fixed'"),
        (lambda: rb.decode(b"\x80", P, "ad*"), r"decode needs the method and the seed"),
        (lambda: rb.decode(b"\x80", P, seed=3), r"decode needs the method and the seed"),
        (lambda: rb.simulate("ad*", Q, P, [0], max_steps=2.5), "max_steps must be an integer"),
        (lambda: rb.simulate("ad*", Q, P, [0], max_steps=2**63),
         r"max_steps must be an integer in \[1, 2\*\*62\]"),
        (lambda: rb.encode(Q, P, "ad*", seed=-1), r"seed must be in \[0, 2\*\*64\)"),
        (lambda: rb.encode(Q, P, "ad*", seed=2**64), r"seed must be in"),
        (lambda: rb.encode(Q, P, "ad*", seed=1.5), "seed must be an integer"),
        (lambda: rb.encode(Q, P, "ad*", max_steps=0), "max_steps must be an integer in"),
        (lambda: rb.encode(Q, P, "ad*", code="huffman"), "unknown code 'huffman'"),
        (lambda: rb.encode(rb.Normal([0.1, 0.2], 0.5), rb.Normal([0, 0, 0], 1.0)),
         r"target.*\(2,\).*do not broadcast.*proposal.*\(3,\)"),
        (lambda: rb.simulate("ad*", Q, P, [0.5]), "seeds must be integers"),
        (lambda: rb.simulate("ad*", Q, P, [-3]), "seeds must be non-negative"),
        (lambda: rb.simulate("ad*", rb.Normal([0, 1], 0.5), P, [1, 2, 3]), "broadcast"),
        (lambda: rb.decode(b"\x80", rb.Normal([0, 1], 1.0), "ad*", 0), "truncated"),
        (lambda: rb.decode(b"\x80", rb.Triangular(), "ad*", 0), "unsupported proposal Triangular"),
        (lambda: rb.decode("0101", P, "ad*", 0), "a code is bytes"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_a_search_over_budget_raises_in_encode():
    q, p = rb.fixed_kl(2, 30)  # RS would need about 2^30 steps
    with pytest.raises(rb.BudgetExceeded,
                       match=r"rs did not finish the message within max_steps=1000 steps "
                       r"\(D_inf = 30 bits\)"):
        rb.encode(q, p, "rs", 0, max_steps=1000)
    with pytest.raises(rb.BudgetExceeded, match="pfr did not finish"):
        rb.encode(q, p, "pfr", 0, max_steps=1000)
    with pytest.raises(rb.BudgetExceeded, match=r"ad\* did not finish the message within max_steps=5"):
        rb.encode(q, p, "ad*", 0, max_steps=5)


def test_a_search_over_budget_is_censored_in_simulate():
    q, p = rb.fixed_kl(2, 12)  # RS: 2^12 steps on average, so a budget of 2^12 censors ~e^-1
    df = rb.simulate("rs", q, p, np.arange(2_000), max_steps=4096)
    frac = df.censored.mean()
    assert abs(frac - np.exp(-1)) < 0.05
    cens = df[df.censored]
    assert (cens.steps == 4096).all() and cens["sample"].isna().all() and cens.nbits.isna().all()
    done = df[~df.censored]
    assert done["sample"].notna().all() and (done.steps <= 4096).all()


@pytest.mark.parametrize("method", CANDIDATE_METHODS)
def test_orc_and_mrc_refuse_a_size_beyond_the_step_budget_and_honour_it(method):
    """2^30 candidates can never finish within 1000 steps: refused up front, with the reason; a
    size within the budget runs to the end, and a budget below a message's need censors it."""
    with pytest.raises(ValueError, match=r"draws 2\^30 candidates per message, more than max_steps=1000"):
        rb.encode(Q, P, method, 0, bits=30, max_steps=1000)
    with pytest.raises(ValueError, match="use bits <= 9"):
        rb.simulate(method, Q, P, np.arange(3), bits=30, max_steps=1000)
    with pytest.raises(ValueError, match="more than max_steps"):
        rb.encode_vector(rb.Normal([0.1, 0.2], 0.5), P, method, 0, bits=[4, 11], max_steps=1000)
    full = rb.simulate(method, Q, P, np.arange(50), bits=4, max_steps=16)
    assert not full.censored.any() and (full.steps == 16).all()


def test_the_default_budget_is_generous_but_finite():
    assert rb.DEFAULT_MAX_STEPS >= 2**20
    q, p = rb.fixed_kl(2, 60)
    df = rb.simulate("rs", q, p, [0], max_steps=10_000)
    assert df.censored.all()


@pytest.mark.parametrize("n", [2.5, -1, "3", True, float("nan")])
def test_gaussian_channel_refuses_a_message_count_that_is_not_a_count(n):
    with pytest.raises(ValueError, match="n must be a non-negative integer number of messages"):
        rb.gaussian_channel(3, n)
    q, _ = rb.gaussian_channel(3, 2.0)  # an integer-valued float is a count
    assert q.loc.shape == (2,)


@pytest.mark.parametrize("method", CANDIDATE_METHODS)
def test_orc_and_mrc_bits_the_step_budget_cannot_cover_are_refused_up_front(method):
    """2^K candidates, every one a step: K above log2(max_steps) is certain to exceed the budget."""
    from rec_bench import DEFAULT_MAX_STEPS
    from rec_bench.coding.setup import check_budget

    with pytest.raises(ValueError,
                       match=f"{method} with bits=23 draws 2\\^23 candidates per message, more than "
                       f"max_steps={DEFAULT_MAX_STEPS}: every message would exceed its step budget "
                       r"\(use bits <= 22"):
        check_budget(method, 23, DEFAULT_MAX_STEPS)
    check_budget(method, 22, DEFAULT_MAX_STEPS)  # 2^22 candidates fit a budget of 2^22 steps
    with pytest.raises(ValueError, match=r"use bits <= 9"):
        check_budget(method, 10, 1000)
    check_budget("dad*", 1023, 5)  # DAD*'s depth bounds its search, not a candidate count


# ---- sizes checked before anything is allocated; no numpy warning reaching a user -----------------

QUICK = 0.25  # seconds: far below what allocating the asked-for size would take


def _quick_value_error(call, match):
    """``call`` raises ValueError within QUICK seconds, allocating less than 50 MB on the way."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match):
            call()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < QUICK and peak < 50e6


@pytest.mark.parametrize("method", list(METHODS))
def test_a_shape_beyond_the_data_is_refused_before_allocating(method):
    opts = default_options(method)
    code = rb.encode(Q, P, method, 42, **opts)
    assert rb.decode(code.bits, P, method, 42, **opts) == code.sample  # compiled and loaded before timing
    _quick_value_error(lambda: rb.decode(code.bits, P, method, seed=42, shape=10**9, **opts), "truncated")
    _quick_value_error(lambda: rb.decode_vector(code.bits, P, method, 42, shape=(10**5, 10**5), **opts),
                       "truncated")
    stream = rb.StreamDecoder(b"\0" * 8, method, seed=1, **opts)
    _quick_value_error(lambda: stream.decode_many(P, 10**9, shape=3), "truncated")


@pytest.mark.parametrize("method", [m.name for m in METHODS.values() if m.model_index])
def test_a_model_coded_stream_refuses_more_vectors_than_it_announces(method):
    opts = default_options(method)
    model = rb.IndexModel([0.4, 0.3, 0.2, 0.1])
    q, p = rb.Normal([0.3, -0.2, 0.1], 0.5), rb.Normal(np.zeros(3), 1.0)
    enc = rb.StreamEncoder(method, 5, index_model=model, **opts)
    sent = [enc.encode(q, p), enc.encode(q, p)]
    data = enc.get_compressed()
    with pytest.raises(ValueError, match="holds 2 vectors; 3 asked for, 2 left"):
        rb.StreamDecoder(data, method, 5, index_model=model, **opts).decode_many(p, 3)
    dec = rb.StreamDecoder(data, method, 5, index_model=model, **opts)
    assert np.array_equal(dec.decode_many(p, 2), np.stack([c.sample for c in sent]))
    with pytest.raises(ValueError, match="holds 2 vectors; 1 asked for, 0 left"):
        dec.decode(p)
    # a header announcing 10^9 vectors over a few bytes: refused before anything of that size exists
    forged = S.varint(10**9) + S.varint(1) + b"\x80\x00\x00\x00"
    dec = rb.StreamDecoder(forged, method, 5, index_model=model, **opts)
    _quick_value_error(lambda: dec.decode_many(p, 10**9), "truncated|corrupted")


@pytest.mark.parametrize("scale", [1e-300, 1e-200])
def test_a_target_too_narrow_for_float64_is_a_clear_value_error_without_warnings(scale):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError):
            rb.encode(rb.Normal(0, scale), rb.Normal(0, 1), "ad*")


@pytest.mark.parametrize("divergence", [rb.kl, rb.dinf], ids=["kl", "dinf"])
def test_divergences_of_a_far_target_give_no_warning(divergence):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            value = divergence(rb.Normal(1e155, 0.5), rb.Normal(0, 1))
        except ValueError:
            return
    assert value > 0


BAD_PAIRS = [(rb.Normal(0, 1.2), rb.Normal(0, 1.0)), (rb.Normal(0.5, 1.0), rb.Normal(0, 1.0)),
             (rb.Laplace(0, 2.0), rb.Laplace(0, 1.0)), (rb.Triangular(-0.1, 0.2, 0.5), rb.Uniform(0, 1)),
             (rb.Normal(0, 1e-160), rb.Normal(0, 1))]


def test_pairs_with_an_infinite_or_unrepresentable_dinf_raise_value_error_without_warnings():
    """Refusals under warnings-as-errors: a ValueError and nothing else."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for q, p in BAD_PAIRS:
            with pytest.raises(ValueError):
                rb.encode(q, p, "ad*", 0)
