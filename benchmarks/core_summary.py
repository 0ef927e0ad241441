"""Mean steps and mean code bits per method at fixed KL = 2 bits (D_inf = 10, 30, 50 bits) and on
the Gaussian channel (I = 2 and 8 bits). Usage: python benchmarks/core_summary.py [messages]"""

import sys

import numpy as np
import pandas as pd

import rec_bench as rb

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BASELINE_BUDGET = 2**24
rows = []
settings = [(f"fixed KL=2, D_inf={d}", *rb.fixed_kl(2, d)) for d in (10, 30, 50)]
settings += [(f"channel I={i}", *rb.gaussian_channel(i, n, seed=0)) for i in (2, 8)]
for label, q, p in settings:
    for method in ["as*", "ad*", "pfr", "rs"]:
        exp_cost = 2.0 ** np.max(rb.dinf(q, p))
        if method in ("pfr", "rs") and exp_cost > 2**22:
            rows.append((label, method, "-", "-", f"skipped: ~{exp_cost:.3g} steps per message"))
            continue
        m = n if method in ("as*", "ad*") or exp_cost < 2**12 else max(20, int(n * 2**12 / exp_cost))
        qm = type(q)(*(np.broadcast_to(a, (n,))[:m] for a in q.params())) if q.shape else q
        df = rb.simulate(method, qm, p, np.arange(m), max_steps=BASELINE_BUDGET)
        ok = df[~df.censored]
        rows.append((label, method, f"{ok.steps.mean():.2f}", f"{ok.nbits.mean():.2f}",
                     f"{len(df)} messages, {df.censored.sum()} censored, mean KL {df.kl.mean():.2f}"))
print(pd.DataFrame(rows, columns=["setting", "method", "mean steps", "mean bits", "note"]).to_string(index=False))
