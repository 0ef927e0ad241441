"""The VAE and the IsoKL VAE at compression time: numpy float64, no JAX.

Both models are 2-hidden-layer ReLU MLPs with a d-dimensional latent, the prior N(0, I) and a
beta-binomial likelihood over each pixel's 256 values (n = 255 trials; Kingma and Welling 2014 for
the VAE, Townsend, Bird and Barber 2019 for this likelihood on MNIST).

* ``vae``: the encoder gives (mu, raw); the posterior scale is
  s = S_MIN + (S_MAX - S_MIN) * sigmoid(raw), strictly inside (0, 1), so that every coordinate's
  D_inf[N(mu, s^2) || N(0, 1)] = -ln s + mu^2 / (2 (1 - s^2)) is finite. A coordinate the model
  does not use collapses to s near S_MAX, mu near 0: KL about 0 and D_inf below a nat, still a valid
  pair for relative entropy coding.
* ``isokl``: the IsoKL VAE (Flamich, Markou and Hernandez-Lobato 2022, section on compression): the
  encoder gives only the means, mu = sqrt(2 kappa) (1 - DELTA) tanh(raw), so mu^2 / 2 < kappa, and
  each scale solves KL[N(mu, s^2) || N(0, 1)] = kappa with s < 1, i.e.
  s^2 - ln s^2 = 2 kappa + 1 - mu^2 (:func:`isokl_scale`). Every coordinate has KL = kappa nats.

The sender's side (encoder, -ELBO) may use any BLAS; the receiver's side, decoder network and pixel
probabilities, runs the fixed-order compiled kernels of ``_kernels`` so that both sides get
bit-identical tables (the file stores a hash of the weights; see ``rec_bench.compression``).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import gammaln

from . import _kernels as K

S_MIN = 1e-3
S_MAX = 1.0 - 2.0**-10
DELTA = 1e-3  # IsoKL means stay within (1 - DELTA) of the bound sqrt(2 kappa)
ALPHA_FLOOR = 1e-4  # beta-binomial alpha, beta = ALPHA_FLOOR + softplus(.)
N_PIXELS = 784
LN2 = math.log(2.0)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
KINDS = ("vae", "isokl")
_ENC = ("enc_w0", "enc_b0", "enc_w1", "enc_b1", "enc_w2", "enc_b2")
_DEC = ("dec_w0", "dec_b0", "dec_w1", "dec_b1", "dec_w2", "dec_b2")


def default_config(kind="vae", latent=20, hidden=500):
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {KINDS}")
    return {"kind": kind, "latent": int(latent), "hidden": int(hidden), "pixels": N_PIXELS,
            "s_min": S_MIN, "s_max": S_MAX, "delta": DELTA, "alpha_floor": ALPHA_FLOOR}


def param_shapes(config):
    d, h, p = config["latent"], config["hidden"], config["pixels"]
    enc_out = 2 * d if config["kind"] == "vae" else d
    shapes = {"enc_w0": (p, h), "enc_b0": (h,), "enc_w1": (h, h), "enc_b1": (h,), "enc_w2": (h, enc_out),
              "enc_b2": (enc_out,), "dec_w0": (d, h), "dec_b0": (h,), "dec_w1": (h, h), "dec_b1": (h,),
              "dec_w2": (h, 2 * p), "dec_b2": (2 * p,)}
    if config["kind"] == "isokl":
        shapes["kappa_raw"] = ()
    return shapes


def softplus(x):
    return np.logaddexp(0.0, x)


def kappa_of(raw):
    """kappa in nats from its unconstrained parameter (softplus)."""
    return float(softplus(np.float64(raw)))


def isokl_scale(mu, kappa, iterations=60):
    """The s in (0, 1) with KL[N(mu, s^2) || N(0, 1)] = kappa (nats), for mu^2 / 2 < kappa.

    Solves t - ln t = c with t = s^2 and c = 2 kappa + 1 - mu^2 > 1 by Newton's method on u = ln t
    from u = -c, which lies left of the root; g(u) = e^u - u - c is convex and decreasing there, so
    the iterates rise monotonically to the root (u = -t - ... never overshoots).
    """
    mu = np.asarray(mu, dtype=np.float64)
    c = 2.0 * kappa + 1.0 - mu * mu
    if np.any(~(c > 1.0)):
        raise ValueError("IsoKL means must satisfy mu^2 / 2 < kappa")
    u = -c
    for _ in range(iterations):
        e = np.exp(u)
        step = (e - u - c) / (e - 1.0)
        u_new = u - step
        if np.all(u_new == u):
            break
        u = np.minimum(u_new, 0.0)
    return np.exp(0.5 * u)


def gaussian_kl(mu, s):
    """KL[N(mu, s^2) || N(0, 1)] in nats, elementwise."""
    return 0.5 * (s * s + mu * mu - 1.0) - np.log(s)


@dataclass
class Model:
    """A trained model: its config and float64 parameters. ``hash`` names it in compressed files."""

    config: dict
    params: dict
    provenance: dict = field(default_factory=dict)
    hash: str = ""
    path: str | None = None

    def __post_init__(self):
        shapes = param_shapes(self.config)
        missing = set(shapes) - set(self.params)
        if missing:
            raise ValueError(f"model parameters missing: {sorted(missing)}")
        for k, shape in shapes.items():
            a = np.asarray(self.params[k], dtype=np.float64)
            if a.shape != tuple(shape):
                raise ValueError(f"parameter {k} has shape {a.shape}, expected {tuple(shape)}")
            if not np.all(np.isfinite(a)):
                raise ValueError(f"parameter {k} is not finite")
            self.params[k] = np.array(a, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        if not self.hash:
            self.hash = weights_hash(self.config, self.params)

    @property
    def kind(self):
        return self.config["kind"]

    @property
    def latent(self):
        return self.config["latent"]

    @property
    def kappa(self):
        """IsoKL: the per-coordinate KL in nats (None for the plain VAE)."""
        return kappa_of(self.params["kappa_raw"]) if self.kind == "isokl" else None

    # ---- sender side ----
    def encode(self, images):
        """Posterior (mu, s), each (n, d) float64, of uint8 images (n, 28, 28) or (n, 784)."""
        x = _as_input(images)
        p = self.params
        h = np.maximum(x @ p["enc_w0"] + p["enc_b0"], 0.0)
        h = np.maximum(h @ p["enc_w1"] + p["enc_b1"], 0.0)
        return self.posterior_of_output(h @ p["enc_w2"] + p["enc_b2"])

    def posterior_of_output(self, out):
        """Posterior (mu, s) from the encoder network's raw output (n, 2d for the VAE, d for IsoKL):
        the parameterisation that keeps s < 1, and KL = kappa in every IsoKL coordinate."""
        out = np.asarray(out, dtype=np.float64)
        d = self.latent
        if self.kind == "vae":
            mu = out[:, :d]
            s = self.config["s_min"] + ((self.config["s_max"] - self.config["s_min"])
                                        / (1.0 + np.exp(-out[:, d:])))
        else:
            kappa = self.kappa
            mu = math.sqrt(2.0 * kappa) * (1.0 - self.config["delta"]) * np.tanh(out)
            s = isokl_scale(mu, kappa)
        return np.ascontiguousarray(mu), np.ascontiguousarray(s)

    # ---- receiver side (deterministic) ----
    def decoder_params(self, z):
        """Beta-binomial (alpha, beta), each (n, 784), from latents z (n, d), in a fixed order."""
        z = np.ascontiguousarray(np.asarray(z, dtype=np.float64).reshape(-1, self.latent))
        p = self.params
        h = K.dense(z, p["dec_w0"], p["dec_b0"], True)
        h = K.dense(h, p["dec_w1"], p["dec_b1"], True)
        out = K.dense(h, p["dec_w2"], p["dec_b2"], False)
        floor = self.config["alpha_floor"]
        n = self.config["pixels"]
        return (K.softplus(np.ascontiguousarray(out[:, :n]), floor),
                K.softplus(np.ascontiguousarray(out[:, n:]), floor))

    def pixel_probabilities(self, z):
        """(n, 784, 256) float64 pixel tables from latents z (n, d); bit-identical across processes."""
        a, b = self.decoder_params(z)
        out = np.empty((a.size, K.N_VALUES))
        K.beta_binomial_table(a.ravel(), b.ravel(), out)
        return out.reshape(a.shape[0], a.shape[1], K.N_VALUES)

    # ---- the rate ----
    def kl_bits(self, mu, s):
        """Per-image KL[q(z|x) || p(z)] in bits, (n,)."""
        return gaussian_kl(mu, s).sum(axis=1) / LN2

    def nll_bits(self, images, z):
        """Per-image -log2 p(x | z) in bits (exact beta-binomial log-pmf), (n,)."""
        x = np.asarray(images).reshape(len(z), -1).astype(np.float64)
        a, b = self.decoder_params(z)
        n = float(K.N_TRIALS)
        logp = (gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1) + gammaln(x + a) + gammaln(n - x + b)
                - gammaln(n + a + b) - gammaln(a) - gammaln(b) + gammaln(a + b))
        return -logp.sum(axis=1) / LN2

    def elbo(self, images, samples=1, seed=0, batch=500, posterior=None):
        """-ELBO per image in bits, with its KL and reconstruction parts: a dict of (n,) arrays.

        The reconstruction term averages ``samples`` draws of z ~ q(z|x) per image (numpy's PCG64
        seeded by ``seed``). ``posterior``: (mu, s), each (n, d), to evaluate instead of the
        encoder's (for example a refined one, ``rec_bench.vae.refine``).
        """
        images = check_images(images)
        if posterior is not None:
            pmu, ps = (np.asarray(a, dtype=np.float64) for a in posterior)
            if pmu.shape != (len(images), self.latent) or ps.shape != pmu.shape:
                raise ValueError(f"posterior must be (mu, s), each of shape ({len(images)}, {self.latent})")
        rng = np.random.default_rng(seed)
        kl, rec = [], []
        for i in range(0, len(images), batch):
            x = images[i : i + batch]
            mu, s = self.encode(x) if posterior is None else (pmu[i : i + batch], ps[i : i + batch])
            kl.append(self.kl_bits(mu, s))
            r = np.zeros(len(x))
            for _ in range(samples):
                r += self.nll_bits(x, mu + s * rng.standard_normal(mu.shape))
            rec.append(r / samples)
        kl, rec = np.concatenate(kl), np.concatenate(rec)
        return {"kl_bits": kl, "rec_bits": rec, "nelbo_bits": kl + rec}

    def save(self, path, provenance=None):
        save_model(path, self.config, self.params, provenance or self.provenance)


def elbo_summary(parts, pixels=N_PIXELS):
    """Means and standard errors (over images) of an :meth:`Model.elbo` result."""
    n = len(parts["nelbo_bits"])
    out = {"images": n}
    for k in ("nelbo_bits", "kl_bits", "rec_bits"):
        v = parts[k]
        out[k] = float(v.mean())
        out[k + "_se"] = float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    out["nelbo_bpp"] = out["nelbo_bits"] / pixels
    out["nelbo_bpp_se"] = out["nelbo_bits_se"] / pixels
    return out


def check_images(images):
    a = np.asarray(images)
    if a.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (values 0..255), got dtype {a.dtype}")
    if a.ndim == 2 and a.shape[1] == N_PIXELS:
        return a.reshape(-1, 28, 28)
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise ValueError(f"images must have shape (n, 28, 28), got {a.shape}")
    return a


def _as_input(images):
    return check_images(images).reshape(-1, N_PIXELS).astype(np.float64) / 255.0


# ---- weights files ----

def weights_hash(config, params):
    """SHA-256 over the config (canonical JSON) and each parameter's float64 bytes, in name order."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for k in sorted(params):
        a = np.ascontiguousarray(np.asarray(params[k], dtype=np.float64))
        h.update(k.encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_model(path, config, params, provenance=None):
    """Write parameters as float32 (exactly representable when loaded as float64) to a .npz, the
    config inside it, and the provenance beside it as JSON (same name, .json)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, config=np.array(json.dumps(config, sort_keys=True)), **arrays)
    path.write_bytes(buf.getvalue())
    loaded = load_model(path, with_provenance=False)
    if provenance is not None:
        prov = dict(provenance)
        prov["model_hash"] = loaded.hash
        path.with_suffix(".json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n")
    return loaded


def load_model(name_or_path="vae", with_provenance=True):
    """A :class:`Model` from a weights file, or by name ('vae', 'isokl') from the committed weights."""
    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        p = WEIGHTS_DIR / f"{name_or_path}.npz"
    if not p.exists():
        raise FileNotFoundError(f"no model weights at {p}; train them with `make train-vae`")
    with np.load(p, allow_pickle=False) as z:
        if "config" not in z.files:
            raise ValueError(f"{p} is not a rec_bench model file (no config)")
        config = json.loads(str(z["config"]))
        params = {k: z[k].astype(np.float64) for k in z.files if k != "config"}
    prov = {}
    if with_provenance and p.with_suffix(".json").exists():
        prov = json.loads(p.with_suffix(".json").read_text())
    return Model(config, params, prov, path=str(p))
