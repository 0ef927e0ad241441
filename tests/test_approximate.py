"""The approximate fixed-length codecs DAD*, ORC and MRC.

* They round-trip bit for bit, their codes are exactly D + 1 (DAD*) or K (ORC, MRC) bits, and a
  truncated code raises ValueError.
* With a budget well above KL (KL + 10 bits) DAD* and ORC pass the same goodness-of-fit test as
  the exact methods (KS against Q, 20,000 messages, fixed seeds, p > 1e-3; see test_exactness.py).
* With a budget below KL (KL = 6 bits, 3 bits of code) the bias measure detects their bias.
* DAD* searches, it does not enumerate: at D = 30 its mean steps are ~ AD*'s, far below 2^30.
"""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

import rec_bench as rb
from rec_bench.bias import bias
from rec_bench.methods import CANDIDATES, METHODS

N = 20_000
ALPHA = 1e-3

PAIRS = {
    "kl2": rb.fixed_kl(2, 5),
    "kl6": rb.fixed_kl(6, 10),
    "laplace": (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0)),
    "triangular": (rb.Triangular(0.2, 0.45, 0.6), rb.Uniform(0.0, 1.0)),
}

CONFIGS = [("dad*", "depth", d) for d in (0, 1, 5, 12, 30)] + [
    (m, "bits", k) for m in ("orc", "mrc") for k in (1, 4, 9)
]


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("method,opt,value", CONFIGS)
def test_round_trip_bit_for_bit(method, opt, value, pair):
    q, p = PAIRS[pair]
    nbits = value + 1 if opt == "depth" else value
    seeds = list(range(60)) + [2**64 - 1, 2**40 + 7]
    batch = rb.simulate(method, q, p, np.array(seeds, np.uint64), **{opt: value})
    for j, seed in enumerate(seeds):
        c = rb.encode(q, p, method, seed, **{opt: value})
        assert c.nbits == nbits
        assert len(c.bits) == (nbits + 7) // 8
        assert c.code == "fixed" and c.option == value
        assert rb.decode(c.bits, p, method, seed, **{opt: value}) == c.sample  # bit for bit
        assert rb.decode(c, p) == c.sample
        # the batch kernel (what simulate and the studies run) returns the same message
        assert batch["sample"][j] == c.sample and batch["nbits"][j] == nbits
    assert (batch["nbits"] == nbits).all()


def test_dad_with_no_positive_ratio_node():
    """Triangle on [0.2, 0.6] against U(0, 1), depth 0: the only node's X may fall where r = 0.
    Run in a subprocess, since the failure this guards against was a crash: the encoder must return
    a valid message (the first node evaluated) and decode it."""
    code = ("import numpy as np, rec_bench as rb\n"
            "q, p = rb.Triangular(0.2, 0.45, 0.6), rb.Uniform(0.0, 1.0)\n"
            "df = rb.simulate('dad*', q, p, np.arange(50), depth=0)\n"
            "assert np.isfinite(df['sample']).all() and (df['nbits'] == 1).all()\n"
            "for s in range(50):\n"
            "    c = rb.encode(q, p, 'dad*', s, depth=0)\n"
            "    assert rb.decode(c.bits, p, 'dad*', s, depth=0) == c.sample\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]


@pytest.mark.parametrize("method,opt,value", [("dad*", "depth", 10), ("dad*", "depth", 30),
                                              ("orc", "bits", 12), ("mrc", "bits", 9)])
def test_truncated_code_raises(method, opt, value):
    q, p = PAIRS["kl6"]
    for seed in range(5):
        c = rb.encode(q, p, method, seed, **{opt: value})
        with pytest.raises(ValueError):
            rb.decode(c.bits[:-1], p, method, seed, **{opt: value})
        with pytest.raises(ValueError):
            rb.decode(b"", p, method, seed, **{opt: value})


def ks_pvalue(method, q, p, seeds, **opts):
    df = rb.simulate(method, q, p, seeds, **opts)
    assert not df.censored.any()
    return stats.kstest(df["sample"].to_numpy(), q.scipy().cdf).pvalue


# budget = KL + 10 bits: DAD* sends D + 1 bits, ORC K bits
GOF = [
    ("kl2", "ad*", {}), ("kl2", "dad*", {"depth": 11}), ("kl2", "orc", {"bits": 12}),
    ("kl6", "ad*", {}), ("kl6", "dad*", {"depth": 15}),
]


@pytest.mark.parametrize("pair,method,opts", GOF)
def test_budget_well_above_kl_passes_the_exactness_test(pair, method, opts):
    q, p = PAIRS[pair]
    kl = round(rb.kl(q, p))
    budget = opts.get("bits", opts.get("depth", -1) + 1)
    assert method == "ad*" or budget == kl + 10
    assert ks_pvalue(method, q, p, np.arange(N) + 5_000_000, **opts) > ALPHA


@pytest.mark.parametrize("method,opts", [("dad*", {"depth": 2}), ("orc", {"bits": 3}), ("mrc", {"bits": 3})])
def test_budget_below_kl_is_detected(method, opts):
    q, p = PAIRS["kl6"]  # KL = 6 bits, 3 bits of code
    r = bias(method, q, p, n=N, seed=3, **opts)
    assert r.detected and r.ks_pvalue < 1e-12
    assert r.ks > 10 * r.ks_critical
    assert not r.floor_pvalue < ALPHA  # the exact method on the same pair is not flagged


def test_slightly_short_budget_is_detected():
    """A milder bias: one bit below KL at KL = 6 is still far above the measure's resolution."""
    q, p = PAIRS["kl6"]
    for method, opts in [("dad*", {"depth": 4}), ("orc", {"bits": 5})]:
        r = bias(method, q, p, n=N, seed=4, floor=None, **opts)
        assert r.detected, (method, str(r))


def test_dad_searches_rather_than_enumerates():
    q, p = PAIRS["kl6"]
    seeds = np.arange(N)
    dad = rb.simulate("dad*", q, p, seeds, depth=30)
    ad = rb.simulate("ad*", q, p, seeds)
    assert dad["steps"].mean() < 1000 < 2**30
    assert dad["steps"].max() < 10_000
    assert dad["steps"].mean() == pytest.approx(ad["steps"].mean(), rel=0.05)
    assert (dad["nbits"] == 31).all()
    # a shallow tree does not enumerate its 2^(D+1) - 1 nodes either
    shallow = rb.simulate("dad*", q, p, seeds, depth=20)
    assert shallow["steps"].mean() < 2 * ad["steps"].mean()


@pytest.mark.parametrize("method", [m.name for m in METHODS.values() if m.runtime == CANDIDATES])
def test_candidate_methods_evaluate_every_candidate(method):
    q, p = PAIRS["kl2"]
    m = METHODS[method]
    df = rb.simulate(method, q, p, np.arange(50), **{m.option.name: 7})
    assert (df["steps"] == m.kernel_option(7)).all() and (df["nbits"] == m.width(7)).all()
