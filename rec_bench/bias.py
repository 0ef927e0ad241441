"""Bias of a method's decoded samples against the target Q, and how small a bias the test can see.

``bias(method, q, p, n=100_000, seed=0, **options)`` encodes ``n`` messages with ``method`` (through
:func:`rec_bench.simulate`, so the samples are exactly what the decoder would return), and
``bias_of_samples(samples, q)`` measures any array of samples against Q. Both return a
:class:`BiasResult`.

What is measured (all from scipy.stats):

* ``ks``, ``ks_pvalue``: the Kolmogorov-Smirnov distance sup_x |F_n(x) - F_Q(x)| between the
  empirical CDF of the samples and Q's CDF (``scipy.stats.kstest(samples, q.scipy().cdf)``), and its
  exact two-sided p-value. For an array-valued Q (one target per message, e.g. the Gaussian
  channel) the samples are first mapped through their own target's CDF (u_j = F_{Q_j}(x_j), the
  probability integral transform) and tested against Uniform(0, 1); for a scalar Q that is the same
  statistic.
* The noise floor, i.e. what an exact method shows at the same n:
  ``ks_scale`` = the 95% quantile of the Kolmogorov distribution of the KS distance of n exact
  samples (``scipy.stats.kstwo(n).ppf(0.95)``, about 1.36 / sqrt(n)); ``ks_critical`` = its
  1 - alpha quantile (alpha = 1e-3 by default: about 1.95 / sqrt(n)), the smallest KS distance that
  is flagged; and ``floor`` = the KS distance measured for an exact method (AD* by default) on the
  same pair with the same n and seeds disjoint from the method's (``bias`` only; ``None`` when no
  floor run was asked for).
* ``mean_rel_err`` = (sample mean - E_Q X) / |E_Q X| with standard error ``mean_se`` =
  (sample sd / sqrt(n)) / |E_Q X|; when E_Q X = 0 both are taken relative to Q's standard
  deviation instead (``mean_relative_to`` says which). ``var_rel_err`` = sample variance / Var_Q - 1
  with standard error ``var_se`` = sqrt((m4 - s^4 (n - 3) / (n - 1)) / n) / Var_Q (m4 the sample's
  4th central moment, s^2 its unbiased variance). ``mean_z`` and ``var_z`` are the errors in units of
  their standard errors. For an array-valued Q these are computed on the standardised samples
  (x_j - E Q_j) / sd Q_j against mean 0 and variance 1, relative to the standard deviation.

How it decides (``detected``): the bias is detected when the KS test rejects exactness at level
alpha, i.e. ``ks_pvalue < alpha``, which is the same as ``ks > ks_critical``. This is the only
decision rule; the floor and the moment errors are reported so that a reader can judge the size
of the bias, but they do not enter ``detected``. With alpha = 1e-3 an exact method is flagged in
one run out of a thousand. At n = 100,000, ``ks_critical`` = 0.0062: a bias whose KS distance
is above about 0.006 is flagged; for a Gaussian Q that is a mean shift of about 0.015 standard
deviations (KS distance of a shift of d sd is about 0.40 d) or a scale error of about 2.6% (about
0.24 times the relative sd error).
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

DEFAULT_N = 100_000
DEFAULT_ALPHA = 1e-3
FLOOR_METHOD = "ad*"
_SEED_BLOCK = 2**33  # each seed owns seeds [seed * 2^33, (seed + 1) * 2^33): method, then floor


@dataclass(frozen=True)
class BiasResult:
    """The bias of n samples against Q (see the module docstring for definitions)."""

    n: int
    ks: float
    ks_pvalue: float
    ks_scale: float  # 95% quantile of the KS distance of n exact samples
    ks_critical: float  # 1 - alpha quantile: the smallest flagged KS distance
    alpha: float
    detected: bool  # ks_pvalue < alpha  (<=> ks > ks_critical)
    mean_rel_err: float
    mean_se: float
    mean_z: float
    mean_relative_to: str  # "mean" or "sd"
    var_rel_err: float
    var_se: float
    var_z: float
    floor: float | None = None  # KS distance an exact method reached at the same n
    floor_pvalue: float | None = None
    floor_method: str | None = None
    method: str | None = None
    option: int | None = None  # DAD*'s depth D or ORC/MRC's K
    mean_steps: float | None = None
    mean_nbits: float | None = None

    @property
    def excess(self):
        """ks / ks_critical: below 1 the bias is not detected."""
        return self.ks / self.ks_critical

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        s = (f"n={self.n} KS={self.ks:.4g} (p={self.ks_pvalue:.3g}; critical {self.ks_critical:.3g}, "
             f"exact 95% {self.ks_scale:.3g}")
        if self.floor is not None:
            s += f", {self.floor_method} floor {self.floor:.3g}"
        return (s + f") mean err {self.mean_rel_err:+.3g}+-{self.mean_se:.2g} "
                f"var err {self.var_rel_err:+.3g}+-{self.var_se:.2g} "
                f"-> {'DETECTED' if self.detected else 'not detected'}")


def ks_quantile(n, level):
    """The ``level`` quantile of the KS distance of n exact samples (scipy.stats.kstwo)."""
    return float(stats.kstwo(int(n)).ppf(level))


def bias_of_samples(samples, q, *, alpha=DEFAULT_ALPHA):
    """The :class:`BiasResult` of an array of samples against the target ``q`` (a rec_bench
    distribution, scalar, or with one target per sample)."""
    x = np.asarray(samples, dtype=np.float64).ravel()
    n = x.size
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{int(np.sum(~np.isfinite(x)))} of the {n} samples are not finite "
                         "(censored messages?); the bias of a partial set is not measured")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    dist = q.scipy()
    shape = getattr(q, "shape", ())
    if shape == ():
        ks = stats.kstest(x, dist.cdf)
        mu, var = float(dist.mean()), float(dist.var())
        y = x
    else:
        if math.prod(shape) != n:
            raise ValueError(f"q has {math.prod(shape)} targets for {n} samples")
        xs = x.reshape(shape)
        ks = stats.kstest(dist.cdf(xs).ravel(), "uniform")
        y = ((xs - dist.mean()) / dist.std()).ravel()
        mu, var = 0.0, 1.0
    return _result(n, ks, y, mu, var, alpha)


def _result(n, ks, y, mu, var, alpha):
    """The BiasResult of a KS test result and the (standardised) samples y against mean mu, var."""
    m = float(np.mean(y))
    s2 = float(np.var(y, ddof=1))
    m4 = float(np.mean((y - m) ** 4))
    var_sd = math.sqrt(max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n)
    if mu != 0.0:
        ref, relative_to = abs(mu), "mean"
    else:
        ref, relative_to = math.sqrt(var), "sd"
    mean_err, mean_se = (m - mu) / ref, math.sqrt(s2 / n) / ref
    var_err, var_se = s2 / var - 1.0, var_sd / var
    return BiasResult(
        n=n, ks=float(ks.statistic), ks_pvalue=float(ks.pvalue),
        ks_scale=ks_quantile(n, 0.95), ks_critical=ks_quantile(n, 1 - alpha), alpha=alpha,
        detected=bool(ks.pvalue < alpha),
        mean_rel_err=mean_err, mean_se=mean_se, mean_z=mean_err / mean_se if mean_se > 0 else math.nan,
        mean_relative_to=relative_to,
        var_rel_err=var_err, var_se=var_se, var_z=var_err / var_se if var_se > 0 else math.nan,
    )


@dataclass(frozen=True)
class BlockBiasResult:
    """The bias of n block samples (n, b): each coordinate against its Q_j, and jointly.

    ``coordinates[j]``: the :class:`BiasResult` of coordinate j (its samples through Q_j's CDF,
    the probability integral transform u_j, tested against Uniform(0, 1)). ``joint``: the
    BiasResult of T = sum_j Phi^-1(u_j) / sqrt(b), which is N(0, 1) exactly when the block's
    samples are Q-distributed (independent coordinates, each of law Q_j); a shift common to the
    coordinates, or a dependence between them, moves its mean or its variance. ``detected``: the
    joint test, or any coordinate's, rejects at alpha / (b + 1) (Bonferroni over the b + 1 tests).
    """

    coordinates: tuple
    joint: BiasResult
    alpha: float
    detected: bool
    method: str | None = None
    option: int | None = None
    block: int | None = None
    mean_steps: float | None = None  # candidates per block
    mean_nbits: float | None = None  # code bits per block

    @property
    def ks(self):
        """The joint test's KS distance."""
        return self.joint.ks

    def __str__(self):
        worst = max(self.coordinates, key=lambda r: r.ks)
        return (f"joint: {self.joint}\nworst coordinate: {worst}\n-> "
                f"{'DETECTED' if self.detected else 'not detected'}")


def bias_of_block_samples(samples, q, *, alpha=DEFAULT_ALPHA):
    """The :class:`BlockBiasResult` of block samples (n, b) against the block target ``q`` (a
    rec_bench distribution whose parameters broadcast to (b,), or to (n, b): one block target per
    sample)."""
    from scipy.special import ndtri

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"block samples are an (n, b) array with n >= 2, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{int(np.sum(~np.isfinite(x)))} block samples are not finite (censored blocks?); "
                         "the bias of a partial set is not measured")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n, b = x.shape
    dist = q.scipy()
    try:
        u = np.broadcast_to(dist.cdf(x), x.shape)
        y = np.broadcast_to((x - dist.mean()) / dist.std(), x.shape)
    except ValueError:
        raise ValueError(f"q's parameters (shape {getattr(q, 'shape', ())}) do not broadcast to the "
                         f"samples' shape {x.shape}") from None
    coords = tuple(_result(n, stats.kstest(u[:, j], "uniform"), y[:, j], 0.0, 1.0, alpha) for j in range(b))
    t = ndtri(np.clip(u, 1e-300, 1 - 1e-16)).sum(axis=1) / math.sqrt(b)
    joint = _result(n, stats.kstest(t, "norm"), t, 0.0, 1.0, alpha)
    level = alpha / (b + 1)
    detected = bool(joint.ks_pvalue < level or any(r.ks_pvalue < level for r in coords))
    return BlockBiasResult(coordinates=coords, joint=joint, alpha=alpha, detected=detected, block=b)


def block_bias(method, q, p, n=DEFAULT_N, seed=0, *, block=None, alpha=DEFAULT_ALPHA, **options):
    """Encode n blocks of ``method`` for the block target q against p (parameters broadcast to
    (b,), b = ``block``, the default being all of q's coordinates) and measure their bias
    (:class:`BlockBiasResult`). ``options``: ``bits=K`` (ORC, MRC), ``max_steps``, ``code``."""
    from .pairs import resolve
    from .simulate import simulate_blocks

    shape = resolve(q, p).shape
    if len(shape) != 1:
        raise ValueError(f"a block target has parameters of shape (b,), got {shape}")
    b = shape[0] if block is None else int(block)
    if b != shape[0]:
        raise ValueError(f"the block target has {shape[0]} coordinates, block={b}")
    df = simulate_blocks(method, _tiled(q, n), _tiled(p, n), seeds_for(seed, n), block=b, **options)
    if df["censored"].any():
        raise ValueError(f"{int(df['censored'].sum())} of {n} {method} blocks were censored; raise max_steps")
    res = bias_of_block_samples(np.array(df["samples"].tolist()), q, alpha=alpha)
    return BlockBiasResult(**{**{f: getattr(res, f) for f in ("coordinates", "joint", "alpha", "detected")},
                              "method": str(method).lower(), "option": options.get("bits"), "block": b,
                              "mean_steps": float(df["steps"].mean()),
                              "mean_nbits": float(df["nbits"].astype(float).mean())})


def _tiled(dist, n):
    """``dist`` with its parameters broadcast to (n, b) (one row per block message); a distribution
    with scalar parameters is left as it is (it broadcasts)."""
    shape = getattr(dist, "shape", ())
    if shape == ():
        return dist
    fields = getattr(dist, "_fields", ())
    if not fields:
        raise ValueError(f"block_bias takes the built-in distributions, got {type(dist).__name__}")
    return type(dist)(*[np.ascontiguousarray(np.broadcast_to(getattr(dist, f), (n, *shape))) for f in fields])


def seeds_for(seed, n, floor=False):
    """The message seeds ``bias`` uses: disjoint for different ``seed``, and for the floor run."""
    if not 0 < n <= 2**32:
        raise ValueError(f"n must be in [1, 2**32], got {n}")
    if not 0 <= seed < 2**64 // _SEED_BLOCK:
        raise ValueError(f"seed must be in [0, {2**64 // _SEED_BLOCK}), got {seed}")
    start = int(seed) * _SEED_BLOCK + (2**32 if floor else 0)
    return np.arange(start, start + int(n), dtype=np.uint64)


def bias(method, q, p, n=DEFAULT_N, seed=0, *, alpha=DEFAULT_ALPHA, floor=FLOOR_METHOD, **options):
    """Encode n messages of ``method`` for the pair (q, p) and measure the bias of their samples.

    ``options`` go to :func:`rec_bench.simulate` (``depth=D`` for DAD*, ``bits=K`` for ORC/MRC,
    ``max_steps``). ``floor`` is the exact method whose KS distance at the same n, on seeds
    disjoint from the method's, is reported as the measured noise floor (``None`` to skip it).
    Raises ValueError if any message was censored (its step budget ran out).
    """
    from .simulate import simulate

    df = simulate(method, q, p, seeds_for(seed, n), **options)
    if df["censored"].any():
        raise ValueError(f"{int(df['censored'].sum())} of {n} {method} messages were censored; "
                         "raise max_steps")
    res = bias_of_samples(df["sample"].to_numpy(), q, alpha=alpha)
    extra = dict(method=str(method).lower(), option=options.get("depth", options.get("bits")),
                 mean_steps=float(df["steps"].mean()), mean_nbits=float(df["nbits"].astype(float).mean()))
    if floor is not None:
        fopts = {k: v for k, v in options.items() if k == "max_steps"}
        fdf = simulate(floor, q, p, seeds_for(seed, n, floor=True), **fopts)
        if fdf["censored"].any():
            raise ValueError(f"the {floor} floor run had censored messages; raise max_steps")
        fres = bias_of_samples(fdf["sample"].to_numpy(), q, alpha=alpha)
        extra.update(floor=fres.ks, floor_pvalue=fres.ks_pvalue, floor_method=str(floor).lower())
    return BiasResult(**{**res.as_dict(), **extra})
