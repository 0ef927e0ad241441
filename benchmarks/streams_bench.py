"""Vectors and streams benchmark (part of `make bench`; alone: `python benchmarks/streams_bench.py`).

1. Speed: encode + decode of a 50-coordinate Gaussian vector at about 3 bits of KL per coordinate
   (posteriors of the Gaussian channel, ``rb.gaussian_channel(3, 50, seed)``: N(mu, 2^-6) against
   N(0, 1), mean KL 3 bits), microseconds per vector for AD* and AS* through
   ``rb.encode`` / ``rb.decode`` (a vector: array parameters), with the parts: validating the pair
   (``rec_bench.pairs.resolve``), the method's compiled encoder and decoder alone. Also AD* with the
   model-coded index, and a stream of all the vectors, appended and read one by one and all at once
   (``StreamEncoder.encode_many`` / ``StreamDecoder.decode_many``: one compiled call each). A pool
   of 200 different vectors, each coded
   with its own seed; the median (and min) of 7 repeats after a warm-up pass, in CPU time of this
   process (time.process_time), so that other load on a shared machine does not inflate it.
2. Bits per coordinate above the KL at KL = 1, 2, 3.4, 5 and 8 bits: 200 vectors of 50 coordinates
   (Gaussian channel at I = KL, seeds 1000 + j, which the shipped index models, fitted on seed 0,
   have not seen), the real length of one stream of all 200 vectors (its one padding included)
   and of single vectors (each with its own padding, or its header and range coder flush), minus
   the mean closed-form KL of the posteriors. Elias delta and Elias gamma, and the model-coded
   index with the shipped table for that KL; AD* and AS*.

Prints two tables.
"""

import argparse
import math
import os
import statistics
import time

import numpy as np

import rec_bench as rb
from rec_bench.coding.kernels import entry
from rec_bench.coding.setup import setup as vector_setup
from rec_bench.pairs import proposal_family, resolve
from rec_bench.search.workspace import new_workspace

D = 50
KL_SPEED = 3.0
KLS = (1.0, 2.0, 3.4, 5.0, 8.0)


def _median_us(fn, items, repeats):
    """(median, min) over repeats of the process's CPU time per item, in microseconds: CPU time, not
    wall time, so that other processes on a loaded machine do not count (cache sharing still can)."""
    fn(items[0])
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        for it in items:
            fn(it)
        times.append((time.process_time() - t0) / len(items) * 1e6)
    return statistics.median(times), min(times)


def speed(pool, repeats):
    rows = []
    vectors = [(rb.gaussian_channel(KL_SPEED, D, seed=j), j) for j in range(pool)]
    p = rb.Normal(0.0, 1.0)
    model = rb.IndexModel.for_kl(3.4, "ad*")
    for method in ("ad*", "as*"):
        codes = [(rb.encode(q, p_, method, j).bits, j) for (q, p_), j in vectors]

        def both(item, method=method):
            (q, p_), j = item
            c = rb.encode(q, p_, method, j)
            rb.decode(c.bits, p, method, j, shape=D)

        rows.append((method, "encode + decode (rb.encode, rb.decode)", *_median_us(both, vectors, repeats)))
        rows.append((method, "  rb.encode", *_median_us(lambda it: rb.encode(*it[0], method, it[1]), vectors,
                                                        repeats)))
        rows.append((method, "  rb.decode",
                     *_median_us(lambda it: rb.decode(it[0], p, method, it[1], shape=D), codes, repeats)))
        rows.append((method, "  resolve(q, p) alone",
                     *_median_us(lambda it: resolve(*it[0]), vectors, repeats)))
        pairs = [(resolve(*qp), np.array([j], np.uint64)) for qp, j in vectors]
        s = vector_setup(method, None, None, None, (D,), None)
        m = s.method
        ws = new_workspace(1024)
        enc, dec = entry("encode", m), entry("decode", m)

        def core_encode(item):
            pair, j = item
            enc(pair.family, pair.params, pair.loc, pair.scale, j, D, True, 2**22, s.option, s.width, s.code,
                True, 0, np.zeros(64, np.uint8), 0, ws, np.empty(D, np.int8), np.empty((D, 4), np.int64),
                np.empty(D), np.empty(D))

        rows.append((method, "  compiled encode alone", *_median_us(core_encode, pairs, repeats)))
        fam, loc, scale = proposal_family(p, (D,))
        bufs = [(np.frombuffer(b, np.uint8).copy(), np.array([j], np.uint64)) for b, j in codes]
        no_depths = np.zeros(0, np.int64)

        def core_decode(item):
            buf, j = item
            dec(fam, loc, scale, j, D, True, s.width, s.code, no_depths, 0, buf, 0, 8 * buf.size, np.empty(D))

        rows.append((method, "  compiled decode alone", *_median_us(core_decode, bufs, repeats)))
    mcodes = [(rb.encode_vector(q, p_, "ad*", j, index_model=model).bits, j) for (q, p_), j in vectors]

    def model_both(item):
        (q, p_), j = item
        c = rb.encode_vector(q, p_, "ad*", j, index_model=model)
        rb.decode_vector(c.bits, p, "ad*", j, shape=D, index_model=model)

    rows.append(("ad*", "model-coded encode + decode (API)", *_median_us(model_both, vectors, repeats)))
    rows.append(("ad*", "  model-coded decode_vector", *_median_us(
        lambda it: rb.decode_vector(it[0], p, "ad*", it[1], shape=D, index_model=model), mcodes, repeats)))

    for method in ("ad*", "as*"):
        def stream_each(_, method=method):
            enc = rb.StreamEncoder(method, 1)
            for (q, p_), _j in vectors:
                enc.encode(q, p_)
            dec = rb.StreamDecoder(enc.get_compressed(), method, 1)
            for _ in vectors:
                dec.decode(p, shape=D)
            dec.finish()

        t, tmin = _median_us(stream_each, [0], repeats)
        rows.append((method, f"stream of {pool}: encode + decode one by one", t / pool, tmin / pool))
        q_all = rb.Normal(np.stack([q.loc for (q, _), _ in vectors]), vectors[0][0][0].scale)

        for name, kw in (("", {}), ("model-coded ", {"index_model": rb.IndexModel.for_kl(3.4, method)})):
            def stream_many(_, method=method, kw=kw):
                enc = rb.StreamEncoder(method, 1, **kw)
                enc.encode_many(q_all, p)
                dec = rb.StreamDecoder(enc.get_compressed(), method, 1, **kw)
                dec.decode_many(p, pool, shape=D)
                dec.finish()

            t, tmin = _median_us(stream_many, [0], repeats)
            rows.append((method, f"{name}stream of {pool}: encode_many + decode_many", t / pool, tmin / pool))
    return rows


def bits_above_kl(nvec):
    rows = []
    for kl in KLS:
        vectors = [rb.gaussian_channel(kl, D, seed=1000 + j) for j in range(nvec)]
        mean_kl = float(np.mean([rb.kl(q, p_) for q, p_ in vectors]))
        ncoord = nvec * D
        for method in ("ad*", "as*"):
            model = rb.IndexModel.for_kl(kl, method)
            ideal = []
            for name, kw in (("elias-delta", {}), ("elias-gamma", {"code": "elias-gamma"}),
                             ("model", {"index_model": model})):
                enc = rb.StreamEncoder(method, 7, **kw)
                single = 0
                for j, (q, p_) in enumerate(vectors):
                    c = enc.encode(q, p_)
                    single += 8 * len(rb.encode_vector(q, p_, method, rb.message_seed(7, j), **kw).bits)
                    if name == "elias-delta":
                        ideal.append(c.ideal_bits)
                stream_bits = 8 * len(enc.get_compressed())
                rows.append((kl, method, name, mean_kl, stream_bits / ncoord - mean_kl,
                             single / ncoord - mean_kl))
            rows.append((kl, method, "log2 index (ideal)", mean_kl, float(np.mean(ideal)) - mean_kl,
                         math.nan))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller pools and fewer repeats (smoke run)")
    args = ap.parse_args()
    pool, repeats, nvec = (40, 3, 40) if args.quick else (200, 7, 200)
    print(f"# rec_bench streams benchmark  (load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    print(f"\n## Speed: {D}-coordinate Gaussian-channel vector, KL {KL_SPEED:g} bits per coordinate, "
          f"{pool} vectors, median (min) of {repeats} repeats, CPU us per vector")
    print(f"{'method':<6} {'what':<44} {'median us':>10} {'min us':>8}")
    for method, what, med, low in speed(pool, repeats):
        print(f"{method:<6} {what:<44} {med:>10.1f} {low:>8.1f}")
    print(f"\n## Bits per coordinate above the KL ({nvec} vectors x {D} coordinates per KL)")
    print(f"{'KL':>4} {'method':<6} {'index code':<20} {'mean KL':>8} {'stream':>8} {'single':>8}")
    for kl, method, name, mean_kl, stream, single in bits_above_kl(nvec):
        single_s = "" if math.isnan(single) else f"{single:>8.3f}"
        print(f"{kl:>4g} {method:<6} {name:<20} {mean_kl:>8.3f} {stream:>8.3f} {single_s:>8}")


if __name__ == "__main__":
    main()
