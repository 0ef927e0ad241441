"""MNIST loader: IDX round trip, the restricted unpickler, checksums (no download needed)."""

import gzip
import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from rec_bench import data

HERE = Path(__file__).parent / "data"
SLICE_IMAGES = HERE / "t10k-images-first100-idx3-ubyte"
SLICE_LABELS = HERE / "t10k-labels-first100-idx1-ubyte"


def test_committed_slice_is_intact():
    assert hashlib.sha256(SLICE_IMAGES.read_bytes()).hexdigest() == (
        "806da1c8626ed91a2ec572ed80666121226e1de20cec504c2787812cac71d159")
    x, y = data.read_idx(SLICE_IMAGES), data.read_idx(SLICE_LABELS)
    assert x.shape == (100, 28, 28) and x.dtype == np.uint8
    assert tuple(y[:10]) == data.TEST_FIRST_LABELS


def test_idx_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    for shape in [(7,), (3, 28, 28), (2, 3, 4, 5)]:
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        data.write_idx(tmp_path / "a", a)
        b = data.read_idx(tmp_path / "a")
        assert b.dtype == np.uint8 and np.array_equal(a, b)
        (tmp_path / "a.gz").write_bytes(gzip.compress((tmp_path / "a").read_bytes()))
        assert np.array_equal(data.read_idx(tmp_path / "a.gz"), a)
    # header layout: 0, 0, 0x08, rank, then big-endian dimensions
    raw = data.idx_bytes(np.zeros((2, 3), np.uint8))
    assert raw[:4] == b"\x00\x00\x08\x02" and raw[4:12] == b"\x00\x00\x00\x02\x00\x00\x00\x03"


def test_idx_malformed():
    good = data.idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    with pytest.raises(ValueError, match="header announces"):
        data.parse_idx(good[:-1])
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        data.parse_idx(b"\x00\x00\x0d\x01" + good[4:])
    with pytest.raises(ValueError, match="too short"):
        data.parse_idx(b"\x00")
    with pytest.raises(ValueError, match="uint8"):
        data.write_idx("/nonexistent", np.zeros(3, np.float32))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_rejects_code():
    raw = pickle.dumps(((_Evil(),),), protocol=2)
    with pytest.raises(ValueError, match="refusing to load .*system"):
        data.restricted_load(raw)
    with pytest.raises(ValueError, match="refusing to load .*eval"):
        data.restricted_load(pickle.dumps(eval, protocol=2))
    with pytest.raises(ValueError, match="malformed"):
        data.restricted_load(b"\x80\x02garbage")


def test_restricted_unpickler_admits_arrays():
    a = (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], np.int64))
    for proto in (3, 4, 5):  # (protocol 2 from Python 3 wraps bytes in _codecs.encode: refused)
        out = data.restricted_load(pickle.dumps(a, protocol=proto))
        assert all(np.array_equal(u, v) and u.dtype == v.dtype for u, v in zip(a, out))


def _fake_pickle(train_x, scale=256.0):
    rng = np.random.default_rng(1)
    def split(n, x=None):
        px = rng.integers(0, 256, (n, 784)) if x is None else x
        return ((px / scale).astype(np.float32), rng.integers(0, 10, n).astype(np.int64))
    return pickle.dumps((split(50000, train_x), split(10000), split(10000)), protocol=4)


def test_convert_pickle_exact_and_joined():
    rng = np.random.default_rng(2)
    tx = rng.integers(0, 256, (50000, 784))
    m = data.convert_pickle(_fake_pickle(tx))
    assert m.train_images.shape == (60000, 28, 28) and m.train_images.dtype == np.uint8
    assert np.array_equal(m.train_images[:50000].reshape(50000, 784), tx)
    with pytest.raises(ValueError, match="exact multiples of 1/256"):
        data.convert_pickle(_fake_pickle(tx, scale=255.0))
    with pytest.raises(ValueError, match="class counts"):
        data.check_official(m)  # random labels are not MNIST's


def test_checksum_mismatch_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="checksum mismatch for MNIST test_images"):
        data.check_sha256("test_images", SLICE_IMAGES.read_bytes())
    m = data.MNIST(*(np.zeros((n, 28, 28) if k else (n,), np.uint8)
                     for n, k in ((60000, 1), (60000, 0), (10000, 1), (10000, 0))))
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.write_mnist(m, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # a directory of (wrong) IDX files is refused by the verifying loader, read by the other
    data.write_mnist(m, tmp_path / "out", verify=False)
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load_mnist(tmp_path / "out")
    assert data.load_mnist(tmp_path / "out", verify=False).test_images.shape == (10000, 28, 28)


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "none"))
    assert data.data_dir() == tmp_path / "none"
    with pytest.raises(FileNotFoundError, match="make data"):
        data.load_mnist()
