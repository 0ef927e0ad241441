"""Mean steps and mean code bits of every exact method at fixed KL = 2 bits (D_inf = 10, 30, 60 bits)
and on the Gaussian channel (I = 2 and 8 bits). Usage: python benchmarks/core_summary.py [messages]

The exponential-runtime methods (RS, PFR, global GPRS: from the method registry) take 2^D_inf steps
on average; they are skipped where that is beyond 2^22 per message for the typical (median)
message. On the Gaussian channel D_inf varies per message and E[2^D_inf] is infinite
(E[exp(mu^2 / 2)] diverges for mu ~ N(0, 1)), so every message runs under a step budget of 2^24
and the censored ones are counted; means are over the messages that finished.
"""

import sys

import numpy as np
import pandas as pd

import rec_bench as rb
from rec_bench.methods import EXPONENTIAL

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BASELINE_BUDGET = 2**24
rows = []
settings = [(f"fixed KL=2, D_inf={d}", *rb.fixed_kl(2, d)) for d in (10, 30, 60)]
settings += [(f"channel I={i}", *rb.gaussian_channel(i, n, seed=0)) for i in (2, 8)]
for label, q, p in settings:
    typical = 2.0 ** np.median(rb.dinf(q, p))
    for method in [name for name, m in rb.METHODS.items() if m.exact]:
        if rb.METHODS[method].runtime == EXPONENTIAL and typical > 2**22:
            rows.append((label, method, "-", "-", f"not run: ~{typical:.3g} steps per message"))
            continue
        df = rb.simulate(method, q, p, np.arange(n), max_steps=BASELINE_BUDGET)
        ok = df[~df.censored]
        rows.append((label, method, f"{ok.steps.mean():.2f}", f"{ok.nbits.mean():.2f}",
                     f"{len(df)} messages, {int(df.censored.sum())} censored, mean KL {df.kl.mean():.2f}"))
print(pd.DataFrame(rows, columns=["setting", "method", "mean steps", "mean bits", "note"])
      .to_string(index=False))
