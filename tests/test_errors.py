"""Every bad input gets a ValueError (or BudgetExceeded) that names the problem; never a hang or a
crash inside compiled code."""

import numpy as np
import pytest

import rec_bench as rb

Q, P = rb.Normal(0.3, 0.5), rb.Normal(0.0, 1.0)


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
        (lambda: rb.encode(rb.Normal([0.1, 0.2], 0.5), rb.Normal([0, 0, 0], 1.0)), "cannot be broadcast"),
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
                       match=r"rs did not finish within max_steps=1000 steps \(D_inf = 30 bits\)"):
        rb.encode(q, p, "rs", 0, max_steps=1000)
    with pytest.raises(rb.BudgetExceeded, match="pfr did not finish"):
        rb.encode(q, p, "pfr", 0, max_steps=1000)
    with pytest.raises(rb.BudgetExceeded, match=r"ad\* did not finish within max_steps=5"):
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


@pytest.mark.parametrize("method", ["orc", "mrc"])
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


@pytest.mark.parametrize("method", ["orc", "mrc"])
def test_orc_and_mrc_bits_the_step_budget_cannot_cover_are_refused_up_front(method):
    """2^K candidates, every one a step: K above log2(max_steps) is certain to exceed the budget."""
    from rec_bench.codecs import DEFAULT_MAX_STEPS
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
