"""Lossless MNIST compression study: `make study-compression` (or `python benchmarks/compression_study.py`).

On the 10,000 MNIST test images (``make data`` first) it measures

1. the test -ELBO of each committed model (bits per image and per pixel, its KL and reconstruction
   parts, standard errors over images; the reconstruction term averages ``--samples`` draws of z);
   and the -ELBO of the sender's refined posteriors (20 gradient steps per image,
   ``rec_bench.vae.sender``);
2. per codec configuration (model + latent REC method, and the sender's searches: refined
   posteriors, K latent candidates) and for bits-back ANS on each model (rec_bench.bitsback, 8-bit
   latent buckets): one file for the whole set, and one file per image for every one of the
   images. Each is split, in bits per image, into latent, pixels, header (the first byte, the
   fields, the flags and the check; bits-back: its initial-word count too) and the coder's flush,
   plus for bits-back the initial bits its files hold; over that model's -ELBO and over the -ELBO of
   the posterior actually coded, in percent; and the wall time to compress and to decompress (the set
   file is decompressed and checked equal; of the one-image files every 20th);
3. the lossless compressors a user would pick instead, on the same images, per single image and
   for the whole set: PNG (Pillow, optimize=True: zlib level 9; the set as one 2800 x 2800
   mosaic), WebP lossless (method 6, level 100) and JPEG XL lossless (effort 9) from imagecodecs,
   and bz2 (level 9), lzma (xz format, preset 9 | extreme) and zstd (level 22) of the raw bytes.

It writes results/compression.parquet (one row per measurement; provenance as JSON under the
schema metadata key ``rec_bench_compression``), results/compression_table.md (the table that the
docs show) and figures/compression.png. It is resumable: every finished measurement is kept in
results/compression.partial/ (one JSON file each) and not repeated when the study runs again with
the same options (``--fresh`` starts over). This is a script beside bench.py rather than a YAML study:
its unit is a whole file of images with a trained network, not one REC message per row, and it
needs the MNIST download and the vae extra, which the package's studies do not.
"""

from __future__ import annotations

import argparse
import bz2
import datetime as dt
import io
import json
import lzma
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PIXELS = 784
REFINE = 20  # gradient steps of the sender's posterior refinement
CANDIDATES = 16  # latent candidates per image
BLOCK = 4  # coordinates per ORC/MRC message


def block_bits(kappa_bits):
    """K of the blocks: a block's KL in bits, rounded, plus one (15 for the IsoKL model)."""
    return round(BLOCK * kappa_bits) + 1
METADATA_KEY = b"rec_bench_compression"


def configurations(kappa_bits):
    """(label, model, method, options) of the codec configurations."""
    k = max(1, round(kappa_bits))
    depths = sorted({max(0, k - 1), k, k + 1, k + 2, k + 3})
    out = [
        ("VAE + AS*", "vae", "as*", {}),
        ("VAE + AD*", "vae", "ad*", {}),
        ("VAE + AD* (Elias gamma)", "vae", "ad*", {"code": "elias-gamma"}),
        ("VAE + AD* (model index)", "vae", "ad*", {"code": "model"}),
        # greedy rejection coding (Flamich, Markou and Hernandez-Lobato 2023): runtime linear in KL
        ("VAE + GRCS", "vae", "grcs", {}),
        ("VAE + GRCD", "vae", "grcd", {}),
        ("VAE + GRCS (model index)", "vae", "grcs", {"code": "model"}),
        ("VAE + GRCD (model index)", "vae", "grcd", {"code": "model"}),
        ("IsoKL + AD*", "isokl", "ad*", {}),
        ("IsoKL + AD* (model index)", "isokl", "ad*", {"code": "model"}),
        ("IsoKL + GRCD", "isokl", "grcd", {}),
        ("IsoKL + GRCD (model index)", "isokl", "grcd", {"code": "model"}),
    ]
    out += [(f"IsoKL + DAD* D={d}", "isokl", "dad*", {"depth": d}) for d in depths]
    out += [(f"IsoKL + DAD* D={d} (model index)", "isokl", "dad*", {"depth": d, "code": "model"})
            for d in depths if d >= 2]
    # blocks of coordinates as one message (rec_bench.coding.blocks): ORC and MRC, 2^K candidates a block
    b, kb = BLOCK, block_bits(kappa_bits)
    out += [(f"IsoKL + {name} b={b} K={kb}", "isokl", method, {"block": b, "bits": kb})
            for name, method in (("ORC", "orc"), ("MRC", "mrc"))]
    # the sender's searches (rec_bench.vae.sender): refined posteriors, latent candidates
    r, c = REFINE, CANDIDATES
    out += [
        (f"VAE + AD* (model index), {c} candidates", "vae", "ad*", {"code": "model", "candidates": c}),
        ("VAE + AD* (model index), refined", "vae", "ad*", {"code": "model", "refine": r}),
        (f"VAE + AD* (model index), refined, {c} candidates", "vae", "ad*",
         {"code": "model", "refine": r, "candidates": c}),
        ("IsoKL + AD* (model index), refined", "isokl", "ad*", {"code": "model", "refine": r}),
        (f"IsoKL + DAD* D={k} (model index), {c} candidates", "isokl", "dad*",
         {"depth": k, "code": "model", "candidates": c}),
        (f"IsoKL + DAD* D={k} (model index), refined", "isokl", "dad*",
         {"depth": k, "code": "model", "refine": r}),
        (f"IsoKL + DAD* D={k} (model index), refined, {c} candidates", "isokl", "dad*",
         {"depth": k, "code": "model", "refine": r, "candidates": c}),
        (f"IsoKL + ORC b={b} K={kb}, {c} candidates", "isokl", "orc",
         {"block": b, "bits": kb, "candidates": c}),
        (f"IsoKL + ORC b={b} K={kb}, refined", "isokl", "orc", {"block": b, "bits": kb, "refine": r}),
        (f"IsoKL + ORC b={b} K={kb}, refined, {c} candidates", "isokl", "orc",
         {"block": b, "bits": kb, "refine": r, "candidates": c}),
    ]
    return out


def bits_back_configurations():
    """(label, model, precision) of the bits-back baselines."""
    return [(f"{name} + bits-back ANS (8-bit latent)", k, 8)
            for name, k in (("VAE", "vae"), ("IsoKL", "isokl"))]


def git_state():
    try:
        c = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        d = subprocess.run(["git", "status", "--porcelain", "--", "rec_bench", "benchmarks",
                            "pyproject.toml"], cwd=ROOT, capture_output=True, text=True, check=True)
        return c.stdout.strip(), bool(d.stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        return None, None


def baselines(x, log):
    """Rows for the general-purpose lossless compressors, per single image and for the whole set."""
    import imagecodecs as ic
    from PIL import Image

    n = len(x)
    side = int(math.isqrt(n))
    mosaic = None
    if side * side == n:
        mosaic = x.reshape(side, side, 28, 28).transpose(0, 2, 1, 3).reshape(side * 28, side * 28)

    def png(a):
        buf = io.BytesIO()
        Image.fromarray(a, mode="L").save(buf, format="PNG", optimize=True)
        return buf.getvalue()

    def check_image(name, enc, dec):
        a = x[0]
        if not np.array_equal(np.asarray(dec(enc(a))).reshape(a.shape), a):
            raise RuntimeError(f"{name} is not lossless here")

    image_codecs = {
        "PNG (optimize)": (png, lambda b: np.asarray(Image.open(io.BytesIO(b)))),
        # WebP has no grayscale mode: the gray image as RGB (lossless WebP codes the equal channels cheaply)
        "WebP lossless": (lambda a: ic.webp_encode(np.repeat(a[:, :, None], 3, axis=2), level=100,
                                                   lossless=True, method=6),
                          lambda b: ic.webp_decode(b)[:, :, 0]),
        "JPEG XL lossless": (lambda a: ic.jpegxl_encode(a, lossless=True, effort=9), ic.jpegxl_decode),
    }
    # xz -9e, with the dictionary cut to 1 MiB for a single image: the same compression (the data is
    # far smaller than the dictionary) without allocating 64 MiB per image
    xz_small = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 1 << 20}]
    byte_codecs = {
        "bz2": lambda b: bz2.compress(b, 9),
        "lzma": lambda b: lzma.compress(b, filters=xz_small) if len(b) < (1 << 20) else
        lzma.compress(b, preset=9 | lzma.PRESET_EXTREME),
        "zstd": lambda b: ic.zstd_encode(b, level=22),
    }
    rows = []
    for name, (enc, dec) in image_codecs.items():
        check_image(name, enc, dec)
        t0 = time.perf_counter()
        single = np.array([8 * len(enc(a)) for a in x])
        t1 = time.perf_counter()
        rows.append({"section": "baseline", "config": name, "scope": "single", "images": n,
                     "bits_per_image": single.mean(), "bits_per_image_se": single.std(ddof=1) / math.sqrt(n),
                     "compress_s": t1 - t0})
        if mosaic is not None:
            t0 = time.perf_counter()
            b = enc(mosaic)
            rows.append({"section": "baseline", "config": name, "scope": "set", "images": n,
                         "bits_per_image": 8 * len(b) / n, "compress_s": time.perf_counter() - t0})
        log(f"  {name}: {single.mean() / PIXELS:.4f} bpp per image" +
            (f", {rows[-1]['bits_per_image'] / PIXELS:.4f} bpp as a {side}x{side} mosaic"
             if mosaic is not None else ""))
    for name, enc in byte_codecs.items():
        t0 = time.perf_counter()
        single = np.array([8 * len(enc(a.tobytes())) for a in x])
        t1 = time.perf_counter()
        whole = 8 * len(enc(x.tobytes()))
        t2 = time.perf_counter()
        rows.append({"section": "baseline", "config": name, "scope": "single", "images": n,
                     "bits_per_image": single.mean(), "bits_per_image_se": single.std(ddof=1) / math.sqrt(n),
                     "compress_s": t1 - t0})
        rows.append({"section": "baseline", "config": name, "scope": "set", "images": n,
                     "bits_per_image": whole / n, "compress_s": t2 - t1})
        log(f"  {name}: {single.mean() / PIXELS:.4f} bpp per image, {whole / n / PIXELS:.4f} bpp for the set")
    return rows


class Checkpoint:
    """Finished measurements as JSON files in a directory, keyed by name; a rerun skips them."""

    def __init__(self, path, options, fresh=False):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        stamp = self.path / "options.json"
        if fresh or not stamp.exists() or json.loads(stamp.read_text()) != options:
            for f in self.path.glob("*.json"):
                f.unlink()
            stamp.write_text(json.dumps(options))

    def _file(self, key):
        return self.path / ("".join(c if c.isalnum() else "_" for c in key) + ".json")

    def get(self, key):
        f = self._file(key)
        return json.loads(f.read_text()) if f.exists() else None

    def put(self, key, value):
        f = self._file(key)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(f)
        return value


def reuse(ck, path, n, samples, seed, models):
    """Put the measurements of an earlier study's parquet (``--reuse``) into the checkpoint ``ck``, where
    it has none of them yet, so that only the measurements the parquet lacks (new configurations) are
    made. The parquet must have been made with the same images, samples, seed and model weights (its
    provenance says so), else SystemExit. Returns the number of measurements taken over."""
    import pandas as pd
    import pyarrow.parquet as pq

    meta = json.loads(pq.read_schema(path).metadata[METADATA_KEY])
    theirs = {k: v["hash"] for k, v in meta["models"].items()}
    if (meta["images"], meta["elbo_samples"], meta["seed"]) != (n, samples, seed) or \
            theirs != {k: m.hash for k, m in models.items()}:
        sys.exit(f"error: {path} was measured with other images, samples, seed or models; "
                 "it cannot be reused")
    df = pd.read_parquet(path).drop(columns=["bits_per_pixel"])
    rows = [{k: v for k, v in r.items() if not (v is None or (isinstance(v, float) and math.isnan(v)))}
            for r in df.to_dict("records")]
    keys = {}
    for r in rows:
        if r["section"] == "elbo":
            keys[f"elbo {'refined ' if r.get('refine') else ''}{r['model']}"] = r
        elif r["section"] == "codec":
            keys[f"{r['config']} | {r['scope']}"] = r
    baseline = [r for r in rows if r["section"] == "baseline"]
    if baseline:
        keys["baselines"] = baseline
    done = 0
    for key, value in keys.items():
        if ck.get(key) is None:
            ck.put(key, value)
            done += 1
    return done


def _parts_row(stats, n):
    """Bits per image of a Stats (or a list of one-image Stats), by part."""
    if isinstance(stats, list):
        keys = ("total_bits", "latent_bits", "pixel_bits", "header_bits", "flush_bits", "initial_bits",
                "check_bits", "choice_bits")
        tot = {k: float(np.mean([getattr(st, k) for st in stats])) for k in keys}
        per = np.array([st.total_bits for st in stats], dtype=float)
        tot["bits_per_image_se"] = float(per.std(ddof=1) / math.sqrt(len(per))) if len(per) > 1 else None
        tot["stored_images"] = int(sum(int(np.sum(st.stored)) for st in stats if st.stored is not None))
        parts = {}
        for st in stats:
            for k, v in st.parts.items():
                parts[k] = parts.get(k, 0.0) + float(v) / len(stats)
        tot["parts"] = parts
        return tot
    keys = ("total_bits", "latent_bits", "pixel_bits", "header_bits", "flush_bits", "initial_bits",
            "check_bits", "choice_bits")
    out = {k: float(getattr(stats, k)) / n for k in keys}
    out["stored_images"] = int(np.sum(stats.stored)) if stats.stored is not None else 0
    out["parts"] = {k: float(v) / n for k, v in stats.parts.items()}
    return out


def run(a, log=print):
    from rec_bench import compression as Z
    from rec_bench import data as D
    from rec_bench.vae import elbo_summary
    from rec_bench.vae.sender import refine_posterior

    try:
        x, _ = D.load_test(a.data)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if a.images:
        x = x[: a.images]
    n = len(x)
    commit, dirty = git_state()
    t_start = time.time()
    load0 = os.getloadavg()
    models = {k: Z._model(k) for k in ("vae", "isokl")}
    ck = Checkpoint(a.partial, {"images": n, "samples": a.samples, "seed": a.seed, "single": a.single,
                                "check_every": a.check_every,
                                "models": {k: m.hash for k, m in models.items()}}, a.fresh)
    if a.reuse:
        log(f"reused from {a.reuse}: {reuse(ck, a.reuse, n, a.samples, a.seed, models)} measurements")
    rows = []

    log(f"-ELBO on {n} test images ({a.samples} samples of z per image):")
    nelbo = {}
    for k, m in models.items():
        row = ck.get(f"elbo {k}")
        if row is None:
            t0 = time.perf_counter()
            s = elbo_summary(m.elbo(x, samples=a.samples, seed=a.seed))
            row = {"section": "elbo", "model": k, "config": f"{k} -ELBO", "scope": "set", "images": n,
                   "bits_per_image": s["nelbo_bits"], "bits_per_image_se": s["nelbo_bits_se"],
                   "kl_bits": s["kl_bits"], "kl_bits_se": s["kl_bits_se"], "rec_bits": s["rec_bits"],
                   "rec_bits_se": s["rec_bits_se"], "compress_s": time.perf_counter() - t0}
            if k == "isokl":
                row["kappa_bits"] = m.kappa / math.log(2)
            ck.put(f"elbo {k}", row)
        nelbo[k] = row["bits_per_image"]
        rows.append(row)
        log(f"  {k}: {row['bits_per_image']:.1f} +- {row['bits_per_image_se']:.1f} bits/image "
            f"(KL {row['kl_bits']:.1f}, reconstruction {row['rec_bits']:.1f})")
    log(f"-ELBO of the refined posteriors ({REFINE} gradient steps per image, rec_bench.vae.sender):")
    for k, m in models.items():
        row = ck.get(f"elbo refined {k}")
        if row is None:
            t0 = time.perf_counter()
            post = refine_posterior(m, x, REFINE, seed=a.seed)
            t1 = time.perf_counter()
            s = elbo_summary(m.elbo(x, samples=a.samples, seed=a.seed, posterior=post))
            row = {"section": "elbo", "model": k, "config": f"{k} -ELBO, refined posterior", "scope": "set",
                   "images": n, "refine": REFINE, "bits_per_image": s["nelbo_bits"],
                   "bits_per_image_se": s["nelbo_bits_se"], "kl_bits": s["kl_bits"],
                   "kl_bits_se": s["kl_bits_se"],
                   "rec_bits": s["rec_bits"], "rec_bits_se": s["rec_bits_se"], "compress_s": t1 - t0}
            ck.put(f"elbo refined {k}", row)
        rows.append(row)
        log(f"  {k}: {row['bits_per_image']:.1f} bits/image")

    configs = [(label, k, method, opts) for label, k, method, opts in
               configurations(models["isokl"].kappa / math.log(2))]
    configs += [(label, k, "bb-ans", {"precision": p}) for label, k, p in bits_back_configurations()]

    def base(label, k, method, opts, scope, count):
        return {"section": "codec", "model": k, "config": label, "method": method,
                "refine": opts.get("refine", 0), "candidates": opts.get("candidates", 1),
                "depth": opts.get("depth"), "precision": opts.get("precision"),
                "block": opts.get("block"), "bits": opts.get("bits"),
                "code": None if method == "bb-ans" else opts.get("code", "fixed" if method in
                                                                  ("dad*", "orc", "mrc") else "elias-delta"),
                "scope": scope, "images": count, "nelbo_bits": nelbo[k]}

    def finish(row, parts):
        bpi = parts["total_bits"]
        row.update({"bits_per_image": bpi, "latent_bits": parts["latent_bits"],
                    "pixel_bits": parts["pixel_bits"],
                    "header_bits": parts["header_bits"], "flush_bits": parts["flush_bits"],
                    "initial_bits": parts["initial_bits"] or None, "check_bits": parts["check_bits"],
                    "choice_bits": parts["choice_bits"], "stored_images": parts["stored_images"],
                    "parts": json.dumps(parts["parts"]), "overhead_pct": 100 * (bpi / row["nelbo_bits"] - 1)})
        if parts.get("bits_per_image_se") is not None:
            row["bits_per_image_se"] = parts["bits_per_image_se"]
        return row

    # every configuration as one file for the set first, then one file per image (searches last)
    plan = [(c, "set") for c in configs] + [(c, "single") for c in configs if not c[3].get("refine")
                                            and c[3].get("candidates", 1) == 1]
    plan += [(c, "single") for c in configs if c[3].get("refine") or c[3].get("candidates", 1) > 1]
    if a.only:  # a helper run: only these measurements, into the shared checkpoint, no outputs
        import re

        plan = [(c, scope) for c, scope in plan if re.search(a.only, f"{c[0]} | {scope}")]
        if a.reverse:
            plan = plan[::-1]
    left_out = []
    for (label, k, method, opts), scope in plan:
        if scope == "single" and not a.single:
            continue
        key = f"{label} | {scope}"
        row = ck.get(key)
        if row is None and a.available:  # outputs from the finished measurements only
            log(f"  {label} [{scope}]: not measured yet, left out")
            left_out.append(key)
            continue
        if row is None:
            m = models[k]
            if scope == "set":
                t0 = time.perf_counter()
                data, st = Z.compress_with_stats(x, m, method, a.seed, **opts)
                t1 = time.perf_counter()
                y = Z.decompress(data, m)
                t2 = time.perf_counter()
                if not np.array_equal(x, y):
                    raise RuntimeError(f"{label}: decompressed images differ")
                row = finish(base(label, k, method, opts, "set", n), _parts_row(st, n))
                coded = nelbo[k] if not opts.get("refine") else float(np.mean(
                    m.elbo(x, samples=a.samples, seed=a.seed, posterior=st.posterior)["nelbo_bits"]))
                row.update({"coded_nelbo_bits": coded,
                            "coded_overhead_pct": 100 * (row["bits_per_image"] / coded - 1),
                            "compress_s": t1 - t0, "decompress_s": t2 - t1, "file_bytes": len(data)})
            else:
                count = min(n, a.single)
                stats, t_c, t_d, checked = [], 0.0, 0.0, 0
                for i in range(count):
                    t0 = time.perf_counter()
                    data, st = Z.compress_with_stats(x[i], m, method, a.seed, **opts)
                    t_c += time.perf_counter() - t0
                    st.posterior = st.latent_bits_per_image = st.pixel_bits_per_image = None
                    stats.append(st)
                    if i % a.check_every == 0:
                        t0 = time.perf_counter()
                        if not np.array_equal(Z.decompress(data, m), x[i : i + 1]):
                            raise RuntimeError(f"{label}: image {i} decompressed differently")
                        t_d += time.perf_counter() - t0
                        checked += 1
                row = finish(base(label, k, method, opts, "single", count), _parts_row(stats, 1))
                ref = nelbo[k] if count == n else float(np.mean(
                    m.elbo(x[:count], samples=a.samples, seed=a.seed)["nelbo_bits"]))
                row["nelbo_bits"] = ref
                row["overhead_pct"] = 100 * (row["bits_per_image"] / ref - 1)
                row.update({"compress_s": t_c, "decompress_s": t_d * count / max(checked, 1),
                            "decompress_checked": checked})
            ck.put(key, row)
        rows.append(row)
        initial = f", initial {row['initial_bits']:.1f}" if row.get("initial_bits") else ""
        log(f"  {label} [{scope}]: {row['bits_per_image']:.1f} bits/image, {row['overhead_pct']:+.2f}% over "
            f"-ELBO (latent {row['latent_bits']:.1f}, pixels {row['pixel_bits']:.1f}, header "
            f"{row['header_bits']:.1f}, flush {row['flush_bits']:.1f}{initial}); compress "
            f"{row['compress_s']:.1f} s")

    if a.only:
        log(f"done: the measurements matching {a.only!r} are in {a.partial}")
        return None
    log("baselines:")
    got = ck.get("baselines")
    if got is None:
        got = ck.put("baselines", baselines(x, log))
    rows += got

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = pd.DataFrame(rows)
    df["bits_per_pixel"] = df["bits_per_image"] / PIXELS
    import constriction  # noqa: F401
    import imagecodecs
    import numba
    import PIL

    meta = {
        "description": "lossless MNIST test-set compression: VAE/IsoKL VAE + REC + ANS and bits-back ANS "
                       "against baselines, one file for the set and one file per image",
        "command": "python benchmarks/compression_study.py " + " ".join(sys.argv[1:]),
        "git_commit": commit, "git_dirty": dirty, "images": n, "seed": a.seed, "elbo_samples": a.samples,
        "file_format_version": Z.VERSION,
        "data_sha256": D.checksum(a.data),
        "models": {k: {"hash": m.hash, "provenance_test_elbo": m.provenance.get("test_elbo"),
                       "kappa_bits": (m.kappa / math.log(2)) if m.kind == "isokl" else None}
                   for k, m in models.items()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "numba": numba.__version__,
                     "imagecodecs": imagecodecs.__version__, "pillow": PIL.__version__},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "loadavg_start": load0,
                    "loadavg_end": os.getloadavg()},
        "start": dt.datetime.fromtimestamp(t_start, dt.timezone.utc).isoformat(),
        "seconds_this_run": time.time() - t_start,
        "left_out": left_out,  # --available: measurements not made yet
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           METADATA_KEY: json.dumps(meta).encode()})
    pq.write_table(table, out)
    md = summary_table(df) + "\n" + markdown_table(df)
    Path(a.table).write_text(md)
    log(md)
    plot(df, a.figure)
    log(f"wrote {out}, {a.table}, {a.figure}")
    return df


def _f(v, fmt):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)


def _pct(v):
    s = _f(v, "+.2f")
    return s + "%" if s else ""


def summary_table(df):
    """One line per codec configuration: the whole set as one file beside one file per image."""
    codec = df[df["section"] == "codec"]
    lines = ["| configuration | one file: bits/image | over -ELBO | one file per image: bits/image | "
             "over -ELBO | of which header + flush (+ initial) |",
             "|---|---:|---:|---:|---:|---:|"]
    for label in dict.fromkeys(codec["config"]):
        rs = codec[codec["config"] == label].set_index("scope")
        st = rs.loc["set"] if "set" in rs.index else None
        si = rs.loc["single"] if "single" in rs.index else None
        extra = ""
        if si is not None:
            initial = 0.0 if _isnan(si.get("initial_bits")) else si["initial_bits"]
            extra = _f(si["header_bits"] + si["flush_bits"] + initial, ".1f")
        lines.append(f"| {label} | {_f(None if st is None else st['bits_per_image'], '.1f')} | "
                     f"{_pct(None if st is None else st['overhead_pct'])} | "
                     f"{_f(None if si is None else si['bits_per_image'], '.1f')} | "
                     f"{_pct(None if si is None else si['overhead_pct'])} | {extra} |")
    return "\n".join(lines) + "\n"


def _isnan(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def markdown_table(df):
    lines = ["| configuration | scope | bits/image | bits/pixel | latent | pixels | header | flush | initial "
             "| over -ELBO | over coded q's -ELBO | compress s | decompress s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in df.iterrows():
        name = r["config"]
        if r["section"] == "elbo":
            name = f"{r['config']} (KL {r['kl_bits']:.1f} + reconstruction {r['rec_bits']:.1f})"
            bpi = f"{r['bits_per_image']:.1f} ± {r['bits_per_image_se']:.1f}"
        else:
            bpi = _f(r["bits_per_image"], ".1f")
        lines.append(f"| {name} | {r['scope']} | {bpi} | {r['bits_per_pixel']:.4f} | "
                     f"{_f(r.get('latent_bits'), '.1f')} | {_f(r.get('pixel_bits'), '.1f')} | "
                     f"{_f(r.get('header_bits'), '.2f')} | {_f(r.get('flush_bits'), '.2f')} | "
                     f"{_f(r.get('initial_bits'), '.1f')} | {_pct(r.get('overhead_pct'))} | "
                     f"{_pct(r.get('coded_overhead_pct'))} | "
                     f"{_f(r.get('compress_s'), '.1f') if r['section'] != 'elbo' else ''} | "
                     f"{_f(r.get('decompress_s'), '.1f')} |")
    return "\n".join(lines) + "\n"


def plot(df, path):
    """Two panels with the same rows: one file for the whole set (left), one file per image (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codec = df[df["section"] == "codec"]
    base = df[df["section"] == "baseline"]
    elbo = df[df["section"] == "elbo"]
    refined = elbo[elbo["config"].str.contains("refined")].set_index("model")
    elbo = elbo[~elbo["config"].str.contains("refined")].set_index("model")
    labels = list(dict.fromkeys(codec["config"]))
    order = base.groupby("config")["bits_per_pixel"].min().sort_values().index.tolist()
    labels += order
    fig, axes = plt.subplots(1, 2, figsize=(13, 2.5 + 0.24 * len(labels)), sharey=True,
                             gridspec_kw={"wspace": 0.04})
    y = np.arange(len(labels))[::-1]
    shown = df[df["section"].isin(["codec", "baseline"])]["bits_per_pixel"]
    lo = 0.05 * math.floor(min(shown.min(), elbo["bits_per_image"].min() / PIXELS, 1.3) / 0.05) - 0.02
    hi = 1.75
    for ax, scope, title in ((axes[0], "set", "one file for the 10,000 images"),
                             (axes[1], "single", "one file per image")):
        rows = df[(df["scope"] == scope) & df["section"].isin(["codec", "baseline"])].set_index("config")
        values = [rows.loc[lab, "bits_per_pixel"] if lab in rows.index else np.nan for lab in labels]
        for yi, lab, v in zip(y, labels, values):
            if not np.isfinite(v):
                continue
            r = rows.loc[lab]
            if r["section"] == "baseline":
                c = "0.6"
            elif r["method"] == "bb-ans":
                c = "tab:green"
            else:
                c = "tab:blue" if r["model"] == "vae" else "tab:orange"
            xv = min(v, hi)
            ax.plot([lo, xv], [yi, yi], color=c, lw=1, zorder=1)
            ax.scatter([xv], [yi], color=c, s=28 if v <= hi else 40, marker="o" if v <= hi else ">", zorder=2,
                       edgecolor="0.3", linewidth=0.4, clip_on=False)
            ax.text(xv + 0.006 if v <= hi else xv - 0.006, yi, f"{v:.3f}", va="center",
                    ha="left" if v <= hi else "right", fontsize=7)
        for k, c in (("vae", "tab:blue"), ("isokl", "tab:orange")):
            if k in elbo.index:
                v = elbo.loc[k, "bits_per_image"] / PIXELS
                ax.axvline(v, color=c, ls="--", lw=1, label=f"{k} test -ELBO {v:.3f}")
            if k in refined.index:
                v = refined.loc[k, "bits_per_image"] / PIXELS
                ax.axvline(v, color=c, ls="-.", lw=1, label=f"{k} -ELBO, refined posteriors {v:.3f}")
        ax.set_xlim(lo, hi)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", color="0.9", lw=0.6)
        ax.set_xlabel("bits per pixel (MNIST test set; ▶ = beyond the axis)")
    axes[0].set_yticks(y, labels, fontsize=8)
    axes[1].tick_params(labelleft=False)
    axes[0].legend(loc="upper center", bbox_to_anchor=(1.0, -0.06), ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Lossless MNIST: VAE latent by REC (blue: VAE, orange: IsoKL VAE) or bits-back ANS (green), "
                 "pixels by ANS; general-purpose codecs in grey", fontsize=10)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data",
                    help="MNIST directory (default: $REC_BENCH_DATA or ~/.cache/rec_bench/mnist)")
    ap.add_argument("--images", type=int, help="only the first N test images (default: all 10,000)")
    ap.add_argument("--samples", type=int, default=8, help="samples of z per image for the -ELBO (default 8)")
    ap.add_argument("--single", type=int, default=10**9,
                    help="one-image files for the first N images of every configuration "
                         "(default: all; 0: skip)")
    ap.add_argument("--check-every", type=int, default=20,
                    help="decompress and check every Nth one-image file (default 20)")
    ap.add_argument("--partial", default=str(ROOT / "results" / "compression.partial"),
                    help="directory of finished measurements, for resuming")
    ap.add_argument("--fresh", action="store_true", help="forget finished measurements and start over")
    ap.add_argument("--reuse", metavar="PARQUET",
                    help="take the measurements an earlier study's parquet holds (e.g. "
                         "results/reference/compression.parquet, made with the same images, samples, seed "
                         "and models) instead of making them again: only new configurations are measured")
    ap.add_argument("--only", metavar="REGEX",
                    help="only the measurements whose 'configuration | scope' matches (a second process "
                         "sharing the checkpoint); writes no outputs")
    ap.add_argument("--reverse", action="store_true", help="with --only: in reverse order")
    ap.add_argument("--available", action="store_true",
                    help="measure nothing: write the outputs from the finished measurements in --partial "
                         "(those not made yet are left out and named)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "results" / "compression.parquet"))
    ap.add_argument("--table", default=str(ROOT / "results" / "compression_table.md"))
    ap.add_argument("--figure", default=str(ROOT / "figures" / "compression.png"))
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure and table from --out")
    a = ap.parse_args(argv)
    if a.plot_only:
        import pandas as pd

        df = pd.read_parquet(a.out)
        Path(a.table).write_text(summary_table(df) + "\n" + markdown_table(df))
        plot(df, a.figure)
        return 0
    run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
