"""Lossless MNIST compression study: `make study-compression` (or `python benchmarks/compression_study.py`).

On the 10,000 MNIST test images (``make data`` first) it measures

1. the test -ELBO of each committed model (bits per image and per pixel, its KL and reconstruction
   parts, standard errors over images; the reconstruction term averages ``--samples`` draws of z);
   and the -ELBO of the sender's refined posteriors (20 gradient steps per image,
   ``rec_bench.vae.sender``);
2. per codec configuration (model + latent REC method, and the sender's searches: refined
   posteriors, K latent candidates), one file for the whole set: its bits per image split into
   latent codes, pixels (ANS words, with the candidates' names) and header (header, checksums,
   padding), the overhead over that model's -ELBO and over the -ELBO of the posterior actually
   coded, in percent, and the wall time to compress and to decompress all images (networks
   included; each decompressed set is checked equal to the input); and one file per image (what
   one image costs alone);
3. the lossless compressors a user would pick instead, on the same images, per single image and
   for the whole set: PNG (Pillow, optimize=True: zlib level 9; the set as one 2800 x 2800
   mosaic), WebP lossless (method 6, level 100) and JPEG XL lossless (effort 9) from imagecodecs,
   and bz2 (level 9), lzma (xz format, preset 9 | extreme) and zstd (level 22) of the raw bytes.

It writes results/compression.parquet (one row per measurement; provenance as JSON under the
schema metadata key ``rec_bench_compression``), results/compression_table.md (the table that the
docs show) and figures/compression.png. This is a script beside bench.py rather than a YAML study:
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
        ("IsoKL + AD*", "isokl", "ad*", {}),
        ("IsoKL + AD* (model index)", "isokl", "ad*", {"code": "model"}),
    ]
    out += [(f"IsoKL + DAD* D={d}", "isokl", "dad*", {"depth": d}) for d in depths]
    out += [(f"IsoKL + DAD* D={d} (model index)", "isokl", "dad*", {"depth": d, "code": "model"})
            for d in depths if d >= 2]
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
    ]
    return out


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


def run(a, log=print):
    from rec_bench import compression as Z
    from rec_bench import data as D
    from rec_bench.vae import elbo_summary, load_model
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
    models = {k: load_model(k) for k in ("vae", "isokl")}
    rows = []

    log(f"-ELBO on {n} test images ({a.samples} samples of z per image):")
    nelbo = {}
    for k, m in models.items():
        t0 = time.perf_counter()
        s = elbo_summary(m.elbo(x, samples=a.samples, seed=a.seed))
        nelbo[k] = s["nelbo_bits"]
        row = {"section": "elbo", "model": k, "config": f"{k} -ELBO", "scope": "set", "images": n,
               "bits_per_image": s["nelbo_bits"], "bits_per_image_se": s["nelbo_bits_se"],
               "kl_bits": s["kl_bits"], "kl_bits_se": s["kl_bits_se"], "rec_bits": s["rec_bits"],
               "rec_bits_se": s["rec_bits_se"], "compress_s": time.perf_counter() - t0}
        if k == "isokl":
            row["kappa_bits"] = m.kappa / math.log(2)
        rows.append(row)
        log(f"  {k}: {s['nelbo_bits']:.1f} +- {s['nelbo_bits_se']:.1f} bits/image = {s['nelbo_bpp']:.4f} bpp "
            f"(KL {s['kl_bits']:.1f}, reconstruction {s['rec_bits']:.1f})")
    log(f"-ELBO of the refined posteriors ({REFINE} gradient steps per image, rec_bench.vae.sender):")
    refined = {}
    for k, m in models.items():
        t0 = time.perf_counter()
        post = refine_posterior(m, x, REFINE, seed=a.seed)
        t1 = time.perf_counter()
        parts = m.elbo(x, samples=a.samples, seed=a.seed, posterior=post)
        s = elbo_summary(parts)
        refined[k] = parts["nelbo_bits"]
        rows.append({"section": "elbo", "model": k, "config": f"{k} -ELBO, refined posterior", "scope": "set",
                     "images": n, "refine": REFINE, "bits_per_image": s["nelbo_bits"],
                     "bits_per_image_se": s["nelbo_bits_se"],
                     "kl_bits": s["kl_bits"], "kl_bits_se": s["kl_bits_se"], "rec_bits": s["rec_bits"],
                     "rec_bits_se": s["rec_bits_se"], "compress_s": t1 - t0})
        log(f"  {k}: {s['nelbo_bits']:.1f} +- {s['nelbo_bits_se']:.1f} bits/image = {s['nelbo_bpp']:.4f} bpp "
            f"(KL {s['kl_bits']:.1f}, reconstruction {s['rec_bits']:.1f}; refinement took {t1 - t0:.1f} s)")

    log("codec configurations (one file for the whole set):")
    for label, k, method, opts in configurations(models["isokl"].kappa / math.log(2)):
        m = models[k]
        t0 = time.perf_counter()
        data, st = Z.compress_with_stats(x, m, method, a.seed, **opts)
        t1 = time.perf_counter()
        y = Z.decompress(data, m)
        t2 = time.perf_counter()
        if not np.array_equal(x, y):
            raise RuntimeError(f"{label}: decompressed images differ")
        bpi = st.total_bits / n
        # the -ELBO of the posterior actually coded: the encoder's, or the refined one
        coded = nelbo[k] if not opts.get("refine") else float(np.mean(
            m.elbo(x, samples=a.samples, seed=a.seed, posterior=st.posterior)["nelbo_bits"]))
        rows.append({"section": "codec", "model": k, "config": label, "method": method,
                     "refine": opts.get("refine", 0), "candidates": opts.get("candidates", 1),
                     "choice_bits": st.choice_bits / n, "coded_nelbo_bits": coded,
                     "coded_overhead_pct": 100 * (bpi / coded - 1), "encoder_s": st.seconds["encoder"],
                     "select_s": st.seconds["select"],
                     "depth": opts.get("depth"),
                     "code": opts.get("code", "fixed" if method == "dad*" else "elias-delta"),
                     "scope": "set", "images": n, "bits_per_image": bpi,
                     "latent_bits": st.latent_bits / n, "pixel_bits": st.pixel_bits / n,
                     "header_bits": st.header_bits / n,
                     "nelbo_bits": nelbo[k], "overhead_pct": 100 * (bpi / nelbo[k] - 1),
                     "compress_s": t1 - t0, "decompress_s": t2 - t1, "file_bytes": len(data),
                     "latent_s": st.seconds["latents"], "pixels_s": st.seconds["pixels"]})
        log(f"  {label}: {bpi:.1f} bits/image = {bpi / PIXELS:.4f} bpp, "
            f"{rows[-1]['overhead_pct']:+.2f}% over -ELBO "
            f"({rows[-1]['coded_overhead_pct']:+.2f}% over the coded posterior's) "
            f"(latent {st.latent_bits / n:.1f}, pixels {st.pixel_bits / n:.1f}, "
            f"header {st.header_bits / n:.2f}); "
            f"compress {t1 - t0:.1f} s, decompress {t2 - t1:.1f} s")

    if a.single is None:
        a.single = n
    if a.single:
        configs = {label: (k, method, opts)
                   for label, k, method, opts in configurations(models["isokl"].kappa / math.log(2))}
        codecs = [r for r in rows if r["section"] == "codec"]
        best_dad = min((r for r in codecs
                        if r["method"] == "dad*" and r["refine"] == 0 and r["candidates"] == 1),
                       key=lambda r: r["bits_per_image"])
        best = min(codecs, key=lambda r: r["bits_per_image"])
        plan = [("VAE + AD*", a.single), (best_dad["config"], a.single)]
        if best["config"] != best_dad["config"]:  # the sender's searches take ~20 ms an image alone
            plan.append((best["config"], min(a.single, a.single_search)))
        for label, count in plan:
            k, method, opts = configs[label]
            xs = x[:count]
            log(f"single-image files, {label} (first {count} images):")
            sizes = np.array([8 * len(Z.compress(xs[i], models[k], method, a.seed, **opts))
                              for i in range(len(xs))])
            ref = float(np.mean(models[k].elbo(xs, samples=a.samples, seed=a.seed)["nelbo_bits"]))
            _, st = Z.compress_with_stats(xs, models[k], method, a.seed, **opts)
            rows.append({"section": "codec", "model": k, "config": label, "method": method,
                         "depth": opts.get("depth"), "refine": opts.get("refine", 0),
                         "candidates": opts.get("candidates", 1),
                         "scope": "single", "images": len(xs), "bits_per_image": sizes.mean(),
                         "bits_per_image_se": sizes.std(ddof=1) / math.sqrt(len(xs)), "nelbo_bits": ref,
                         "overhead_pct": 100 * (sizes.mean() / ref - 1),
                         "header_bits": sizes.mean() - st.total_bits / len(xs) + st.header_bits / len(xs)})
            log(f"  {sizes.mean():.1f} bits/image alone ({rows[-1]['overhead_pct']:+.2f}% over the -ELBO "
                f"{ref:.1f} of these images; {st.total_bits / len(xs):.1f} in one file)")

    log("baselines:")
    rows += baselines(x, log)

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
        "description": "lossless MNIST test-set compression: VAE/IsoKL VAE + REC + ANS against baselines",
        "command": "python benchmarks/compression_study.py " + " ".join(sys.argv[1:]),
        "git_commit": commit, "git_dirty": dirty, "images": n, "seed": a.seed, "elbo_samples": a.samples,
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
        "seconds": time.time() - t_start,
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           METADATA_KEY: json.dumps(meta).encode()})
    pq.write_table(table, out)
    md = markdown_table(df)
    Path(a.table).write_text(md)
    log(md)
    plot(df, a.figure)
    log(f"wrote {out}, {a.table}, {a.figure}")
    return df


def markdown_table(df):
    lines = ["| configuration | scope | bits/image | bits/pixel | latent | pixels | header | over -ELBO "
             "| over coded q's -ELBO | compress s | decompress s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def f(v, fmt):
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    for _, r in df.iterrows():
        name = r["config"]
        if r["section"] == "elbo":
            name = f"{r['config']} (KL {r['kl_bits']:.1f} + reconstruction {r['rec_bits']:.1f})"
            bpi = f"{r['bits_per_image']:.1f} ± {r['bits_per_image_se']:.1f}"
        else:
            bpi = f(r["bits_per_image"], ".1f")
        lines.append(f"| {name} | {r['scope']} | {bpi} | {r['bits_per_pixel']:.4f} | "
                     f"{f(r.get('latent_bits'), '.1f')} | "
                     f"{f(r.get('pixel_bits'), '.1f')} | {f(r.get('header_bits'), '.2f')} | "
                     f"{f(r.get('overhead_pct'), '+.2f')}{'%' if f(r.get('overhead_pct'), '.1f') else ''} | "
                     f"{f(r.get('coded_overhead_pct'), '+.2f')}"
                     f"{'%' if f(r.get('coded_overhead_pct'), '.1f') else ''} | "
                     f"{f(r.get('compress_s'), '.1f') if r['section'] != 'elbo' else ''} | "
                     f"{f(r.get('decompress_s'), '.1f')} |")
    return "\n".join(lines) + "\n"


def plot(df, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    codec = df[df["section"] == "codec"]
    base = df[df["section"] == "baseline"].copy()
    elbo = df[df["section"] == "elbo"]
    refined = elbo[elbo["config"].str.contains("refined")].set_index("model")
    elbo = elbo[~elbo["config"].str.contains("refined")].set_index("model")
    fig, ax = plt.subplots(figsize=(9, 3 + 0.22 * (len(codec) + len(base))))
    labels, values, colors = [], [], []
    for _, r in codec.iterrows():
        single = r["scope"] == "single"
        labels.append(r["config"] + (" (one file per image)" if single else " (one file)"))
        values.append(r["bits_per_pixel"])
        colors.append(("lightsteelblue" if single else "tab:blue") if r["model"] == "vae" else
                      ("navajowhite" if single else "tab:orange"))
    for _, r in base.sort_values("bits_per_pixel").iterrows():
        labels.append(f"{r['config']} ({'one file' if r['scope'] == 'set' else 'per image'})")
        values.append(r["bits_per_pixel"])
        colors.append("0.6" if r["scope"] == "set" else "0.8")
    y = np.arange(len(labels))[::-1]
    lo = 0.05 * math.floor(min(values + [1.41]) / 0.05) - 0.05
    # a dot plot (the differences that matter are a few hundredths of a bit on top of ~1.4)
    # per-image baselines beyond the right edge are drawn at it, as arrows with their value
    hi = 1.72
    for yi, v, c in zip(y, values, colors):
        x = min(v, hi)
        ax.plot([lo, x], [yi, yi], color=c, lw=1, zorder=1)
        ax.scatter([x], [yi], color=c, s=28 if v <= hi else 40, marker="o" if v <= hi else ">", zorder=2,
                   edgecolor="0.3", linewidth=0.4, clip_on=False)
        ax.text(x + 0.006 if v <= hi else x - 0.006, yi, f"{v:.3f}", va="center",
                ha="left" if v <= hi else "right", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    for k, c in (("vae", "tab:blue"), ("isokl", "tab:orange")):
        if k in elbo.index:
            v = elbo.loc[k, "bits_per_image"] / PIXELS
            ax.axvline(v, color=c, ls="--", lw=1, label=f"{k} test -ELBO {v:.3f}")
        if k in refined.index:
            v = refined.loc[k, "bits_per_image"] / PIXELS
            ax.axvline(v, color=c, ls="-.", lw=1, label=f"{k} -ELBO of the refined posteriors {v:.3f}")
    ax.axvline(1.41, color="k", ls=":", lw=1, label="bits-back ANS, 1-layer VAE (published) 1.41")
    ax.set_xlabel("bits per pixel (MNIST test set, 10,000 images; ▶ = beyond the axis)")
    ax.set_xlim(lo, hi)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, fontsize=8, frameon=False)
    ax.set_title("Lossless MNIST: VAE latent by REC + pixels by ANS,\nagainst general-purpose codecs",
                 fontsize=10)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data",
                    help="MNIST directory (default: $REC_BENCH_DATA or ~/.cache/rec_bench/mnist)")
    ap.add_argument("--images", type=int, help="only the first N test images (default: all 10,000)")
    ap.add_argument("--samples", type=int, default=8, help="samples of z per image for the -ELBO (default 8)")
    ap.add_argument("--single", type=int, default=None,
                    help="single-image files for the first N images (default: all; 0: skip)")
    ap.add_argument("--single-search", type=int, default=2000,
                    help="single-image files of the best configuration with sender searches: "
                         "first N images (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "results" / "compression.parquet"))
    ap.add_argument("--table", default=str(ROOT / "results" / "compression_table.md"))
    ap.add_argument("--figure", default=str(ROOT / "figures" / "compression.png"))
    ap.add_argument("--plot-only", action="store_true", help="redraw the figure and table from --out")
    a = ap.parse_args(argv)
    if a.plot_only:
        import pandas as pd

        df = pd.read_parquet(a.out)
        Path(a.table).write_text(markdown_table(df))
        plot(df, a.figure)
        return 0
    run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
