"""Writes tests/data/codes_before_issue_15.json: the digests of tests/bit_digests.py for every
method and pair family of the package as it was before issue 15, whose families had no
``example()`` yet: their pairs are written out here (they are the examples of today's families).

    git archive 320f7e2 rec_bench | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old:tests .venv/bin/python tests/data/make_codes_before_issue_15.py \
        > tests/data/codes_before_issue_15.json
"""

import json
import sys

import bit_digests
import rec_bench as rb
from rec_bench.pairs import examples as ex

PAIRS = [
    (rb.Normal(0.8, 0.45), rb.Normal(0.2, 1.3)),
    (rb.Laplace(1.2, 0.35), rb.Laplace(0.0, 1.0)),
    (rb.Triangular(0.2, 0.45, 0.6), rb.Uniform(0.0, 1.0)),
    (rb.Custom(ex.normal, [0.8, 0.45]), rb.Normal(0.2, 1.3)),
    (rb.Custom(ex.normal, [0.8, 0.45]), rb.Laplace(0.2, 1.3)),
    (rb.Custom(ex.beta, [2.0, 3.0]), rb.Uniform(0.0, 1.0)),
]

out = {"made_at": sys.argv[1] if len(sys.argv) > 1 else "320f7e2", "cases": {}}
for name, m in rb.METHODS.items():
    opts = {} if m.option is None else {m.option.name: m.option.default}
    for q, p in PAIRS:
        key = f"{name}|{type(q).__name__}/{type(p).__name__}"
        out["cases"][key] = {"method": name, "family": f"{type(q).__name__}/{type(p).__name__}",
                             "pair": [repr(q), repr(p)], "options": opts,
                             **bit_digests.digests(rb, name, opts, q, p)}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
