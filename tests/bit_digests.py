"""Digests of the codes and samples of one (method, pair), written against the public API that is
the same before and after issue 15 (rb.encode, rb.encode_vector, rb.StreamEncoder, rb.IndexModel),
so that one function hashes both versions: tests/data/make_codes_before_issue_15.py ran it on the
package at commit 320f7e2 (before the coding layer), tests/test_bit_identity.py runs it now."""

import hashlib
import struct

import numpy as np

SEEDS = 40  # scalar messages
VECTORS = 5  # vectors of 6 coordinates (a target without array parameters: its one coordinate)
MODEL_WEIGHTS = [0.4, 0.3, 0.2, 0.1]


def _vector(q, p):
    if not type(q)._fields:  # a Custom target: scalar only
        return q, p
    return type(q)(*(np.full(6, v) for v in q.params())), type(p)(*(np.full(6, v) for v in p.params()))


def _samples(h, x):
    h.update(np.ascontiguousarray(x, np.float64).tobytes())


def digests(rb, name, opts, q, p):
    """{"scalar", "vector", "stream", "model"} -> sha256 hex digest, or "refused" (a ValueError)."""
    out = {}
    try:
        h = hashlib.sha256()
        for seed in range(SEEDS):
            c = rb.encode(q, p, name, seed, **opts)
            h.update(c.bits + struct.pack(">dqq", c.sample, c.nbits, c.steps))
        out["scalar"] = h.hexdigest()
    except ValueError:
        return {"scalar": "refused"}
    qv, pv = _vector(q, p)
    h = hashlib.sha256()
    for seed in range(VECTORS):
        c = rb.encode_vector(qv, pv, name, seed, **opts)
        h.update(c.bits)
        _samples(h, c.sample)
    out["vector"] = h.hexdigest()
    for label, model in (("stream", None), ("model", rb.IndexModel(MODEL_WEIGHTS))):
        try:
            enc = rb.StreamEncoder(name, 11, index_model=model, **opts)
            samples = [enc.encode(qv, pv).sample for _ in range(3)]
        except ValueError:
            out[label] = "refused"
            continue
        h = hashlib.sha256(enc.get_compressed())
        for s in samples:
            _samples(h, s)
        out[label] = h.hexdigest()
    return out
