"""Lossless MNIST codec: round trips on real digits, the file's integrity checks, the IsoKL posterior,
the rate against the -ELBO, decoding in a fresh process, and the CLI. Uses the committed models and
the committed first 100 MNIST test digits (tests/data)."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("constriction")

from rec_bench import compression as Z  # noqa: E402
from rec_bench import data as D  # noqa: E402
from rec_bench.coding.sinks import varint  # noqa: E402
from rec_bench.vae import isokl_scale, load_model  # noqa: E402
from rec_bench.vae.model import gaussian_kl  # noqa: E402

HERE = Path(__file__).parent
ROOT = HERE.parent
X = D.read_idx(HERE / "data" / "t10k-images-first100-idx3-ubyte")
LN2 = math.log(2)


@pytest.fixture(scope="module")
def vae():
    return load_model("vae")


@pytest.fixture(scope="module")
def isokl():
    return load_model("isokl")


def _kappa_bits(m):
    return m.kappa / LN2


CONFIGS = [("vae", "as*", {}), ("vae", "ad*", {}), ("vae", "ad*", {"code": "elias-gamma"}),
           ("isokl", "ad*", {}), ("isokl", "as*", {}), ("isokl", "dad*", {"depth": 0}),
           ("isokl", "dad*", {"depth": 3}), ("isokl", "dad*", {"depth": 6}),
           ("vae", "ad*", {"code": "model"}), ("vae", "as*", {"code": "model"}),
           ("isokl", "dad*", {"depth": 4, "code": "model"}),
           ("vae", "grcs", {}), ("isokl", "grcd", {}), ("vae", "grcd", {"code": "model"}),
           ("isokl", "orc", {"block": 4, "bits": 15}), ("isokl", "mrc", {"block": 3, "bits": 11}),
           ("vae", "orc", {"block": 6, "bits": 16})]


def test_the_model_coded_index_saves_latent_bits_on_real_digits(vae, isokl):
    """The committed depth tables (fitted on training images) beat the universal code's length prefix
    on the committed test digits, and a DAD* code of D + 1 bits per coordinate."""
    _, plain = Z.compress_with_stats(X, vae, "ad*", seed=1)
    _, model = Z.compress_with_stats(X, vae, "ad*", seed=1, code="model")
    assert model.latent_bits < 0.92 * plain.latent_bits
    _, fixed = Z.compress_with_stats(X, isokl, "dad*", seed=1, depth=4)
    _, coded = Z.compress_with_stats(X, isokl, "dad*", seed=1, depth=4, code="model")
    assert fixed.latent_bits == 8 * -(-5 * isokl.latent * len(X) // 8)  # D + 1 bits a coordinate, one padding
    assert coded.latent_bits < fixed.latent_bits


def test_greedy_rejection_coding_latents_in_the_file(vae, isokl):
    """GRCS and GRCD as the file's latent methods 4 and 5 (5 bits of Elias gamma): the model-coded
    index (the committed GRC depth tables) saves latent bits over Elias delta on the test digits, GRCD
    codes are about as long as AD*'s (the same dyadic tree), and GRCS's longer than GRCD's (its paths
    run deeper)."""
    x = X[:40]
    bits = {}
    for method in ("grcs", "grcd", "ad*"):
        for code in ("elias-delta", "model"):
            data, st = Z.compress_with_stats(x, vae, method, seed=3, code=code)
            assert np.array_equal(Z.decompress(data), x)
            bits[method, code] = st.latent_bits
            if method != "ad*":
                ad = Z.compress_with_stats(x, vae, "ad*", seed=3, code=code)[1]
                # id 4 or 5 is g(4) or g(5): 5 bits, AD*'s id 1 one bit
                assert st.parts["fields"] == pytest.approx(ad.parts["fields"] + 4, abs=0.01)
    for method in ("grcs", "grcd"):
        assert bits[method, "model"] < 0.95 * bits[method, "elias-delta"]
    assert abs(bits["grcd", "model"] - bits["ad*", "model"]) < 0.05 * bits["ad*", "model"]
    assert bits["grcs", "model"] > bits["grcd", "model"]
    assert Z.header_info(Z.compress(x[:2], isokl, "grcs", code="model"))["method"] == "grcs"


def test_blocks_cost_exactly_k_bits_a_block_and_usual_options_one_bit(isokl, vae):
    """ORC and MRC in blocks (latent methods 6 and 7): every modelled image's latent is ceil(d / b)
    K-bit indices, exactly, as raw bits in the file's ANS stack; the block of 4 and K = 15 (the
    IsoKL block's KL + 1) cost a bit each in the fields, other values a few more; the receiver's z
    is the block decoder's sample (the file decodes to the images)."""
    x = X[:30]
    d = isokl.latent
    _, ad = Z.compress_with_stats(x, isokl, "ad*", seed=5)
    for method in ("orc", "mrc"):
        data, st = Z.compress_with_stats(x, isokl, method, seed=5, block=4, bits=15)
        assert np.array_equal(Z.decompress(data), x)
        h = Z.header_info(data)
        assert (h["method"], h["block"], h["bits"], h["code"]) == (method, 4, 15, "fixed")
        assert st.parts["latents"] == pytest.approx(len(x) * -(-d // 4) * 15, abs=0.01)
        assert np.all(st.latent_bits_per_image == -(-d // 4) * 15)
        # id 6 or 7 is g(6) or g(7), 5 bits (AD*'s id 1: one bit); the code "fixed" g(1), a bit (AD*'s
        # elias-delta g(2), 3 bits); block and bits at their references: a bit each
        assert st.parts["fields"] == pytest.approx(ad.parts["fields"] + 4 - 2 + 2, abs=0.01)
    _, other = Z.compress_with_stats(x, isokl, "orc", seed=5, block=3, bits=12)
    assert other.parts["latents"] == pytest.approx(len(x) * 7 * 12, abs=0.01)  # 7 blocks, the last of 2
    assert other.parts["fields"] > ad.parts["fields"] + 4
    assert Z._reference_bits(isokl) == 15 and Z._reference_bits(vae) == 15


def test_block_options_are_checked(isokl):
    for opts, msg in (({"bits": 15}, "needs block=b"), ({"block": 1, "bits": 15}, "needs block=b"),
                      ({"block": 4}, "needs bits=K"), ({"block": 4, "bits": 41}, "needs bits=K"),
                      ({"block": 4, "bits": 15, "code": "model"}, "K bits"),
                      ({"block": 4, "bits": 15, "depth": 3}, "not depth")):
        with pytest.raises(ValueError, match=msg):
            Z.compress(X[:2], isokl, "orc", **opts)
    with pytest.raises(ValueError, match="no block or bits"):
        Z.compress(X[:2], isokl, "ad*", block=4)
    with pytest.raises(ValueError, match="max_steps"):
        Z.compress(X[:2], isokl, "orc", block=4, bits=15, max_steps=1000)


def test_a_model_index_needs_its_table(isokl):
    with pytest.raises(ValueError, match="no committed index table for dad\\* at depth 40"):
        Z.compress(X[:2], isokl, "dad*", depth=40, code="model")
    with pytest.raises(ValueError, match="dad\\* writes a fixed"):
        Z.compress(X[:2], isokl, "dad*", depth=4, code="elias-delta")


@pytest.mark.parametrize("kind,method,opts", CONFIGS)
def test_round_trip_real_digits(kind, method, opts, vae, isokl):
    m = vae if kind == "vae" else isokl
    x = X[:40]
    data = Z.compress(x, m, method, seed=11, **opts)
    y = Z.decompress(data, m)
    assert y.dtype == np.uint8 and y.shape == x.shape
    assert np.array_equal(x, y)
    assert Z.decompress(data) .tobytes() == x.tobytes()  # the model found from the file's hash
    h = Z.header_info(data)
    assert (h["method"], h["count"], h["seed"], h["version"]) == (method, 40, 11, 3)
    assert (h["model"], h["model_hash"]) == (kind, m.hash[:8])
    for i in (0, 1):  # one image per file
        one = Z.compress(x[i], m, method, seed=11, **opts)
        assert np.array_equal(Z.decompress(one), x[i : i + 1])
        assert len(one) < len(data) / 20


@pytest.mark.parametrize("kind", ["vae", "isokl"])
def test_bits_back_round_trips_as_a_set_and_one_image_per_file(kind, vae, isokl):
    m = vae if kind == "vae" else isokl
    x = X[:20]
    data, st = Z.compress_with_stats(x, m, "bb-ans", seed=4)
    assert np.array_equal(Z.decompress(data), x)
    h = Z.header_info(data)
    assert (h["method"], h["count"], h["seed"], h["precision"], h["model"]) == ("bb-ans", 20, 4, 8, kind)
    assert st.total_bits == pytest.approx(st.header_bits + st.latent_bits + st.pixel_bits + st.initial_bits
                                          + st.flush_bits, abs=1e-6)
    for i in (0, 1):
        one = Z.compress(x[i], m, "bb-ans", seed=4)
        assert np.array_equal(Z.decompress(one, m), x[i : i + 1])
    coarse = Z.compress(x[:3], m, "bb-ans", precision=4)
    assert np.array_equal(Z.decompress(coarse), x[:3]) and Z.header_info(coarse)["precision"] == 4


def test_bits_back_chain_costs_the_elbo_and_one_image_pays_its_initial_bits(vae):
    """In a chain over the 100 digits bits-back costs about the -ELBO; one image alone pays the initial
    bits its posterior pop took (plus the words they sat in), so REC's one-shot file is smaller."""
    ref = vae.elbo(X, samples=16, seed=1)["nelbo_bits"].mean()
    _, st = Z.compress_with_stats(X, vae, "bb-ans")
    assert abs(st.total_bits / len(X) / ref - 1) < 0.02
    bb = [8 * len(Z.compress(X[i], vae, "bb-ans")) for i in range(10)]
    rec = [8 * len(Z.compress(X[i], vae, "ad*", code="model")) for i in range(10)]
    assert np.mean(rec) < np.mean(bb) - 30


def test_bits_back_options_are_checked(vae):
    for bad in (0, 17, 2.5, True):
        with pytest.raises(ValueError, match="precision"):
            Z.compress(X[:1], vae, "bb-ans", precision=bad)
    with pytest.raises(ValueError, match="unknown option"):
        Z.compress(X[:1], vae, "bb-ans", candidates=2)


def test_single_image_and_2d_input(vae):
    data = Z.compress(X[7], vae, "ad*")
    assert np.array_equal(Z.decompress(data, vae), X[7:8])


def test_isokl_posterior_has_kl_kappa_in_every_coordinate(isokl):
    mu, s = isokl.encode(X)
    kappa = isokl.kappa
    assert np.all(s < 1.0) and np.all(s > 0.0)
    assert np.all(mu * mu / 2 < kappa)
    np.testing.assert_allclose(gaussian_kl(mu, s), kappa, rtol=1e-12, atol=1e-12)
    # the solver alone, across kappa and up to the means' bound
    for k in (0.01, 0.7, 2.3, 8.0, 30.0):
        m = np.sqrt(2 * k) * np.array([0.0, 0.3, -0.9, 0.999, -(1 - 1e-9)])
        sc = isokl_scale(m, k)
        assert np.all((sc > 0) & (sc < 1))
        np.testing.assert_allclose(0.5 * (sc * sc + m * m - 1) - np.log(sc), k, rtol=1e-11, atol=1e-13)
    with pytest.raises(ValueError, match="mu\\^2 / 2 < kappa"):
        isokl_scale(np.array([2.0]), 2.0)


def test_vae_scales_below_prior_so_dinf_is_finite(vae):
    mu, s = vae.encode(X)
    assert np.all(s < 1.0) and np.all(s >= vae.config["s_min"])
    dinf = -np.log(s) + mu * mu / (2 * (1 - s * s))
    assert np.all(np.isfinite(dinf))


def test_file_size_near_the_elbo(vae, isokl):
    """On the 100 committed digits: one file costs the -ELBO plus small REC/ANS overheads."""
    for m, method, opts, lo, hi in ((vae, "ad*", {}, 0.0, 0.08),
                                    (isokl, "dad*", {"depth": round(_kappa_bits(isokl))}, -0.01, 0.05)):
        ref = m.elbo(X, samples=16, seed=1)["nelbo_bits"].mean()
        _, st = Z.compress_with_stats(X, m, method, 0, **opts)
        over = st.total_bits / len(X) / ref - 1
        assert lo < over < hi, (m.kind, method, over)
        assert st.total_bits == pytest.approx(st.latent_bits + st.pixel_bits + st.header_bits + st.flush_bits,
                                              abs=1e-6)
        assert st.header_bits < 60 and 0 <= st.flush_bits < 9


def test_one_image_costs_its_payload_plus_a_few_bytes(vae, isokl):
    """A one-image file is its latent and pixels plus the first byte, the fields, the 24-bit check and
    the coder's last byte: under 50 bits for the default configurations."""
    for m, method, opts in ((vae, "ad*", {"code": "model"}), (isokl, "dad*", {"depth": 4, "code": "model"}),
                            (vae, "ad*", {})):
        for i in range(5):
            data, st = Z.compress_with_stats(X[i], m, method, **opts)
            container = st.total_bits - st.latent_bits - st.pixel_bits
            assert container < 50, (method, opts, st.parts)
            assert st.parts["check"] >= 23 and st.parts["first byte"] == 8


def _flip(data, pos, bit=0):
    b = bytearray(data)
    b[pos] ^= 1 << bit
    return bytes(b)


def test_corrupted_truncated_and_wrong_model_files(vae, isokl):
    data = Z.compress(X[:10], vae, "ad*", seed=3)
    for pos in (0, 2, 3, 7, 9, 14, 20, len(data) // 2, len(data) - 9, len(data) - 1):
        with pytest.raises(ValueError):
            Z.decompress(_flip(data, pos, pos % 8), vae)
    for cut in (0, 1, 3, 4, 5, 30, len(data) - 1):
        with pytest.raises(ValueError, match="truncated|checksum|magic|empty|corrupted"):
            Z.decompress(data[:cut], vae)
    with pytest.raises(ValueError, match="wrong model"):
        Z.decompress(data, isokl)
    with pytest.raises(ValueError, match="bad magic"):
        Z.decompress(b"PK\x03\x04" + data[4:], vae)
    with pytest.raises(ValueError, match="bytes"):
        Z.decompress("not bytes", vae)
    with pytest.raises(ValueError, match="corrupted"):
        Z.decompress(data + b"\x01", vae)


SINGLE = [("vae", "ad*", {"code": "model"}), ("isokl", "dad*", {"depth": 4}), ("vae", "as*", {}),
          ("vae", "bb-ans", {}), ("isokl", "ad*", {"candidates": 4}), ("vae", "grcd", {"code": "model"}),
          ("isokl", "orc", {"block": 4, "bits": 15})]


@pytest.mark.parametrize("kind,method,opts", SINGLE)
def test_one_image_file_with_any_byte_flipped_or_cut_is_never_other_images(kind, method, opts, vae, isokl):
    """Every byte of a one-image file flipped (all bits, and one bit), and every truncation: the
    decoder gives the exact image or raises ValueError, never another image."""
    m = vae if kind == "vae" else isokl
    x = X[12:13]
    data = Z.compress(x, m, method, seed=2, **opts)
    rng = np.random.default_rng(0)
    for pos in range(len(data)):
        for mask in (0xFF, 1 << int(rng.integers(8))):
            b = bytearray(data)
            b[pos] ^= mask
            try:
                y = Z.decompress(bytes(b))
            except ValueError:
                continue
            assert np.array_equal(y, x), (pos, mask)
    for cut in range(len(data)):
        try:
            y = Z.decompress(data[:cut])
        except ValueError:
            continue
        assert np.array_equal(y, x), cut


def test_no_input_costs_more_than_its_raw_bytes_and_a_few(vae, isokl):
    """All-0, all-255 and uniform noise: an image the model would code larger than its 784 raw bytes
    is stored raw behind its flag; one file of them costs raw + a few bytes, alone or in a set."""
    rng = np.random.default_rng(1)
    odd = {"zeros": np.zeros((3, 28, 28), np.uint8), "255": np.full((3, 28, 28), 255, np.uint8),
           "noise": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)}
    for m, method, opts in ((vae, "ad*", {}), (isokl, "dad*", {"depth": 4, "code": "model"}),
                            (vae, "bb-ans", {})):
        for name, x in odd.items():
            for imgs in (x[:1], x):
                data, st = Z.compress_with_stats(imgs, m, method, **opts)
                assert len(data) <= 784 * len(imgs) + 8, (name, method, len(data))
                assert np.array_equal(Z.decompress(data), imgs)
            if name != "zeros":
                assert st.stored.all(), (name, method)
    # a set mixing digits and noise stores only the noise, and codes the digits as usual
    mixed = np.concatenate([X[:4], odd["noise"][:1], X[4:6]])
    data, st = Z.compress_with_stats(mixed, vae, "ad*", code="model")
    assert st.stored.tolist() == [False] * 4 + [True] + [False] * 2
    assert np.array_equal(Z.decompress(data), mixed)
    assert len(data) < 784 + len(Z.compress(np.concatenate([X[:4], X[4:6]]), vae, "ad*", code="model")) + 4


def test_a_forged_image_count_fails_before_anything_is_allocated(vae, monkeypatch):
    """A header that claims the old format's limit of 11,820,544 images in a small file is refused by
    the bits the file holds, at once (every image costs at least its latent's cheapest code)."""
    real = Z._fields

    def forged(sink, kind, model, *args, **kw):
        kw["n"] = 11_820_544
        return real(sink, kind, model, *args[:5], **kw)

    files = {}
    for method, opts in (("ad*", {"code": "model"}), ("dad*", {"depth": 4}), ("as*", {}), ("bb-ans", {})):
        monkeypatch.setattr(Z, "_fields", forged)
        files[method] = Z.compress(X[:30], vae if method != "dad*" else "isokl", method, **opts)
        monkeypatch.setattr(Z, "_fields", real)
    for method, data in files.items():
        with pytest.raises(ValueError, match="cannot fit"):
            Z.decompress(data)
    # version 2: the count field rewritten in a committed file (its CRC is checked only at the end)
    v2 = (HERE / "data" / "v2" / "vae-ad-model-0-3.rb").read_bytes()
    h, r, _ = Z._read_header_v2(v2)
    at = v2.index(varint(3) + varint(28) + varint(28))
    bad = v2[:at] + varint(11_820_544) + v2[at + 1 :]
    with pytest.raises(ValueError, match="cannot fit"):
        Z.decompress(bad)


def test_a_named_model_is_loaded_once_per_process():
    a, b = Z._model("vae"), Z._model("vae")
    assert a is b and Z._model(Path(a.path)) is a
    assert Z._model("isokl") is not a


def test_receiver_computing_another_model_is_caught(vae):
    """A receiver whose tables differ (say another machine's arithmetic) gets an error, not wrong images."""
    from rec_bench.vae import Model

    data = Z.compress(X[:10], vae, "ad*", seed=3)
    params = {k: v.copy() for k, v in vae.params.items()}
    params["dec_b2"] = params["dec_b2"] + 1e-3
    other = Model(vae.config, params, hash=vae.hash)  # claims the same hash
    with pytest.raises(ValueError, match="checksum|corrupted"):
        Z.decompress(data, other)


def test_bad_input_is_a_clear_error(vae):
    with pytest.raises(ValueError, match="shape"):
        Z.compress(np.zeros((2, 28, 27), np.uint8), vae)
    with pytest.raises(ValueError, match="dtype float"):
        Z.compress(X[:2].astype(np.float32), vae)
    with pytest.raises(ValueError, match="0..255"):
        Z.compress(X[:2].astype(np.int32) + 200, vae)
    with pytest.raises(ValueError, match="no images"):
        Z.compress(np.zeros((0, 28, 28), np.uint8), vae)
    with pytest.raises(ValueError, match="depth"):
        Z.compress(X[:2], vae, "dad*")
    with pytest.raises(ValueError, match="not available for images"):
        Z.compress(X[:2], vae, "rs")
    with pytest.raises(ValueError, match="unknown option"):
        Z.compress(X[:2], vae, "ad*", width=3)
    with pytest.raises(ValueError, match="ad\\* takes no block or bits option"):  # orc's and mrc's options
        Z.compress(X[:2], vae, "ad*", bits=3)
    with pytest.raises(ValueError, match="seed"):
        Z.compress(X[:2], vae, "ad*", seed=-1)
    # int arrays within range are accepted and match the uint8 result
    assert Z.compress(X[:2].astype(np.int64), vae) == Z.compress(X[:2], vae)


FRESH = """
import sys, numpy as np
from rec_bench import compression as Z
data = open(sys.argv[1], "rb").read()
x = Z.decompress(data)
np.save(sys.argv[2], x)
"""


def test_decodes_in_a_fresh_process(tmp_path, isokl):
    x = X[:30]
    data = Z.compress(x, isokl, "dad*", seed=9, depth=3)
    (tmp_path / "f.rbz").write_bytes(data)
    subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "f.rbz"), str(tmp_path / "out.npy")],
                   check=True, cwd=ROOT, timeout=300)
    assert np.array_equal(np.load(tmp_path / "out.npy"), x)


def test_cli_npy_and_png(tmp_path):
    from PIL import Image

    from rec_bench.cli import main

    np.save(tmp_path / "in.npy", X[:5])
    assert main(["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "a.rbz"), "--method", "as*"]) == 0
    assert main(["decompress", str(tmp_path / "a.rbz"), "-o", str(tmp_path / "out.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), X[:5])
    assert main(["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "g.rbz"), "--method", "grcs",
                 "--code", "model"]) == 0
    assert Z.header_info((tmp_path / "g.rbz").read_bytes())["method"] == "grcs"
    assert main(["decompress", str(tmp_path / "g.rbz"), "-o", str(tmp_path / "g.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "g.npy"), X[:5])
    assert main(["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "o.rbz"), "--model", "isokl",
                 "--method", "orc"]) == 0  # blocks of 4, K = 15 unless told
    h = Z.header_info((tmp_path / "o.rbz").read_bytes())
    assert (h["method"], h["block"], h["bits"]) == ("orc", 4, 15)
    assert main(["decompress", str(tmp_path / "o.rbz"), "-o", str(tmp_path / "o.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "o.npy"), X[:5])
    assert main(["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "x.rbz"), "--bits", "3"]) == 2
    pngs = []
    for i in range(3):
        Image.fromarray(X[i], mode="L").save(tmp_path / f"d{i}.png")
        pngs.append(str(tmp_path / f"d{i}.png"))
    assert main(["compress", *pngs, "-o", str(tmp_path / "b.rbz"), "--model", "isokl", "--method", "dad*",
                 "--depth", "3"]) == 0
    assert main(["decompress", str(tmp_path / "b.rbz"), "-o", str(tmp_path / "pngs")]) == 2  # not a dir yet
    assert not (tmp_path / "pngs").exists()
    assert main(["decompress", str(tmp_path / "b.rbz"), "-o", str(tmp_path / "pngs") + "/"]) == 0
    back = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "pngs").glob("*.png"))]
    assert np.array_equal(np.stack(back), X[:3])
    (tmp_path / "bad.rbz").write_bytes(b"RBVZ\x01garbage")
    assert main(["decompress", str(tmp_path / "bad.rbz"), "-o", str(tmp_path / "x.npy")]) == 2
    Image.fromarray(np.zeros((28, 28, 3), np.uint8)).save(tmp_path / "rgb.png")
    assert main(["compress", str(tmp_path / "rgb.png"), "-o", str(tmp_path / "c.rbz")]) == 2


def _cli(args, capsys):
    from rec_bench.cli import main

    status = main(args)
    err = capsys.readouterr().err
    return status, err


def test_cli_refuses_bad_paths_and_inputs_in_one_line(tmp_path, capsys):
    np.save(tmp_path / "in.npy", X[:2])
    f = str(tmp_path / "a.rb")
    assert _cli(["compress", str(tmp_path / "in.npy"), "-o", f], capsys)[0] == 0
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "empty.rb").write_bytes(b"")
    (tmp_path / "d.npy").mkdir()
    np.save(tmp_path / "floats.npy", np.zeros((2, 28, 28)))
    cases = [
        (["decompress", f, "-o", str(tmp_path / "out.txt")], 2, "a .npy file, a .png file"),
        (["decompress", f, "-o", str(tmp_path / "noext")], 2, "ending in /"),
        (["decompress", f, "-o", "/dev/full"], 2, "is none of what decompress writes"),
        (["decompress", f, "-o", str(tmp_path / "one.png")], 2, "do not fit one PNG"),
        (["decompress", str(tmp_path / "empty.rb"), "-o", str(tmp_path / "o.npy")], 2, "empty file"),
        (["decompress", str(tmp_path / "missing.rb"), "-o", str(tmp_path / "o.npy")], 2, "missing.rb"),
        (["compress", str(tmp_path / "in.npy"), "-o", "/dev/full"], 1, "No space left"),
        (["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path) + "/"], 2, "is a directory"),
        (["compress", str(tmp_path / "empty.npy"), "-o", f + "2"], 2, "not a readable .npy"),
        (["compress", str(tmp_path / "junk.npy"), "-o", f + "2"], 2, "not a readable .npy"),
        (["compress", str(tmp_path / "d.npy"), "-o", f + "2"], 2, "is a directory"),
        (["compress", str(tmp_path / "floats.npy"), "-o", f + "2"], 2, "dtype float64"),
        (["compress", str(tmp_path / "in.npy"), "-o", f + "2", "--method", "bb-ans", "--depth", "3"], 2,
         "bb-ans takes --precision only"),
    ]
    for args, status, words in cases:
        got, err = _cli(args, capsys)
        assert got == status and words in err and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    assert not (tmp_path / "out.txt").exists() and not (tmp_path / "noext").exists()
    assert not Path(f + "2").exists() and not (tmp_path / "one.png").exists()


INTERRUPT = """
import sys
from rec_bench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_in_compress_and_decompress_is_one_line_and_status_130(tmp_path):
    """SIGINT at several moments of a compress and a decompress (numba kernels, numpy, constriction):
    the command ends with one 'error: interrupted' line, status 130, and no output file."""
    import signal
    import time

    big = np.tile(X, (40, 1, 1))
    np.save(tmp_path / "big.npy", big)
    (tmp_path / "big.rb").write_bytes(Z.compress(big, "vae", "ad*"))
    runs = {"compress": [str(tmp_path / "big.npy"), "-o", str(tmp_path / "out.rb")],
            "decompress": [str(tmp_path / "big.rb"), "-o", str(tmp_path / "out.npy")]}
    for command, args in runs.items():
        hit = 0
        for delay in (2.0, 3.0):
            child = subprocess.Popen([sys.executable, "-c", INTERRUPT, command, *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(delay)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=120)
            if child.returncode == 0:  # done before the signal
                continue
            hit += 1
            assert child.returncode == 130, (command, delay, err)
            assert err == "error: interrupted\n", (command, delay, err)
            assert not Path(args[-1]).exists()
        assert hit, f"{command} finished before every signal"


def test_committed_weights_have_provenance(vae, isokl):
    for m in (vae, isokl):
        p = m.provenance
        assert p["model_hash"] == m.hash
        assert p["data_sha256"] == "c65580678af93f1ea48c2c0d01d543ec89307c6b8a0eb7ca542d7c18c5f4c681"
        assert p["test_elbo"]["images"] == 10000 and p["test_elbo"]["nelbo_bits_se"] > 0
        assert Path(m.path).stat().st_size < 8 * 2**20


# ---- the sender's searches: refined posteriors and latent candidates ----------------------------

def test_refined_posterior_lowers_the_elbo_within_the_models_parameterisation(vae, isokl):
    """Per-image refinement closes part of the amortisation gap on real digits and keeps what the
    codec relies on: s < 1 (finite D_inf) and, for IsoKL, KL = kappa in every coordinate."""
    from rec_bench.vae.sender import refine_posterior

    for m in (vae, isokl):
        before = m.elbo(X, samples=16, seed=1)["nelbo_bits"]
        post = refine_posterior(m, X, 30)
        after = m.elbo(X, samples=16, seed=1, posterior=post)["nelbo_bits"]
        assert after.mean() < before.mean() - 10, (m.kind, before.mean(), after.mean())
        mu, s = post
        assert np.all((0 < s) & (s < 1)) and np.all(np.isfinite(mu))
        if m.kind == "isokl":
            np.testing.assert_allclose(gaussian_kl(mu, s), m.kappa, rtol=1e-9)
        e_mu, e_s = refine_posterior(m, X, 0)
        assert np.array_equal(e_mu, m.encode(X)[0]) and np.array_equal(e_s, m.encode(X)[1])


@pytest.mark.parametrize("kind, method, opts", [("isokl", "dad*", {"depth": 4, "code": "model"}),
                                                ("vae", "ad*", {}), ("vae", "as*", {"code": "model"}),
                                                ("isokl", "orc", {"block": 4, "bits": 15})])
def test_sender_searches_round_trip_and_shrink_the_file(kind, method, opts, vae, isokl):
    m = {"vae": vae, "isokl": isokl}[kind]
    sizes = {}
    for refine, k in ((0, 1), (30, 1), (30, 8), (0, 5)):
        data, st = Z.compress_with_stats(X, m, method, seed=11, refine=refine, candidates=k, **opts)
        assert np.array_equal(Z.decompress(data), X)
        assert Z.header_info(data)["candidates"] == k
        assert st.total_bits == pytest.approx(st.latent_bits + st.pixel_bits + st.header_bits + st.flush_bits,
                                              abs=1e-6)
        if k > 1:
            assert st.choice_bits == pytest.approx(len(X) * math.log2(k), abs=2)
            assert 0 < len(set(st.choice.tolist())) <= k
        sizes[refine, k] = st.total_bits / len(X)
    # refinement gains ~30 bits an image on these digits, candidates another few after refinement
    assert sizes[30, 1] < sizes[0, 1] - 10 and sizes[30, 8] < sizes[30, 1] and sizes[0, 5] < sizes[0, 1]
    one = Z.compress(X[5], m, method, seed=11, refine=30, candidates=8, **opts)  # one image per file
    assert np.array_equal(Z.decompress(one), X[5:6]) and Z.header_info(one)["candidates"] == 8


def test_refined_file_is_near_its_posteriors_elbo(isokl):
    """Refining changes q, not the coding: the file stays within a few percent of the refined q's
    -ELBO (REC overhead and the DAD* bias), as it does of the encoder's."""
    _, st = Z.compress_with_stats(X, isokl, "dad*", seed=2, depth=4, code="model", refine=30)
    ref = isokl.elbo(X, samples=16, seed=1, posterior=st.posterior)["nelbo_bits"].mean()
    assert 0.0 < st.total_bits / len(X) / ref - 1 < 0.05


def test_candidate_files_are_checked_like_any_other(vae):
    data = Z.compress(X[:10], vae, "ad*", seed=3, candidates=6)
    for pos in (3, 10, len(data) // 2, len(data) - 9, len(data) - 1):
        with pytest.raises(ValueError):
            Z.decompress(_flip(data, pos, pos % 8), vae)
    for cut in (len(data) - 1, len(data) - 6, len(data) // 2):
        with pytest.raises(ValueError):
            Z.decompress(data[:cut], vae)


OLD_FILES = {"vae-ad-model-0-3": slice(0, 3), "vae-as-delta-3": slice(3, 4),
             "isokl-dad4-fixed-4-6": slice(4, 6), "isokl-dad4-model-6": slice(6, 7),
             "vae-ad-gamma-7-9": slice(7, 9)}


@pytest.mark.parametrize("name", sorted(OLD_FILES))
def test_version_2_files_still_decode(name, vae):
    """Files the version-2 codec wrote (tests/data/v2) decode to the same digits, and their CRC-32
    still catches damage."""
    data = (HERE / "data" / "v2" / f"{name}.rb").read_bytes()
    assert data[:3] == b"RB\x02"
    assert np.array_equal(Z.decompress(data), X[OLD_FILES[name]])
    h = Z.header_info(data)
    assert (h["version"], h["seed"], h["count"]) == (2, 5, OLD_FILES[name].stop - OLD_FILES[name].start)
    with pytest.raises(ValueError):
        Z.decompress(_flip(data, len(data) - 6, 3))


def test_version_1_files_still_decode(vae):
    """A version-1 file is version 2 without the candidates field (it always had one candidate)."""
    import struct
    import zlib

    v2 = (HERE / "data" / "v2" / "vae-as-delta-3.rb").read_bytes()
    h, r, _ = Z._read_header_v2(v2)
    head = varint(h["seed"])
    start = 2 + 1 + Z.HASH_BYTES + 1
    assert v2[start : start + len(head) + 1] == head + b"\x01"
    body = v2[:2] + b"\x01" + v2[3 : start + len(head)] + v2[start + len(head) + 1 : -4]
    v1 = body + struct.pack("<I", zlib.crc32(X[3:4].tobytes(), zlib.crc32(body)))
    assert np.array_equal(Z.decompress(v1), X[3:4])
    assert Z.header_info(v1)["candidates"] == 1


def test_bad_search_options_are_clear_errors(vae):
    for bad in (-1, 2.5, True, 10**6):
        with pytest.raises(ValueError, match="refine"):
            Z.compress(X[:2], vae, "ad*", refine=bad)
    for bad in (0, 1.5, True, 5000):
        with pytest.raises(ValueError, match="candidates"):
            Z.compress(X[:2], vae, "ad*", candidates=bad)


def test_cli_refine_and_candidates(tmp_path):
    from rec_bench.cli import main

    np.save(tmp_path / "in.npy", X[:6])
    assert main(["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "a.rbz"), "--model", "isokl",
                 "--method", "dad*", "--depth", "4", "--code", "model", "--refine", "--candidates", "4"]) == 0
    assert Z.header_info((tmp_path / "a.rbz").read_bytes())["candidates"] == 4
    assert main(["decompress", str(tmp_path / "a.rbz"), "-o", str(tmp_path / "out.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), X[:6])
    args = ["compress", str(tmp_path / "in.npy"), "-o", str(tmp_path / "b.rbz"), "--candidates", "0"]
    assert main(args) == 2


def test_sender_searches_without_jax_are_a_clear_error(vae, monkeypatch):
    """Compressing and decompressing need no JAX; the searches say which extra they need."""
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now raises ImportError
    data = Z.compress(X[:2], vae, "ad*")
    assert np.array_equal(Z.decompress(data), X[:2])
    for opts in ({"refine": 5}, {"candidates": 3}):
        with pytest.raises(ValueError, match=r"rec_bench\[vae\]"):
            Z.compress(X[:2], vae, "ad*", **opts)
