"""Lossless image compression with a VAE: the latent by relative entropy coding, the pixels by ANS.

``compress(images, model, method="ad*", seed=0, **options) -> bytes`` and
``decompress(data, model=None) -> uint8 images`` (n, 28, 28). Per image, the encoder gives the
posterior q(z|x) = prod_i N(mu_i, s_i^2); each coordinate of z is sent by relative entropy coding
against the prior N(0, 1) (AS*, AD* or DAD*; Flamich, Markou and Hernandez-Lobato 2022), and the
pixels are entropy coded with the decoder's p(x|z) at the decoded z by one ANS coder
(constriction; Bamler 2022) for the whole file, so the coder's fixed overhead is paid once per
file. No bits-back: every image costs about its -ELBO plus the REC and coder overheads, also alone.

The sender may also search (``rec_bench.vae.sender``; needs JAX): ``refine=STEPS`` refines each
image's posterior by gradient steps on its -ELBO before coding (the receiver never sees q, so the
format and the decoder are unchanged), and ``candidates=K`` codes each latent with K seeds and keeps
the one with the shortest latent code plus pixel cost, naming it in log2 K bits.

File format (version 2; version 1 is version 2 without the candidates field), all integers
unsigned, varint = LEB128:

    magic      2 bytes  b"RB"
    version    1 byte   2
    model      4 bytes  first 4 bytes of the SHA-256 of the model's config and float64 weights
    method     1 byte   16 * method + code; method 1 = as*, 2 = ad*, 3 = dad*;
                        code 0 = elias-gamma, 1 = elias-delta, 2 = fixed (dad*), 3 = model
    depth      varint   DAD*'s tree depth D (present for dad* only)
    seed       varint   the shared seed (< 2^64)
    candidates varint   K, the number of latent candidates per image (1 = no choice)
    count      varint   number of images n
    height     varint   28
    width      varint   28
    latent     varint   length in bytes of the latent section
    latents    one rec_bench.coding stream of the n latent vectors; image i is vector i, with seed
               s_i = message_seed(seed, i) for candidate 0 and message_seed(s_i, k) for candidate
               k >= 1 (its coordinate j has seed coordinate_seed(that seed, j)): the coordinates'
               codes back to back, padded once; with code = model the stream of the index model
               (each node's depth entropy coded with the model's committed depth table for the
               method, the path bits as uniform symbols)
    pixels     4 * k bytes: the ANS coder's 32-bit words (little-endian); the decoder pops, when
               K > 1, the n candidates first (uniform over 0..K-1), then image by image its 784
               pixels
    crc        4 bytes  CRC-32 of everything before it followed by the images' raw bytes

The one checksum covers the file and the decoded images, so it catches a damaged or truncated
file and also a receiver whose model computations differ from the sender's; it is checked after
decoding, behind the structural checks (magic, version, model hash, field ranges, the latent
stream's own checks, no words left over). About 150 bits per file.

The depth tables of ``code="model"`` (``<model>.index.json`` beside the weights, built by
``python -m rec_bench.vae.index_tables`` from training images) carry the weights' hash and are
used only with that model.

A corrupted or truncated file, or one written with another model, raises ValueError. Decoding
recomputes the pixel probabilities with the model's fixed-order kernels (``rec_bench.vae``), so
sender and receiver agree bit for bit; the images' CRC-32 checks that they did.
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .coding import BudgetExceeded, StreamDecoder, StreamEncoder, message_seed
from .coding.seeds import message_seeds
from .coding.codes import UNIVERSAL
from .coding.sinks import ByteReader, varint
from .methods import method_spec
from .pairs import Normal
from .vae.index_tables import index_model

MAGIC = b"RB"
VERSION = 2
MAX_CANDIDATES = 4096
HASH_BYTES = 4
FILE_METHODS = {"as*": 1, "ad*": 2, "dad*": 3}
CODE_IDS = {"elias-gamma": 0, "elias-delta": 1, "fixed": 2, "model": 3}
CHUNK = 32  # images per batch of pixel tables (32 x 784 x 256 float64 = 51 MB)
_STD = Normal(0.0, 1.0)


# ---- models ---------------------------------------------------------------------------------

def _model(model):
    from .vae import Model, load_model

    if isinstance(model, Model):
        return model
    if isinstance(model, (str, Path)):
        return load_model(model)
    raise ValueError(f"model must be a rec_bench.vae.Model, a model name ('vae', 'isokl') or a weights path, "
                     f"got {model!r}")


def _model_for_hash(prefix):
    from .vae import KINDS, load_model

    for name in KINDS:
        try:
            m = load_model(name, with_provenance=False)
        except FileNotFoundError:
            continue
        if bytes.fromhex(m.hash)[:HASH_BYTES] == prefix:
            return m
    raise ValueError(f"the file was written with model {prefix.hex()}, which is none of the committed "
                     "models; pass model=")


# ---- input checks -----------------------------------------------------------------------------

def check_images(images, shape=(28, 28)):
    """uint8 array (n, 28, 28) from ``images``; a clear ValueError for the wrong shape, type or range."""
    a = np.asarray(images)
    if a.ndim == 2 and a.shape == shape:
        a = a[None]
    if a.ndim != 3 or a.shape[1:] != shape:
        raise ValueError(f"images must be an array of shape (n, {shape[0]}, {shape[1]}), got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("no images to compress")
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"images must hold integer pixel values 0..255 (uint8), got dtype {a.dtype}")
        if a.min() < 0 or a.max() > 255:
            raise ValueError(f"pixel values must lie in 0..255, got values from {a.min()} to {a.max()}")
        a = a.astype(np.uint8)
    return np.ascontiguousarray(a)


def _options(method, options):
    """(method, code, depth) checked: code is the index code, or "model" for the model-coded index."""
    m = method_spec(method)
    if m.name not in FILE_METHODS:
        raise ValueError(f"method {method!r} is not available for images; "
                         f"choose one of {sorted(FILE_METHODS)}")
    unknown = set(options) - {"depth", "code", "max_steps", "refine", "candidates", "progress"}
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; options are depth (dad*), code, max_steps, "
                         "refine, candidates, progress")
    if options.get("refine"):
        from .vae.sender import check_steps

        check_steps(options["refine"])
    k = options.get("candidates", 1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be an integer in [1, {MAX_CANDIDATES}], got {k!r}")
    depth = options.get("depth")
    code = options.get("code")
    if code not in (None, "model", *UNIVERSAL):
        names = ", ".join(repr(c) for c in UNIVERSAL)
        raise ValueError(f"code must be {names} or 'model' (the index entropy coded with the model's "
                         f"committed depth table), got {code!r}")
    if m.option is not None:  # DAD*, the one fixed-length method of the format (its depth field)
        if depth is None or isinstance(depth, bool) or int(depth) != depth or not 0 <= int(depth) <= 62:
            raise ValueError(f"dad* needs depth=D, an integer in [0, 62], got {depth!r}")
        if code in UNIVERSAL:
            raise ValueError("dad* writes a fixed (D + 1)-bit index, or the model-coded one (code='model')")
        return m.name, code or "fixed", int(depth)
    if depth is not None:
        raise ValueError(f"{m.name} takes no depth option")
    return m.name, code or m.code, 0


# ---- latent coding: one REC stream of all images' latents (rec_bench.coding.stream) ---------------

def _index_model(model, method, depth):
    """The committed index model (depth table) of ``model`` for ``method`` (and DAD*'s depth)."""
    table = index_model(model, method, depth)
    if table is None:
        raise ValueError(f"model {model.kind} has no committed index table for {method}"
                         f"{f' at depth {depth}' if method == 'dad*' else ''}; build it with "
                         "python -m rec_bench.vae.index_tables")
    return table


def _stream_options(model, method, code, depth):
    kw = {}
    if method == "dad*":
        kw["depth"] = depth
    elif code != "model":
        kw["code"] = code
    if code == "model":
        kw["index_model"] = _index_model(model, method, depth)
    return kw


def candidate_seeds(seed, n, choice=None):
    """The latent seeds of images 0..n-1: image i's message seed ``message_seed(seed, i)`` for
    candidate 0, and ``message_seed(message_seed(seed, i), k)`` for candidate k >= 1; ``choice``: (n,)
    candidates (default all 0). A uint64 array (n,)."""
    base = message_seeds(seed, 0, n)
    if choice is None:
        return base
    choice = np.asarray(choice)
    return np.array([b if k == 0 else message_seed(int(b), int(k))
                     for b, k in zip(base.tolist(), choice.tolist())],
                    dtype=np.uint64)


def _select(model, x, mu, s, method, code, depth, seed, max_steps, k):
    """The candidate (n,) of each image with the shortest latent code plus (estimated) pixel cost."""
    from .vae.sender import PixelScorer

    scorer = PixelScorer(model, x)
    n = len(x)
    base = candidate_seeds(seed, n)
    best, best_cost = np.zeros(n, np.int64), np.full(n, np.inf)
    for c in range(k):
        seeds = base if c == 0 else candidate_seeds(seed, n, np.full(n, c))
        enc = StreamEncoder(method, seed, max_steps=max_steps, **_stream_options(model, method, code, depth))
        v = enc.encode_many(Normal(mu, s), _STD, seeds=seeds)
        cost = np.asarray(v.code_bits).sum(axis=1) + scorer(np.asarray(v.sample, dtype=np.float64))
        better = cost < best_cost
        best[better], best_cost[better] = c, cost[better]
    return best


def _encode_latents(model, mu, s, method, code, depth, seed, max_steps=None, seeds=None):
    """Send z ~ prod N(mu, s^2) against N(0, 1): image i is vector i of one stream (its seed
    ``message_seed(seed, i)``, coordinate j of it ``coordinate_seed(message_seed(seed, i), j)``),
    all coded in one compiled call. Returns (stream bytes, z as the receiver decodes it, latent
    bits per image: each image's code lengths, or with the model-coded index its information)."""

    enc = StreamEncoder(method, seed, max_steps=max_steps, **_stream_options(model, method, code, depth))
    c = enc.encode_many(Normal(mu, s), _STD, seeds=seeds)
    return enc.get_compressed(), np.asarray(c.sample, dtype=np.float64), np.asarray(c.code_bits).sum(axis=1)


def _decode_latents(data, n, d, model, method, code, depth, seed, seeds=None):
    """The decoded z (n, d) of a latent stream; ValueError if it is malformed or has bytes left over."""

    dec = StreamDecoder(data, method, seed, **_stream_options(model, method, code, depth))
    z = dec.decode_many(_STD, n, shape=d, seeds=seeds)
    dec.finish()
    return np.asarray(z, dtype=np.float64).reshape(n, d)


# ---- container ---------------------------------------------------------------------------------

@dataclass
class Stats:
    """What a file's bits went to (from :func:`compress_with_stats`)."""

    images: int
    total_bits: int
    header_bits: int  # magic .. width, the latent section's padding and the CRC
    latent_bits: int  # the concatenated coordinate codes
    pixel_bits: int  # the ANS coder's words (the pixels, and the candidates' names if candidates > 1)
    latent_bits_per_image: np.ndarray = field(repr=False)
    pixel_bits_per_image: np.ndarray = field(repr=False)  # ideal ANS increments per image
    seconds: dict = field(default_factory=dict)  # encoder (with any refinement), latents, pixels, total
    posterior: tuple = field(default=None, repr=False)  # (mu, s) the latents were sent from
    choice_bits: float = 0.0  # of pixel_bits: naming each image's candidate (candidates > 1)
    choice: np.ndarray = field(default=None, repr=False)  # each image's candidate (None: all 0)


def compress(images, model, method="ad*", seed=0, **options):
    """Compress uint8 images (n, 28, 28) losslessly; returns the file's bytes (format above).

    ``model``: a :class:`rec_bench.vae.Model`, 'vae', 'isokl' or a weights path. ``method``: 'as*',
    'ad*' or 'dad*' (with ``depth=D``); ``code``: 'elias-delta' (default) or 'elias-gamma' for
    AS*/AD*, or 'model' (the index entropy coded with the model's committed depth table);
    ``max_steps``: the REC search budget per coordinate; ``refine``: the sender refines each image's
    posterior by that many gradient steps on its -ELBO before coding (``rec_bench.vae.sender``;
    needs JAX; 0 = the encoder's posterior, the default); ``candidates``: the sender codes each latent
    with that many seeds and keeps the shortest (needs JAX; default 1); ``progress``: a bar while
    refining. The receiver is the same either way.
    """
    return compress_with_stats(images, model, method, seed, **options)[0]


def compress_with_stats(images, model, method="ad*", seed=0, **options):
    """:func:`compress`, also returning a :class:`Stats` of where the bits went."""
    import constriction

    model = _model(model)
    x = check_images(images)
    if int(seed) != seed or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    method, code, depth = _options(method, options)
    n = len(x)
    t0 = time.perf_counter()
    if options.get("refine"):
        from .vae.sender import refine_posterior

        mu, s = refine_posterior(model, x, options["refine"], seed=seed % 2**31,
                                 progress=options.get("progress", False))
    else:
        mu, s = model.encode(x)
    t1 = time.perf_counter()
    k = int(options.get("candidates", 1))
    try:
        choice = (_select(model, x, mu, s, method, code, depth, seed, options.get("max_steps"), k)
                  if k > 1 else None)
        t_select = time.perf_counter()
        latents, z, latent_per_image = _encode_latents(model, mu, s, method, code, depth, seed,
                                                       options.get("max_steps"),
                                                       candidate_seeds(seed, n, choice))
    except BudgetExceeded as e:
        raise ValueError(f"a latent coordinate exceeded the search budget: {e}") from None
    t2 = time.perf_counter()

    family = constriction.stream.model.Categorical(perfect=False)
    coder = constriction.stream.stack.AnsCoder()
    symbols = x.reshape(n, -1).astype(np.int32)
    pixel_per_image = np.zeros(n)
    # ANS is a stack: push the images last to first so that the decoder pops them first to last
    for start in reversed(range(0, n, CHUNK)):
        stop = min(start + CHUNK, n)
        probs = model.pixel_probabilities(z[start:stop])
        for i in reversed(range(start, stop)):
            before = coder.num_bits()
            coder.encode_reverse(symbols[i], family, probs[i - start])
            pixel_per_image[i] = coder.num_bits() - before
    choice_bits = 0
    if k > 1:  # pushed last: the decoder pops every image's candidate before it decodes the latents
        before = coder.num_bits()
        coder.encode_reverse(choice.astype(np.int32), constriction.stream.model.Uniform(k))
        choice_bits = coder.num_bits() - before
    words = coder.get_compressed()
    t3 = time.perf_counter()

    header = b"".join([
        MAGIC, bytes([VERSION]), bytes.fromhex(model.hash)[:HASH_BYTES],
        bytes([16 * FILE_METHODS[method] + CODE_IDS[code]]), varint(depth) if method == "dad*" else b"",
        varint(seed), varint(k), varint(n), varint(28), varint(28), varint(len(latents)),
    ])
    body = header + latents + np.asarray(words, dtype="<u4").tobytes()
    out = body + struct.pack("<I", zlib.crc32(x.tobytes(), zlib.crc32(body)))
    pixel_bits = 32 * len(words)
    stats = Stats(n, 8 * len(out), 8 * len(out) - 8 * len(latents) - pixel_bits, 8 * len(latents), pixel_bits,
                  latent_per_image, pixel_per_image,
                  {"encoder": t1 - t0, "select": t_select - t1, "latents": t2 - t_select, "pixels": t3 - t2,
                   "total": time.perf_counter() - t0},
                  (mu, s), choice_bits, choice)
    return out, stats


def read_header(data):
    """Parse a file's header: (dict, reader positioned at the latent section, data as bytes)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"compressed data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < len(MAGIC) + 1 or data[: len(MAGIC)] != MAGIC:
        raise ValueError("not a rec_bench image file (bad magic)")
    version = data[len(MAGIC)]
    if version not in (1, VERSION):
        raise ValueError(f"unsupported file format version {version} (this reads versions 1 and {VERSION})")
    r = ByteReader(data[:-4] if len(data) >= 4 else b"", "file")
    r.take(len(MAGIC) + 1, "magic")
    h = {"model": r.take(HASH_BYTES, "model hash")}
    (mc,) = r.take(1, "method")
    mid, cid = mc >> 4, mc & 15
    methods = {v: k for k, v in FILE_METHODS.items()}
    codes = {v: k for k, v in CODE_IDS.items()}
    if (mid not in methods or cid not in codes
            or (codes[cid] == "fixed") != (methods[mid] == "dad*" and cid != 3)):
        raise ValueError(f"corrupted file: unknown method {mid} or code {cid}")
    h["method"], h["code"] = methods[mid], codes[cid]
    h["depth"] = r.varint("depth", 63) if h["method"] == "dad*" else 0
    h["seed"] = r.varint("seed")
    h["candidates"] = r.varint("candidates", MAX_CANDIDATES + 1) if version >= 2 else 1
    if h["candidates"] < 1:
        raise ValueError("corrupted file: candidates = 0")
    h["count"] = r.varint("image count", 2**40)
    h["height"], h["width"] = r.varint("height", 2**16), r.varint("width", 2**16)
    h["latent_bytes"] = r.varint("latent section length")
    if h["latent_bytes"] > len(data) - r.pos - 4:
        raise ValueError(f"truncated or corrupted file: a latent section of {h['latent_bytes']} bytes "
                         "cannot fit")
    return h, r, data


def decompress(data, model=None):
    """The uint8 images (n, 28, 28) of a file written by :func:`compress`.

    ``model`` defaults to the committed model whose hash the file names. ValueError for a corrupted,
    truncated or foreign file, and for a model other than the one that wrote it.
    """
    import constriction

    h, r, data = read_header(data)
    if model is None:
        model = _model_for_hash(h["model"])
    else:
        model = _model(model)
        if bytes.fromhex(model.hash)[:HASH_BYTES] != h["model"]:
            raise ValueError(f"wrong model: the file was written with model {h['model'].hex()}, "
                             f"not {model.hash[:2 * HASH_BYTES]} ({model.kind})")
    if (h["height"], h["width"]) != (28, 28):
        raise ValueError(f"corrupted file: it claims {h['height']}x{h['width']} images; "
                         "the models take 28x28")
    n, d = h["count"], model.latent
    rest = r.data[r.pos :]
    if n == 0 or h["latent_bytes"] > len(rest) or n > 8 * len(rest):
        raise ValueError(f"corrupted or truncated file: {n} images cannot fit in {len(rest)} bytes")
    latents, words = rest[: h["latent_bytes"]], rest[h["latent_bytes"] :]
    if len(words) % 4:
        raise ValueError("corrupted or truncated file: the pixel section is not a whole number of "
                         "32-bit words")
    coder = constriction.stream.stack.AnsCoder(np.frombuffer(words, dtype="<u4").astype(np.uint32))
    choice = None
    if h["candidates"] > 1:
        try:
            choice = coder.decode(constriction.stream.model.Uniform(h["candidates"]), n)
        except Exception as e:  # constriction raises on an exhausted or invalid stream
            raise ValueError(f"corrupted or truncated file: the candidates do not decode: {e}") from None
    try:
        z = _decode_latents(latents, n, d, model, h["method"], h["code"], h["depth"], h["seed"],
                            candidate_seeds(h["seed"], n, choice))
    except ValueError as e:
        raise ValueError(f"corrupted or truncated file: the latent stream does not decode ({e})") from None

    family = constriction.stream.model.Categorical(perfect=False)
    out = np.empty((n, 784), dtype=np.uint8)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        probs = model.pixel_probabilities(z[start:stop])
        for i in range(start, stop):
            try:
                out[i] = coder.decode(family, probs[i - start])
            except Exception as e:  # constriction raises on an exhausted or invalid stream
                raise ValueError("corrupted or truncated file: "
                                 f"pixel stream error at image {i}: {e}") from None
    if not coder.is_empty():
        raise ValueError("corrupted or truncated file: the pixel stream does not end where the last "
                         "image does")
    images = out.reshape(n, 28, 28)
    if zlib.crc32(images.tobytes(), zlib.crc32(data[:-4])) != struct.unpack("<I", data[-4:])[0]:
        raise ValueError("checksum mismatch: the file is corrupted or truncated, or this machine computes "
                         "the model differently from the sender's")
    return images


def header_info(data):
    """The header of a compressed file as a dict (model hash as hex)."""
    h, _, _ = read_header(data)
    h["model"] = h["model"].hex()
    return h


# ---- files and the command line -----------------------------------------------------------------

def read_images(paths):
    """uint8 images (n, 28, 28) from one .npy file or one or more PNG files."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise ValueError("no input files")
    if len(paths) == 1 and paths[0].suffix.lower() == ".npy":
        return check_images(np.load(paths[0], allow_pickle=False))
    from PIL import Image

    out = []
    for p in paths:
        if p.suffix.lower() != ".png":
            raise ValueError(f"{p}: give one .npy file (n, 28, 28) uint8, or PNG files")
        with Image.open(p) as im:
            if im.mode not in ("L", "P", "RGB", "RGBA", "I;16", "I"):
                raise ValueError(f"{p}: unsupported PNG mode {im.mode}")
            if im.mode != "L":
                raise ValueError(f"{p}: expected an 8-bit grayscale PNG, got mode {im.mode}")
            out.append(np.asarray(im, dtype=np.uint8))
    return check_images(np.stack(out))


def write_images(images, out):
    """Write images as one .npy file, one .png (a single image), or PNGs into a directory."""
    out = Path(out)
    if out.suffix.lower() == ".npy":
        np.save(out, images)
        return [out]
    from PIL import Image

    if out.suffix.lower() == ".png":
        if len(images) != 1:
            raise ValueError(f"{len(images)} images do not fit one PNG file; give a .npy file or a directory")
        Image.fromarray(images[0], mode="L").save(out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, im in enumerate(images):
        p = out / f"image_{i:05d}.png"
        Image.fromarray(im, mode="L").save(p)
        paths.append(p)
    return paths


def cli_compress(a):
    x = read_images(a.images)
    opts = {"depth": a.depth} if a.depth is not None else {}
    if a.code:
        opts["code"] = a.code
    if a.refine:
        opts["refine"] = a.refine
        opts["progress"] = True
    if a.candidates != 1:
        opts["candidates"] = a.candidates
    data, st = compress_with_stats(x, a.model, a.method, a.seed, **opts)
    Path(a.output).write_bytes(data)
    print(f"{len(x)} images -> {a.output}: {len(data)} bytes, {st.total_bits / st.images:.1f} bits per image "
          f"({st.total_bits / (st.images * 784):.4f} bits per pixel; latent {st.latent_bits}, pixels "
          f"{st.pixel_bits}, header {st.header_bits} bits)")
    return 0


def cli_decompress(a):
    data = Path(a.file).read_bytes()
    images = decompress(data, a.model)
    paths = write_images(images, a.output)
    print(f"{a.file} -> {len(images)} images in {a.output if len(paths) != 1 else paths[0]}")
    return 0


def add_subcommands(sub):
    """Register ``compress`` and ``decompress`` on the ``rec-bench`` argument parser."""
    c = sub.add_parser("compress",
                       help="compress MNIST-sized images (.npy (n, 28, 28) uint8 or PNGs) with a VAE")
    c.add_argument("images", nargs="+", help="one .npy file or PNG files")
    c.add_argument("-o", "--output", required=True, help="output file")
    c.add_argument("--model", default="vae", help="vae, isokl or a weights .npz (default: vae)")
    c.add_argument("--method", default="ad*", choices=sorted(FILE_METHODS),
                   help="latent REC method (default ad*)")
    c.add_argument("--depth", type=int, help="DAD* depth D")
    c.add_argument("--code", choices=[*UNIVERSAL, "model"],
                   help="index code: elias-delta (default), elias-gamma (as*/ad*) or model "
                        "(the model's depth table)")
    c.add_argument("--seed", type=int, default=0, help="shared seed (default 0)")
    c.add_argument("--refine", type=int, nargs="?", const=20, default=0, metavar="STEPS",
                   help="refine each image's posterior by STEPS gradient steps on its -ELBO before coding "
                        "(default 20 when given; needs JAX); smaller files, same decoder")
    c.add_argument("--candidates", type=int, default=1, metavar="K",
                   help="code each latent with K seeds and keep the shortest file (log2 K bits to name it; "
                        "needs JAX; default 1)")
    c.set_defaults(fn=_guard(cli_compress))
    d = sub.add_parser("decompress", help="decompress a file written by rec-bench compress")
    d.add_argument("file")
    d.add_argument("-o", "--output", required=True,
                   help="output .npy, .png (one image) or directory for PNGs")
    d.add_argument("--model", default=None, help="model (default: the committed model the file names)")
    d.set_defaults(fn=_guard(cli_decompress))


def _guard(fn):
    def run(a):
        import sys

        try:
            return fn(a)
        except (ValueError, FileNotFoundError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    return run

