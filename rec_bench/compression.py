"""Lossless image compression with a VAE: the latent by relative entropy coding, the pixels by ANS.

``compress(images, model, method="ad*", seed=0, **options) -> bytes`` and
``decompress(data, model=None) -> uint8 images`` (n, 28, 28). Per image, the encoder gives the
posterior q(z|x) = prod_i N(mu_i, s_i^2); each coordinate of z is sent by relative entropy coding
against the prior N(0, 1) (AS*, AD* or DAD*, Flamich, Markou and Hernandez-Lobato 2022; or greedy
rejection coding, GRCS or GRCD, Flamich, Markou and Hernandez-Lobato 2023; or, in blocks of b
coordinates as one message, ORC or MRC with 2^K candidates a block, rec_bench.coding.blocks), and the
pixels are entropy coded with the decoder's p(x|z) at the decoded z. Everything in a file, the
header's fields, the latents' symbols and the pixels, goes through one ANS coder (constriction;
Bamler 2022), so a file pays for one coder's flush, and a single image costs about its -ELBO plus
the REC overhead and a few bytes (about 45 bits: the first byte, the fields, the check and the
coder's final bytes): no bits-back, no initial bits. ``method="bb-ans"`` is the
bits-back baseline on the same models (rec_bench.bitsback).

The sender may also search (``rec_bench.vae.sender``; needs JAX): ``refine=STEPS`` refines each
image's posterior by gradient steps on its -ELBO before coding (the receiver never sees q, so the
format and the decoder are unchanged), and ``candidates=K`` codes each latent with K seeds and keeps
the one with the shortest latent code plus pixel cost, naming it in log2 K bits.

File format, version 3. One byte, then the 32-bit words of one constriction ANS stack,
little-endian, without the zero high bytes of the top word (so a file never ends in a zero byte):

    first byte  0xB0 | kind << 2 | model: kind 0 = REC latents, 1 = bits-back, 2 = stored;
                model 0 = the committed 'vae', 1 = the committed 'isokl', 2 = another model (pass
                model=; it is named by the check below); 3 and kind 3 are reserved
    bits-back only: a varint c, the number of initial words the file holds (see below)
    the stack, popped in this order:
    fields      the header as universal codes (g = Elias gamma, d = Elias delta) of small integers;
                REC: the latent method g(id) (``FILE_METHODS``: 1 = ad*, 2 = dad*, 3 = as*, 4 = grcs,
                5 = grcd, 6 = orc, 7 = mrc), its index code g(1 + place in the method's list:
                ad*/as*/grc* model, elias-delta, elias-gamma; dad* model, fixed; orc/mrc fixed), its
                options (dad*: the depth D as g(1 + zigzag(D - D0)), D0 the IsoKL model's KL per
                coordinate in bits, rounded; orc/mrc: the block b as g(1 + zigzag(b - 4)), then K as
                g(1 + zigzag(K - K0)), K0 the KL of 4 IsoKL coordinates in bits, rounded, + 1 = 15), the
                seed d(seed + 1),
                the candidates K (a power of two 2^e as g(2e + 1), else g(2 bitlen(K)) and K's bits
                below its top one), the count d(n); bits-back: the precision p as g(1 + zigzag(p - 8)),
                the seed d(seed + 1), the count d(n); stored: the count d(n)
    flags       REC: one per image, 1 = stored raw (probability 2^-12), 0 = modelled
    candidates  REC with K > 1: each modelled image's candidate, uniform over 0..K-1
    latents     REC: the modelled images' latents, image i with seed s_i = message_seed(seed, i) for
                candidate 0 and message_seed(s_i, k) for candidate k >= 1 (its coordinate j with
                coordinate_seed(that seed, j)): with code = model each image's depth symbols (the
                model's committed depth table), escapes and path bits (the model-coded layout of
                rec_bench.coding.vector); with DAD*'s fixed code the m d (D + 1) bits of the stream
                of the m modelled images; with a universal code d(its length + 1), then its bits;
                orc/mrc: each image's ceil(d / b) blocks (consecutive coordinates, the last shorter),
                block k of image i with seed coordinate_seed(s_i, k), its index - 1 in K raw bits
    pixels      image by image: p(x|z) at the decoded z (24-bit tables), or a stored image's 784
                uniform bytes; bits-back: image by image, the latent by the prior, the pixels, and
                the latent pushed back with the posterior (rec_bench.bitsback)
    check       REC and stored: 24 bits, the first 3 bytes of SHA-256("rec_bench image file v3",
                the first byte, the model's weights hash) with the top bit set; pushed first onto
                the empty stack, so the decoder must end with exactly it and an empty stack.
                Bits-back: the stack's bottom is W = 4 + n ceil(24 d / 32) initial words from the
                seed and the model's hash; the file holds its words from W - c on, and the decoder
                must end with exactly the initial words.

The check makes a damaged or truncated file, or a file decoded with another model, a ValueError
but with probability about 2^-23 (an ANS decoder fed wrong data ends anywhere but at the check),
for 24 bits a file; the coder's end state alone is a weak check (an ANS stack holds leading zeros
for free, and a decoder that runs dry keeps decoding). The decoder also checks every field's
range, the image count against the bits left (every image costs at least its latent's cheapest
code, a stored one its raw bits) before anything is allocated, and that the stack never runs
below the check before the end. An image that the model would code larger than its 6,272 raw bits
is stored (its latent is not sent), so no file grows past 8 bits a pixel plus a few bytes.

Versions 1 and 2 (first bytes "RB", then the version) still decode (:func:`decompress`).

The depth tables of ``code="model"`` (``<model>.index.json`` beside the weights, built by
``python -m rec_bench.vae.index_tables`` from training images) carry the weights' hash and are
used only with that model. Decoding recomputes the pixel probabilities with the model's fixed-order
kernels (``rec_bench.vae``), so sender and receiver agree bit for bit; the check tells when not.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .coding import BudgetExceeded, StreamDecoder, StreamEncoder, message_seed
from .coding.codes import ELIAS_DELTA, ELIAS_GAMMA, UNIVERSAL, get_universal, put_universal
from .coding.seeds import message_seeds
from .coding.sinks import AnsSink, AnsSource, ByteReader, varint
from .methods import method_spec
from .pairs import Normal
from .vae.index_tables import index_model

MAGIC = 0xB0  # high nibble of a version-3 file's first byte (versions 1 and 2 begin with "RB")
LEGACY_MAGIC = b"RB"  # versions 1 and 2
VERSION = 3
KINDS = {"rec": 0, "bits-back": 1, "stored": 2}  # bits 3-2 of the first byte (3: reserved)
MODEL_IDS = {"vae": 0, "isokl": 1}  # bits 1-0 of the first byte: a committed model
OTHER_MODEL = 2  # another model, named only by the check (pass model=); 3: reserved
MAX_CANDIDATES = 4096
HASH_BYTES = 4
RAW_BITS = 8 * 784  # one stored image
CHECK_BITS = 24
WORD = 32  # bits in one of the ANS coder's words
STORED_WEIGHT = 2.0**-12  # the flag's probability that an image is stored
CHUNK = 32  # images per batch of pixel tables (32 x 784 x 256 float64 = 51 MB)
_STD = Normal(0.0, 1.0)
_CHECK_TAG = b"rec_bench image file v3"


def _reference_depth(model):
    """The DAD* depth the file codes in one bit: the IsoKL model's KL per coordinate in bits, rounded."""
    return max(1, round(model.kappa / np.log(2))) if model.kappa else 3


BLOCK_REFERENCE = 4  # the block size the file codes in one bit


def _reference_bits(model):
    """The K of ORC/MRC in blocks that the file codes in one bit: the KL of a block of
    ``BLOCK_REFERENCE`` IsoKL coordinates in bits, rounded, plus one (15 for the committed IsoKL
    model); 15 for a model without one KL per coordinate."""
    return round(BLOCK_REFERENCE * model.kappa / np.log(2)) + 1 if model.kappa else 15


@dataclass(frozen=True)
class FileMethod:
    """A latent method as the file names it. ``id`` is sent as Elias gamma (1 bit for id 1, 3 bits for
    2 and 3, 5 bits for 4 to 7); ``options`` are the method's integer options in the order the file
    sends them, each as Elias gamma of 1 + the zigzag of its difference from the option's reference
    (``references``: name -> function of the model; 0 if none given); ``codes`` the index codes it
    takes, the file's code id being 1 + its place in that list (1 bit for the first). A new method
    takes the next free id and lists its options and codes."""

    id: int
    name: str
    options: tuple = ()
    codes: tuple = ()
    references: dict = field(default_factory=dict)


_REC_CODES = ("model", "elias-delta", "elias-gamma")
FILE_METHODS = {m.name: m for m in (
    FileMethod(1, "ad*", (), _REC_CODES),
    FileMethod(2, "dad*", ("depth",), ("model", "fixed"), {"depth": _reference_depth}),
    FileMethod(3, "as*", (), _REC_CODES),
    FileMethod(4, "grcs", (), _REC_CODES),
    FileMethod(5, "grcd", (), _REC_CODES),
    # blocks of coordinates as one message (rec_bench.coding.blocks): K-bit indices, sent as raw bits
    FileMethod(6, "orc", ("block", "bits"), ("fixed",),
               {"block": lambda m: BLOCK_REFERENCE, "bits": _reference_bits}),
    FileMethod(7, "mrc", ("block", "bits"), ("fixed",),
               {"block": lambda m: BLOCK_REFERENCE, "bits": _reference_bits}),
)}
BLOCK_FILE_METHODS = ("orc", "mrc")  # their option value is (block, bits)
MAX_BLOCK_BITS = 40  # K at most (ORC's and MRC's bits option)
_BY_ID = {m.id: m for m in FILE_METHODS.values()}
REC_METHODS = tuple(FILE_METHODS)  # the methods whose latent is relative entropy coded
BB_PRECISION = 8  # bits-back's default latent precision (sent in one bit)
V2_METHODS = {"as*": 1, "ad*": 2, "dad*": 3}
V2_CODE_IDS = {"elias-gamma": 0, "elias-delta": 1, "fixed": 2, "model": 3}


# ---- models ---------------------------------------------------------------------------------

_MODELS = {}  # loaded models by (resolved path, size, mtime): a process loads and hashes each once


def _load(name_or_path):
    from .vae import load_model
    from .vae.model import WEIGHTS_DIR

    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        p = WEIGHTS_DIR / f"{name_or_path}.npz"
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        return load_model(name_or_path)  # its own error for a missing file
    if key not in _MODELS:
        if len(_MODELS) >= 8:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = load_model(p)
    return _MODELS[key]


def _model(model):
    from .vae import Model

    if isinstance(model, Model):
        return model
    if isinstance(model, (str, Path)):
        return _load(model)
    raise ValueError(f"model must be a rec_bench.vae.Model, a model name ('vae', 'isokl') or a weights path, "
                     f"got {model!r}")


def _committed(name):
    try:
        return _load(name)
    except FileNotFoundError:
        return None


def _model_id(model):
    """The file's model id of ``model``: its committed name's, if it is that committed model."""
    c = _committed(model.kind) if model.kind in MODEL_IDS else None
    return MODEL_IDS[model.kind] if c is not None and c.hash == model.hash else OTHER_MODEL


def _model_for_id(mid, model):
    names = {v: k for k, v in MODEL_IDS.items()}
    if mid not in names and mid != OTHER_MODEL:
        raise ValueError(f"corrupted file: unknown model id {mid}")
    if model is None:
        if mid == OTHER_MODEL:
            raise ValueError("the file was written with a model that is not one of the committed ones; "
                             "pass model=")
        m = _committed(names[mid])
        if m is None:
            raise ValueError(f"the file was written with the committed model {names[mid]!r}, which is not "
                             "installed")
        return m
    model = _model(model)
    if mid != OTHER_MODEL:
        c = _committed(names[mid])
        if c is None or c.hash != model.hash:
            raise ValueError(f"wrong model: the file was written with the committed model {names[mid]!r}, "
                             f"not {model.hash[:2 * HASH_BYTES]} ({model.kind})")
    return model


def _model_for_hash(prefix):
    from .vae import KINDS

    for name in KINDS:
        m = _committed(name)
        if m is not None and bytes.fromhex(m.hash)[:HASH_BYTES] == prefix:
            return m
    raise ValueError(f"the file was written with model {prefix.hex()}, which is none of the committed "
                     "models; pass model=")


def _check_value(first, model):
    """The 24-bit check of a file whose first byte is ``first``, written with ``model``; its top bit
    is set so that the stack's bottom symbol is never zero (an ANS coder holds leading zeros for free)."""
    h = hashlib.sha256(_CHECK_TAG + bytes([first]) + bytes.fromhex(model.hash)).digest()
    return int.from_bytes(h[:3], "big") | (1 << (CHECK_BITS - 1))


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
    if isinstance(method, str) and method.lower() in ("bb-ans", "bits-back"):
        unknown = set(options) - {"precision", "progress"}
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} for bb-ans; its options are precision "
                             "(bits per latent coordinate, default 8) and progress")
        from .bitsback import check_precision

        return "bb-ans", None, check_precision(options.get("precision", 8))
    m = method_spec(method)
    if m.name not in REC_METHODS:
        raise ValueError(f"method {method!r} is not available for images; "
                         f"choose one of {sorted(REC_METHODS) + ['bb-ans']}")
    unknown = set(options) - {"depth", "block", "bits", "code", "max_steps", "refine", "candidates",
                              "progress"}
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; options are depth (dad*), block and bits "
                         "(orc, mrc), code, max_steps, refine, candidates, progress")
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
    if m.name in BLOCK_FILE_METHODS:  # blocks of coordinates, each one ORC/MRC message of K bits
        block, bits = options.get("block"), options.get("bits")
        if depth is not None:
            raise ValueError(f"{m.name} takes block and bits, not depth")
        if block is None or isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 2:
            raise ValueError(f"{m.name} in the image codec codes blocks: it needs block=b, an integer >= 2 "
                             f"(coordinates per message), got {block!r}")
        if bits is None or isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) \
                or not 1 <= bits <= MAX_BLOCK_BITS:
            raise ValueError(f"{m.name} needs bits=K, an integer in [1, {MAX_BLOCK_BITS}] (2^K candidates a "
                             f"block), got {bits!r}")
        if code not in (None, "fixed"):
            raise ValueError(f"{m.name} writes each block's index in K bits (code='fixed')")
        return m.name, "fixed", (int(block), int(bits))
    if options.get("block") is not None or options.get("bits") is not None:
        raise ValueError(f"{m.name} takes no block or bits option; blocks are for "
                         f"{' and '.join(BLOCK_FILE_METHODS)}")
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


def _option_values(method, depth):
    """The values of a method's options (``FileMethod.options``) from the codec's option value."""
    if method == "dad*":
        return [depth]
    return list(depth) if method in BLOCK_FILE_METHODS else []


def _stream_options(model, method, code, depth):
    kw = {}
    if method in BLOCK_FILE_METHODS:
        return {"block": depth[0], "bits": depth[1]}
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


# ---- latents through the file's ANS coder -------------------------------------------------------

def _latent_bits_min(model, method, code, depth):
    """Bits every modelled image's latent takes at least: d times the cheapest coordinate (a fixed
    code's D + 1 bits, a universal code's 1 bit, a model-coded depth symbol's least cost); bounds how
    many latents a file of given size can hold, before anything is allocated."""
    d = model.latent
    if method in BLOCK_FILE_METHODS:  # ceil(d / b) blocks of K bits
        return -(-d // depth[0]) * depth[1]
    if code == "fixed":
        return d * (depth + 1)
    if code != "model":
        return d
    table = _index_model(model, method, depth if method == "dad*" else None)
    pmax = float(table.probabilities.max())
    return 0.99 * d * max(0.0, -np.log2(min(1.0, pmax + table.probabilities.size * 2.0**-24)))


def _put_latents(sink, model, mu, s, method, code, depth, seed, max_steps, seeds):
    """Send z ~ prod N(mu, s^2) (rows: images) against N(0, 1) into ``sink`` (an AnsSink); returns
    (z as the receiver decodes it, latent bits per image)."""
    from .coding.setup import setup, step_budget
    from .coding.vector import encode_into
    from .pairs import resolve

    if len(mu) == 0:
        return np.zeros((0, model.latent)), np.zeros(0)
    if method in BLOCK_FILE_METHODS:  # the blocks' K-bit indices, as raw bits
        from .coding.blocks import encode_blocks

        c = encode_blocks(sink, Normal(mu, s), _STD, method, np.asarray(seeds, np.uint64), block=depth[0],
                          bits=depth[1], max_steps=max_steps)
        return (np.asarray(c.sample, np.float64).reshape(len(mu), model.latent),
                np.asarray(c.code_bits).sum(axis=1))
    if code == "model":
        pair = resolve(Normal(mu, s), _STD)
        st = setup(method, None, depth if method == "dad*" else None, None, pair.shape,
                   _index_model(model, method, depth))
        f = encode_into(sink, pair, st, np.asarray(seeds, np.uint64), step_budget(max_steps))
        return np.asarray(f["sample"], np.float64), np.asarray(f["code_bits"]).sum(axis=1)
    enc = StreamEncoder(method, seed, max_steps=max_steps, **_stream_options(model, method, code, depth))
    c = enc.encode_many(Normal(mu, s), _STD, seeds=seeds)
    nbits = enc.num_bits()
    if code != "fixed":  # a universal code's stream is as long as it is: its length goes first
        put_universal(sink, nbits + 1, ELIAS_DELTA)
    sink.put_bits(np.frombuffer(enc.get_compressed(), np.uint8), nbits)
    return np.asarray(c.sample, dtype=np.float64), np.asarray(c.code_bits).sum(axis=1)


def _get_latents(src, model, method, code, depth, seed, seeds):
    """The decoded z (m, d) of the m = len(seeds) modelled images."""
    from .coding.setup import setup
    from .coding.vector import decode_from

    m, d = len(seeds), model.latent
    if m == 0:
        return np.zeros((0, d))
    if method in BLOCK_FILE_METHODS:
        from .coding.blocks import decode_blocks

        return np.asarray(decode_blocks(src, _STD, m, method, np.asarray(seeds, np.uint64), shape=(d,),
                                        block=depth[0], bits=depth[1]), np.float64).reshape(m, d)
    if code == "model":
        st = setup(method, None, depth if method == "dad*" else None, None, (m, d),
                   _index_model(model, method, depth))
        return np.asarray(decode_from(src, _STD, st, np.asarray(seeds, np.uint64), (m, d), d),
                          np.float64).reshape(m, d)
    if code == "fixed":
        nbits = m * d * (depth + 1)
    else:
        nbits = get_universal(src, ELIAS_DELTA, src.capacity) - 1
    if nbits > src.capacity:
        raise ValueError(f"a latent stream of {nbits} bits cannot fit")
    packed = src.get_bits(nbits)[: (nbits + 7) // 8]
    return _decode_latents(packed.tobytes(), m, d, model, method, code, depth, seed, seeds)


# ---- container ---------------------------------------------------------------------------------

@dataclass
class Stats:
    """What a file's bits went to (from :func:`compress_with_stats`); the parts add up to total_bits.

    In a version-3 file every part but the container byte is a share of one ANS coder's data,
    measured by the coder's own bit count as each part is pushed; ``flush_bits`` is what the coder's
    words hold beyond that (the rounding of its final state to whole bytes)."""

    images: int
    total_bits: int
    header_bits: float  # the container byte, the fields, each image's flag and the check
    latent_bits: float  # the latents (REC: the coordinate codes and the candidates' names;
    #                     bits-back: the prior's pushes less the posterior's pops, net)
    pixel_bits: float  # the pixels (and stored images' raw bytes)
    latent_bits_per_image: np.ndarray = field(repr=False)
    pixel_bits_per_image: np.ndarray = field(repr=False)
    seconds: dict = field(default_factory=dict)  # encoder (with any refinement), latents, pixels, total
    posterior: tuple = field(default=None, repr=False)  # (mu, s) the latents were sent from
    choice_bits: float = 0.0  # of latent_bits: naming each image's candidate (candidates > 1)
    choice: np.ndarray = field(default=None, repr=False)  # each image's candidate (None: all 0)
    flush_bits: float = 0.0  # the coder's final state rounded up to whole bytes
    check_bits: float = 0.0  # of header_bits: the integrity check
    initial_bits: float = 0.0  # bits-back: the initial bits the first pops took, which the file holds
    stored: np.ndarray = field(default=None, repr=False)  # which images were stored raw
    parts: dict = field(default_factory=dict)  # every part in bits: magic, fields, flags, check, ...


def compress(images, model, method="ad*", seed=0, **options):
    """Compress uint8 images (n, 28, 28) losslessly; returns the file's bytes (format above).

    ``model``: a :class:`rec_bench.vae.Model`, 'vae', 'isokl' or a weights path (loaded once per
    process). ``method``: 'as*', 'ad*' or 'dad*' (with ``depth=D``), or 'bb-ans' (bits-back ANS,
    rec_bench.bitsback, with ``precision``: bits per latent coordinate, default 8); ``code``:
    'elias-delta' (default) or 'elias-gamma' for AS*/AD*, or 'model' (the index entropy coded with
    the model's committed depth table); ``max_steps``: the REC search budget per coordinate;
    ``refine``: the sender refines each image's posterior by that many gradient steps on its -ELBO
    before coding (``rec_bench.vae.sender``; needs JAX; 0 = the encoder's posterior, the default);
    ``candidates``: the sender codes each latent with that many seeds and keeps the shortest (needs
    JAX; default 1); ``progress``: a bar while refining. The receiver is the same either way.
    """
    return compress_with_stats(images, model, method, seed, **options)[0]


def _zigzag(v):
    return 2 * v if v >= 0 else -2 * v - 1


def _unzigzag(u):
    return u // 2 if u % 2 == 0 else -(u + 1) // 2


def _put_candidates(sink, k):
    """K in Elias gamma of v = 2 b - 1 for a power of two 2^(b-1) (K = 1: one bit), else of v = 2 b and
    then K's b - 1 bits below its top bit (b = K's bit length)."""
    b = int(k).bit_length()
    if k & (k - 1) == 0:
        put_universal(sink, 2 * b - 1, ELIAS_GAMMA)
    else:
        put_universal(sink, 2 * b, ELIAS_GAMMA)
        sink.put_flags([(int(k) >> bit) & 1 for bit in range(b - 2, -1, -1)])


def _get_candidates(src):
    v = get_universal(src, ELIAS_GAMMA, 2 * MAX_CANDIDATES.bit_length())
    b = (v + 1) // 2
    if v % 2:
        return 1 << (b - 1)
    k = 1 << (b - 1)
    for bit in range(b - 2, -1, -1):
        k |= src.get_flag() << bit
    return k


def _fields(sink, kind, model, fm=None, code=None, options=(), seed=0, k=1, n=1):
    """The header fields of a version-3 file (module docstring), into ``sink``."""
    if kind == "rec":
        put_universal(sink, fm.id, ELIAS_GAMMA)
        put_universal(sink, fm.codes.index(code) + 1, ELIAS_GAMMA)
        for name, v in zip(fm.options, options):
            ref = fm.references.get(name, lambda m: 0)(model)
            put_universal(sink, _zigzag(int(v) - ref) + 1, ELIAS_GAMMA)
    elif kind == "bits-back":
        put_universal(sink, _zigzag(int(options[0]) - BB_PRECISION) + 1, ELIAS_GAMMA)
    if kind != "stored":
        put_universal(sink, int(seed) + 1, ELIAS_DELTA)
    if kind == "rec":
        _put_candidates(sink, k)
    put_universal(sink, int(n), ELIAS_DELTA)


def _pop_fields(src, kind, model):
    """The fields at the top of a version-3 file's stack: a dict."""
    h = {"version": VERSION, "kind": kind, "method": {"bits-back": "bb-ans", "stored": "stored"}.get(kind),
         "code": None, "seed": 0, "candidates": 1}
    if kind == "rec":
        fid = get_universal(src, ELIAS_GAMMA, 16)
        fm = _BY_ID.get(fid)
        if fm is None:
            raise ValueError(f"corrupted file: unknown latent method id {fid}")
        h["method"] = fm.name
        cid = get_universal(src, ELIAS_GAMMA, 8)
        if not 1 <= cid <= len(fm.codes):
            raise ValueError(f"corrupted file: code id {cid} is not one of {fm.name}'s")
        h["code"] = fm.codes[cid - 1]
        for name in fm.options:
            ref = fm.references.get(name, lambda m: 0)(model)
            h[name] = ref + _unzigzag(get_universal(src, ELIAS_GAMMA, 16) - 1)
        if fm.name == "dad*" and not 0 <= h["depth"] <= 62:
            raise ValueError(f"corrupted file: dad* depth {h['depth']}")
        if fm.name in BLOCK_FILE_METHODS and not (2 <= h["block"] <= model.latent
                                                  and 1 <= h["bits"] <= MAX_BLOCK_BITS):
            raise ValueError(f"corrupted file: {fm.name} in blocks of {h['block']} with {h['bits']} bits")
    elif kind == "bits-back":
        from .bitsback import check_precision

        h["precision"] = BB_PRECISION + _unzigzag(get_universal(src, ELIAS_GAMMA, 16) - 1)
        try:
            check_precision(h["precision"])
        except ValueError:
            raise ValueError(f"corrupted file: bits-back precision {h['precision']}") from None
    if kind != "stored":
        h["seed"] = get_universal(src, ELIAS_DELTA, 65) - 1
        if h["seed"] >= 2**64:
            raise ValueError("corrupted file: the seed is out of range")
    if kind == "rec":
        h["candidates"] = _get_candidates(src)
        if not 1 <= h["candidates"] <= MAX_CANDIDATES:
            raise ValueError(f"corrupted file: {h['candidates']} candidates")
    h["count"] = get_universal(src, ELIAS_DELTA, 48)
    return h


def _first_byte(kind, model):
    return MAGIC | KINDS[kind] << 2 | _model_id(model)


def _words_bytes(words):
    """The coder's words as the file holds them: little-endian, the top word's zero high bytes left out."""
    data = np.asarray(words, dtype="<u4").tobytes()
    return data.rstrip(b"\0")


def _ans_models():
    import constriction

    m = constriction.stream.model
    return m.Categorical(perfect=False), m.Uniform(256), m.Uniform(1 << CHECK_BITS)


_FLAG = []


def _flag_model():
    """The images' flags: 1 = stored raw, with probability 2^-12 (12 bits), 0 = modelled (about 0.0004
    bits): constriction's categorical, the same on both sides."""
    if not _FLAG:
        import constriction

        _FLAG.append(constriction.stream.model.Categorical(np.array([1.0 - STORED_WEIGHT, STORED_WEIGHT]),
                                                           perfect=False))
    return _FLAG[0]


def _start(first, model):
    """A new ANS coder with the check of a file at its bottom (the decoder pops it last)."""
    import constriction

    coder = constriction.stream.stack.AnsCoder()
    coder.encode_reverse(np.array([_check_value(first, model)], np.int32), _ans_models()[2])
    return coder


def compress_with_stats(images, model, method="ad*", seed=0, **options):
    """:func:`compress`, also returning a :class:`Stats` of where the bits went."""
    model = _model(model)
    x = check_images(images)
    if isinstance(seed, bool) or int(seed) != seed or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    seed = int(seed)
    method, code, depth = _options(method, options)
    if method == "bb-ans":
        data, st = _compress_bb(x, model, depth, seed)
    else:
        data, st = _compress_rec(x, model, method, code, depth, seed, options)
    if len(data) > 784 * len(x):  # the whole file stored raw is smaller (no per-image flags)
        raw = _stored_bytes(x, model)
        if len(raw) < len(data):
            return raw, _stored_stats(x, raw, st.seconds)
    return data, st


def _compress_rec(x, model, method, code, depth, seed, options):
    import constriction

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
    max_steps = options.get("max_steps")
    try:
        choice = _select(model, x, mu, s, method, code, depth, seed, max_steps, k) if k > 1 else None
        t_select = time.perf_counter()
        seeds = candidate_seeds(seed, n, choice)
        lat = AnsSink()
        z, latent_info = _put_latents(lat, model, mu, s, method, code, depth, seed, max_steps, seeds)
    except BudgetExceeded as e:
        raise ValueError(f"a latent coordinate exceeded the search budget: {e}") from None
    t2 = time.perf_counter()

    family, byte, _ = _ans_models()
    first = _first_byte("rec", model)
    coder = _start(first, model)
    vb = coder.num_valid_bits()
    parts = {"first byte": 8, "check": vb}
    symbols = x.reshape(n, -1).astype(np.int32)
    choice_bits = np.log2(k) if k > 1 else 0.0
    stored = np.zeros(n, bool)
    pixel_per_image = np.zeros(n)
    # ANS is a stack: push the images last to first so that the decoder pops them first to last
    for start in reversed(range(0, n, CHUNK)):
        stop = min(start + CHUNK, n)
        probs = model.pixel_probabilities(z[start:stop])
        for i in reversed(range(start, stop)):
            p = probs[i - start]
            ideal = -np.log2(np.maximum(p[np.arange(p.shape[0]), symbols[i]], 2.0**-24)).sum()
            if latent_info[i] + ideal + choice_bits > RAW_BITS + 12:  # cheaper stored raw
                stored[i] = True
                coder.encode_reverse(symbols[i], byte)
            else:
                coder.encode_reverse(symbols[i], family, p)
            after = coder.num_valid_bits()
            pixel_per_image[i] = after - vb
            vb = after
    if stored.any():  # their latents are not sent: code the others' again (the same seeds, the same z)
        keep = ~stored
        lat = AnsSink()
        _, kept = _put_latents(lat, model, mu[keep], s[keep], method, code, depth, seed, max_steps,
                               seeds[keep])
        latent_info = np.zeros(n)
        latent_info[keep] = kept
    lat.push_onto(coder)
    after = coder.num_valid_bits()
    parts["latents"] = after - vb
    vb = after
    if k > 1 and (~stored).any():  # the decoder pops every modelled image's candidate before the latents
        coder.encode_reverse(choice[~stored].astype(np.int32), constriction.stream.model.Uniform(k))
    after = coder.num_valid_bits()
    parts["candidates"] = after - vb
    vb = after
    coder.encode_reverse(stored.astype(np.int32), _flag_model())
    after = coder.num_valid_bits()
    parts["flags"] = after - vb
    vb = after
    head = AnsSink()
    _fields(head, "rec", model, FILE_METHODS[method], code, _option_values(method, depth), seed, k, n)
    head.push_onto(coder)
    after = coder.num_valid_bits()
    parts["fields"] = after - vb
    vb = after
    out = bytes([first]) + _words_bytes(coder.get_compressed())
    t3 = time.perf_counter()
    parts["pixels"] = float(pixel_per_image.sum())
    parts["flush"] = 8 * len(out) - 8 - vb
    header = parts["first byte"] + parts["fields"] + parts["flags"] + parts["check"]
    stats = Stats(n, 8 * len(out), header, parts["latents"] + parts["candidates"], parts["pixels"],
                  latent_info, pixel_per_image,
                  {"encoder": t1 - t0, "select": t_select - t1, "latents": t2 - t_select, "pixels": t3 - t2,
                   "total": time.perf_counter() - t0},
                  (mu, s), parts["candidates"], choice, flush_bits=parts["flush"], check_bits=parts["check"],
                  stored=stored, parts=parts)
    return out, stats


def _stored_bytes(x, model):
    """A file of the images stored raw (the fields, n x 784 uniform bytes, the check)."""
    first = _first_byte("stored", model)
    coder = _start(first, model)
    coder.encode_reverse(x.reshape(-1).astype(np.int32), _ans_models()[1])
    head = AnsSink()
    _fields(head, "stored", model, n=len(x))
    head.push_onto(coder)
    return bytes([first]) + _words_bytes(coder.get_compressed())


def _stored_stats(x, data, seconds):
    n = len(x)
    pixels = float(RAW_BITS * n)
    return Stats(n, 8 * len(data), 8 * len(data) - pixels, 0.0, pixels, np.zeros(n), np.full(n, RAW_BITS),
                 seconds, stored=np.ones(n, bool), parts={"stored": pixels})


def _compress_bb(x, model, precision, seed):
    import constriction

    from . import bitsback as B

    n, d = len(x), model.latent
    t0 = time.perf_counter()
    total = B.initial_count(n, d)
    init = B.initial_words(B.initial_key(seed, model), total)
    coder = constriction.stream.stack.AnsCoder(init)
    vb0 = coder.num_valid_bits()
    popped, pixels, priors = B.push_images(coder, x, model, precision)
    vb1 = coder.num_valid_bits()
    head = AnsSink()
    _fields(head, "bits-back", model, options=[precision], seed=seed, n=n)
    head.push_onto(coder)
    vb2 = coder.num_valid_bits()
    words = coder.get_compressed()
    same = min(len(words), total)
    diff = np.flatnonzero(words[:same] != init[:same])
    keep = int(diff[0]) if diff.size else same
    keep = min(keep, total - 2)  # the initial words' top word (made odd) is always in the file
    c = total - keep
    out = bytes([_first_byte("bits-back", model)]) + varint(c) + _words_bytes(words[keep:])
    t1 = time.perf_counter()
    # the file's words hold vb2 - 32 keep valid bits: the c initial words as they were (``initial``),
    # less the posterior's pops, plus the pixels, the prior's pushes and the fields
    initial = vb0 - WORD * keep
    parts = {"first byte": 8, "initial word count": 8 * len(varint(c)), "fields": vb2 - vb1,
             "initial": initial, "posterior pops": -float(popped.sum()), "prior": float(priors.sum()),
             "pixels": float(pixels.sum())}
    parts["flush"] = 8 * len(out) - parts["first byte"] - parts["initial word count"] - (vb2 - WORD * keep)
    latent = parts["prior"] + parts["posterior pops"]
    st = Stats(n, 8 * len(out), parts["first byte"] + parts["initial word count"] + parts["fields"], latent,
               parts["pixels"], priors - popped, pixels, {"total": t1 - t0}, flush_bits=parts["flush"],
               initial_bits=initial, parts=parts)
    return out, st


def read_header(data, model=None):
    """The header of a file: a dict of its fields (any version). The fields of a version-3 file of
    another model than the committed ones need that ``model``."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"compressed data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if data[: len(LEGACY_MAGIC)] == LEGACY_MAGIC:
        h, _, _ = _read_header_v2(data)
        return h
    h, _, _ = _open3(data, model)
    return h


def _source(payload):
    if not payload:
        raise ValueError("truncated file: no coded data")
    if payload[-1] == 0:
        raise ValueError("corrupted file: it ends in a zero byte, which no encoder writes")
    padded = payload + b"\0" * (-len(payload) % 4)
    words = np.frombuffer(padded, dtype="<u4").astype(np.uint32)
    return AnsSource(words, capacity=WORD * len(words))


def _open3(data, model):
    """(fields, source positioned after them, model) of a version-3 file."""
    if not data:
        raise ValueError("empty file: not a rec_bench image file")
    first = data[0]
    kind = {v: k for k, v in KINDS.items()}.get((first >> 2) & 3)
    if first & 0xF0 != MAGIC or kind is None:
        raise ValueError("not a rec_bench image file (bad magic)")
    model = _model_for_id(first & 3, model)
    if kind == "bits-back":
        r = ByteReader(data[1:], "file")
        c = r.varint("initial word count", 2**40)
        src = _source(r.rest())
    else:
        src = _source(data[1:])
    try:
        h = _pop_fields(src, kind, model)
    except ValueError as e:
        raise ValueError(f"corrupted or truncated file: its header does not decode ({e})") from None
    h["model"] = model.kind if first & 3 != OTHER_MODEL else "other"
    h["model_hash"] = model.hash[: 2 * HASH_BYTES]
    if kind == "bits-back":
        h["initial_words_held"] = c
    return h, src, model


def decompress(data, model=None):
    """The uint8 images (n, 28, 28) of a file written by :func:`compress` (any version).

    ``model`` defaults to the committed model the file names. ValueError for a corrupted,
    truncated or foreign file, and for a model other than the one that wrote it.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"compressed data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if data[: len(LEGACY_MAGIC)] == LEGACY_MAGIC:
        return _decompress_v2(data, model)
    h, src, model = _open3(data, model)
    try:
        if h["kind"] == "bits-back":
            return _decompress_bb(data, h, model)
        return _decompress_rec(data[0], h, src, model)
    except ValueError as e:
        msg = str(e)
        if not msg.startswith(("corrupted", "truncated", "checksum")):
            msg = f"corrupted or truncated file: {msg}"
        raise ValueError(msg) from None


def _decompress_rec(first, h, src, model):
    family, byte, check_model = _ans_models()
    coder = src.coder
    n = h["count"]
    method, code, depth = h["method"], h["code"], h.get("depth", 0)
    if method in BLOCK_FILE_METHODS:
        depth = (h["block"], h["bits"])
    # every image costs at least its latent's least (stored: its raw bits): checked before allocating
    least = RAW_BITS if method == "stored" else min(RAW_BITS, _latent_bits_min(model, method, code, depth))
    if n * least + CHECK_BITS > coder.num_valid_bits() + 1:
        raise ValueError(f"corrupted or truncated file: {n} images cannot fit in {coder.num_valid_bits()} "
                         "bits")
    if method == "stored":
        stored = np.ones(n, bool)
    else:
        stored = src.get_symbols(n, _flag_model()).astype(bool)
    m = int(n - stored.sum())
    if m:
        need = CHECK_BITS + RAW_BITS * (n - m) + m * _latent_bits_min(model, method, code, depth)
        if need > coder.num_valid_bits() + 1:
            raise ValueError(f"corrupted or truncated file: {n} images ({n - m} stored) cannot fit in "
                             f"{coder.num_valid_bits()} bits")
    choice = np.zeros(n, np.int64)
    if h["candidates"] > 1 and m:
        import constriction

        choice[~stored] = src.get_symbols(m, constriction.stream.model.Uniform(h["candidates"]))
    seeds = candidate_seeds(h["seed"], n, choice)[~stored]
    z = _get_latents(src, model, method, code, depth, h["seed"], seeds) if m else np.zeros((0, model.latent))
    out, j = [], 0
    probs, at = None, 0
    for i in range(n):
        try:
            if stored[i]:
                xi = coder.decode(byte, 784)
            else:
                if probs is None or j - at >= len(probs):
                    at = j
                    probs = model.pixel_probabilities(z[at : at + CHUNK])
                xi = coder.decode(family, probs[j - at])
                j += 1
        except Exception as e:  # constriction raises on data no encoder wrote
            raise ValueError(f"corrupted or truncated file: pixel stream error at image {i}: {e}") from None
        if coder.num_valid_bits() < CHECK_BITS - 1:
            raise ValueError(f"corrupted or truncated file: the data runs out at image {i}")
        out.append(np.asarray(xi, np.uint8))
    try:
        got = int(coder.decode(check_model, 1)[0])
    except Exception:
        got = None
    if got != _check_value(first, model) or not coder.is_empty():
        raise ValueError("checksum mismatch: the file is corrupted or truncated, or was written with another "
                         "model, or this machine computes the model differently from the sender's")
    return np.stack(out).reshape(n, 28, 28) if out else np.zeros((0, 28, 28), np.uint8)


def _decompress_bb(data, h, model):
    from . import bitsback as B

    n, d = h["count"], model.latent
    c = h["initial_words_held"]
    r = ByteReader(data[1:], "file")
    r.varint("initial word count")
    payload = r.rest()
    if n > 8 * len(data):
        raise ValueError(f"corrupted or truncated file: {n} images cannot fit in {len(data)} bytes")
    total = B.initial_count(n, d)
    if not 2 <= c <= total:
        raise ValueError(f"corrupted file: it holds {c} of {total} initial words")
    keep = total - c
    init = B.initial_words(B.initial_key(h["seed"], model), total)
    words = _source(payload).coder.get_compressed()  # checks the payload's form
    src = AnsSource(np.concatenate([init[:keep], words]), capacity=WORD * (keep + len(words)))
    again = _pop_fields(src, "bits-back", model)
    if any(again[k] != h[k] for k in again):
        raise ValueError("corrupted file: its fields change with its initial words")
    images = B.pop_images(src.coder, n, model, h["precision"], floor_bits=WORD * keep)
    final = src.coder.get_compressed()
    if len(final) != total or not np.array_equal(final, init):
        raise ValueError("checksum mismatch: the file is corrupted or truncated, or was written with another "
                         "model (decoding does not give back the initial words)")
    return images.reshape(n, 28, 28)


def header_info(data, model=None):
    """The header of a compressed file as a dict."""
    h = read_header(data, model)
    if isinstance(h.get("model"), bytes):
        h["model"] = h["model"].hex()
    return h


# ---- versions 1 and 2 ---------------------------------------------------------------------------

def _read_header_v2(data):
    """Parse a version 1 or 2 file's header: (dict, reader positioned at the latent section, data)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"compressed data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < len(LEGACY_MAGIC) + 1 or data[: len(LEGACY_MAGIC)] != LEGACY_MAGIC:
        raise ValueError("not a rec_bench image file (bad magic)")
    version = data[len(LEGACY_MAGIC)]
    if version not in (1, 2):
        raise ValueError(f"unsupported file format version {version} "
                         f"(this reads versions 1, 2 and {VERSION})")
    r = ByteReader(data[:-4] if len(data) >= 4 else b"", "file")
    r.take(len(LEGACY_MAGIC) + 1, "magic")
    h = {"version": version, "model": r.take(HASH_BYTES, "model hash")}
    (mc,) = r.take(1, "method")
    mid, cid = mc >> 4, mc & 15
    methods = {v: k for k, v in V2_METHODS.items()}
    codes = {v: k for k, v in V2_CODE_IDS.items()}
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


def _decompress_v2(data, model=None):
    """The images of a version 1 or 2 file."""
    import constriction

    h, r, data = _read_header_v2(data)
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
    # every image's latent has d coordinates of at least one bit (a fixed code's D + 1), or with the
    # model-coded index at least the depth table's cheapest symbol each
    per_image = _latent_bits_min(model, h["method"], h["code"], h["depth"])
    if n == 0 or h["latent_bytes"] > len(rest) or n * per_image > 8 * h["latent_bytes"] + 64:
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
    out = []
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        probs = model.pixel_probabilities(z[start:stop])
        for i in range(start, stop):
            try:
                out.append(np.asarray(coder.decode(family, probs[i - start]), np.uint8))
            except Exception as e:  # constriction raises on an exhausted or invalid stream
                raise ValueError("corrupted or truncated file: "
                                 f"pixel stream error at image {i}: {e}") from None
    if not coder.is_empty():
        raise ValueError("corrupted or truncated file: the pixel stream does not end where the last "
                         "image does")
    images = np.stack(out).reshape(n, 28, 28)
    if zlib.crc32(images.tobytes(), zlib.crc32(data[:-4])) != struct.unpack("<I", data[-4:])[0]:
        raise ValueError("checksum mismatch: the file is corrupted or truncated, or this machine computes "
                         "the model differently from the sender's")
    return images


# ---- files and the command line -----------------------------------------------------------------

def read_images(paths):
    """uint8 images (n, 28, 28) from one .npy file or one or more PNG files."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise ValueError("no input files")
    if len(paths) == 1 and paths[0].suffix.lower() == ".npy":
        p = paths[0]
        if p.is_dir():
            raise ValueError(f"{p} is a directory, not a .npy file")
        try:
            a = np.load(p, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (OSError, EOFError, ValueError) as e:  # empty, truncated or not a .npy at all
            raise ValueError(f"{p}: not a readable .npy array ({e or type(e).__name__})") from None
        if not isinstance(a, np.ndarray):
            raise ValueError(f"{p}: expected one array (n, 28, 28) uint8, got a .npz archive")
        try:
            return check_images(a)
        except ValueError as e:
            raise ValueError(f"{p}: {e}") from None
    from PIL import Image, UnidentifiedImageError

    out = []
    for p in paths:
        if p.suffix.lower() != ".png":
            raise ValueError(f"{p}: give one .npy file (n, 28, 28) uint8, or PNG files")
        try:
            with Image.open(p) as im:
                if im.mode != "L":
                    raise ValueError(f"{p}: expected an 8-bit grayscale PNG, got mode {im.mode}")
                a = np.asarray(im, dtype=np.uint8)
        except FileNotFoundError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise ValueError(f"{p}: not a readable PNG file ({e})") from None
        if a.shape != (28, 28):
            raise ValueError(f"{p}: expected a 28 x 28 image, got {a.shape[1]} x {a.shape[0]}")
        out.append(a)
    return check_images(np.stack(out))


OUTPUTS = ("a .npy file, a .png file (one image), or a directory for PNGs (an existing one, or a path "
           "ending in /)")


def output_kind(out):
    """'npy', 'png' or 'dir' for an output path, or a ValueError saying what is accepted."""
    text = str(out)
    p = Path(out)
    if p.suffix.lower() == ".npy" and not p.is_dir():
        return "npy"
    if p.suffix.lower() == ".png" and not p.is_dir():
        return "png"
    if p.is_dir() or text.endswith(("/", os.sep)):
        return "dir"
    raise ValueError(f"output {text!r} is none of what decompress writes: give {OUTPUTS}")


def write_images(images, out):
    """Write images as one .npy file, one .png (a single image), or PNGs into a directory."""
    kind = output_kind(out)
    out = Path(out)
    from PIL import Image

    if kind == "png" and len(images) != 1:
        raise ValueError(f"{len(images)} images do not fit one PNG file; give a .npy file or a directory")
    if kind in ("npy", "png"):
        buf = io.BytesIO()
        if kind == "npy":
            np.save(buf, images)
        else:
            Image.fromarray(images[0], mode="L").save(buf, format="PNG")
        _write(out, buf.getvalue())
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, im in enumerate(images):
        p = out / f"image_{i:05d}.png"
        Image.fromarray(im, mode="L").save(p)
        paths.append(p)
    return paths


def _write(path, data):
    """Write the file; on failure nothing is left behind that was not there before."""
    p = Path(path)
    existed = p.exists()
    try:
        with open(p, "wb") as f:
            f.write(data)
    except BaseException as e:
        if not existed and p.is_file():
            p.unlink()
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror or str(e), str(p)) from None
        raise


def cli_compress(a):
    out = Path(a.output)
    if out.is_dir() or str(a.output).endswith(("/", os.sep)):
        raise ValueError(f"output {a.output!r} is a directory: give a file path for the compressed file")
    x = read_images(a.images)
    opts = {}
    if a.method == "bb-ans":
        if (a.depth is not None or a.block is not None or a.bits is not None or a.code or a.refine
                or a.candidates != 1):
            raise ValueError("bb-ans takes --precision only (no --depth, --block, --bits, --code, --refine "
                             "or --candidates)")
        if a.precision is not None:
            opts["precision"] = a.precision
    else:
        if a.precision is not None and a.precision != 8:
            raise ValueError("--precision is bb-ans's option")
        if a.depth is not None:
            opts["depth"] = a.depth
        if a.method in BLOCK_FILE_METHODS:  # the usual blocks unless told: 4 coordinates, K = 15 (IsoKL)
            opts["block"] = BLOCK_REFERENCE if a.block is None else a.block
            opts["bits"] = _reference_bits(_model(a.model)) if a.bits is None else a.bits
        elif a.block is not None or a.bits is not None:
            raise ValueError(f"--block and --bits are for {' and '.join(BLOCK_FILE_METHODS)}")
        if a.code:
            opts["code"] = a.code
        if a.refine:
            opts["refine"] = a.refine
            opts["progress"] = True
        if a.candidates != 1:
            opts["candidates"] = a.candidates
    data, st = compress_with_stats(x, a.model, a.method, a.seed, **opts)
    _check_interrupt()
    _write(out, data)
    initial = f", initial bits {st.initial_bits:.0f}" if st.initial_bits else ""
    stored = f"; {int(st.stored.sum())} stored raw" if st.stored is not None and st.stored.any() else ""
    print(f"{len(x)} images -> {a.output}: {len(data)} bytes, {st.total_bits / st.images:.1f} bits per image "
          f"({st.total_bits / (st.images * 784):.4f} bits per pixel; latent {st.latent_bits:.0f}, pixels "
          f"{st.pixel_bits:.0f}, header {st.header_bits:.0f}, flush {st.flush_bits:.0f}{initial} bits"
          f"{stored})")
    return 0


def cli_decompress(a):
    output_kind(a.output)  # before any work
    p = Path(a.file)
    if p.is_dir():
        raise ValueError(f"{p} is a directory, not a compressed file")
    data = p.read_bytes()
    images = decompress(data, a.model)
    _check_interrupt()
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
    c.add_argument("--method", default="ad*", choices=sorted(REC_METHODS) + ["bb-ans"],
                   help="latent REC method (default ad*), or bb-ans: bits-back ANS on the same model")
    c.add_argument("--depth", type=int, help="DAD* depth D")
    c.add_argument("--block", type=int, help=f"orc/mrc: coordinates per message (default {BLOCK_REFERENCE})")
    c.add_argument("--bits", type=int, help="orc/mrc: K, 2^K candidates and K bits a block (default: the "
                                            "KL of a block of the IsoKL model, rounded, + 1: 15)")
    c.add_argument("--code", choices=[*UNIVERSAL, "model"],
                   help="index code: elias-delta (default), elias-gamma (as*/ad*/grcs/grcd) or model "
                        "(the model's depth table)")
    c.add_argument("--precision", type=int, default=None,
                   help="bb-ans: bits per latent coordinate (2^precision buckets; default 8)")
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
    d.add_argument("-o", "--output", required=True, help=f"output: {OUTPUTS}")
    d.add_argument("--model", default=None, help="model (default: the committed model the file names)")
    d.set_defaults(fn=_guard(cli_decompress))


def _interrupted(e):
    """True if ``e`` is, or was raised while handling, a KeyboardInterrupt: a Ctrl-C that lands inside
    a compiled kernel's dispatch comes back as a SystemError ("returned a result with an exception
    set") whose context is the KeyboardInterrupt; JAX may wrap it in its own errors."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


_SIGINT = {"seen": False}  # set by the commands' Ctrl-C handler, even where the exception gets lost


def _check_interrupt():
    """Raise KeyboardInterrupt if a Ctrl-C came during the command, also one whose exception was
    swallowed on the way (one raised in a garbage-collector callback, such as JAX's, is only printed
    as "ignored"): called before an output file is written."""
    if _SIGINT["seen"]:
        raise KeyboardInterrupt


def _guard(fn):
    def run(a):
        import signal
        import sys
        import threading

        def fail(message, status):
            print(f"error: {message}", file=sys.stderr)
            return status

        def on_sigint(signum, frame):
            _SIGINT["seen"] = True
            raise KeyboardInterrupt

        def unraisable(u, default=sys.unraisablehook):
            if not issubclass(u.exc_type, KeyboardInterrupt):  # an interrupt lost in a callback: noted above
                default(u)

        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_sigint) if main else None
        hook, sys.unraisablehook = sys.unraisablehook, unraisable
        _SIGINT["seen"] = False
        try:
            status = fn(a)
            if not _SIGINT["seen"]:
                return status
        except KeyboardInterrupt:
            pass
        except (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError) as e:
            if not (_interrupted(e) or _SIGINT["seen"]):
                return fail(e, 2)
        except OSError as e:
            if not (_interrupted(e) or _SIGINT["seen"]):
                where = f" {e.filename}" if getattr(e, "filename", None) else ""
                return fail(f"cannot read or write{where}: {e.strerror or e}", 1)
        except MemoryError:
            if not _SIGINT["seen"]:
                return fail("out of memory", 1)
        except Exception as e:
            if not _interrupted(e) and not _SIGINT["seen"]:
                raise
        finally:
            sys.unraisablehook = hook
            if main:
                signal.signal(signal.SIGINT, previous)
        # Ctrl-C, wherever it landed: one line, status 130
        return fail("interrupted", 130)

    return run
