"""Ctrl-C reaches long compiled calls: a SIGINT stops them within about a second.

Each case runs in a child process that warms its kernels, says "ready", then starts a call that
would take minutes to hours; the parent sends SIGINT one second later and expects the child to end
with KeyboardInterrupt well before the call could have finished. Generous limits (the machine may
be loaded): what is tested is that the signal is seen inside compiled code at all.
"""

import signal
import subprocess
import sys
import time

import pytest

CASES = {
    # one ORC message over 2^36 candidates (about an hour)
    "orc message": 'rb.encode(q, p, "orc", 0, bits=36, max_steps=2**40)',
    # one rejection-sampling message at D_inf = 40 bits (about 2^40 steps)
    "rs message": 'rb.simulate("rs", *rb.fixed_kl(2, 40), [0], max_steps=2**40)',
    # one dyadic GPRS message whose ratio peaks at the root's median: global GPRS's 2^30 steps
    "gprs-dyadic message": 'rb.simulate("gprs-dyadic", rb.Normal(0.0, 2.0**-30), p, [0], max_steps=2**40)',
    # one block of 4 coordinates (D_inf 39 bits), ORC over 2^36 candidates (one thread, polling)
    "orc block": 'rb.encode(rb.Normal([3.0] * 4, 0.1), p, "orc", 0, bits=36, max_steps=2**40, block=4)',
    # 20,000 blocks of 4 at K = 22 searched in parallel (Ctrl-C seen between the batches of blocks)
    "parallel blocks": 'rb.encode(rb.Normal(np.full(80_000, 3.0), 0.1), p, "orc", 0, bits=22, block=4)',
    # many short AD* messages in one compiled batch (minutes)
    "large simulate": 'rb.simulate("ad*", *rb.fixed_kl(2, 30), np.arange(50_000_000))',
}

CHILD = """
import sys, time
import numpy as np
import rec_bench as rb
q, p = rb.Normal(0.3, 0.5), rb.Normal(0.0, 1.0)
rb.simulate("orc", q, p, [0], bits=2); rb.simulate("rs", q, p, [0]); rb.simulate("ad*", q, p, [0])
rb.encode(q, p, "orc", 0, bits=2)
{warm}
print("ready", flush=True)
t0 = time.perf_counter()
try:
    {call}
except KeyboardInterrupt:
    print(f"interrupted after {{time.perf_counter() - t0:.2f}} s", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


# the block cases warm their kernels too (the others start no Numba thread pool before the call)
WARM = {"orc block": 'rb.encode(rb.Normal([0.3] * 4, 0.5), p, "orc", 0, bits=2, block=4)',
        "parallel blocks": 'rb.encode(rb.Normal([0.3] * 8, 0.5), p, "orc", 0, bits=2, block=4)'}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ctrl_c_stops_a_long_compiled_call(case):
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(call=CASES[case], warm=WARM.get(case, ""))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(1.0)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
        waited = time.perf_counter() - sent
    finally:
        child.kill()
    assert child.returncode == 3, (out, err)
    assert "interrupted after" in out
    assert waited < 10.0  # about a second when idle; the call itself would take minutes or more
