"""User-defined targets: ``Custom(logpdf, params)`` against a built-in proposal.

``logpdf`` is a Numba ``@njit`` function ``logpdf(x, params) -> float`` of a normalised density
on the real line (``params`` a float64 array). Paired with a Normal, Laplace or Uniform proposal
whose density ratio r = q / p is unimodal, it works with every method.

How it reaches compiled code. For each (logpdf, proposal kind) a ``numba.cfunc`` is compiled once
that evaluates log r in the proposal's standard coordinates z (x = loc + scale z):
``log r(z) = logpdf(loc + scale z, params) + log scale - log p_std(z)``. Its address and the
address of a small data array (loc, scale, log scale, number of params, params...) travel in the
pair's kernel parameter row, and the search kernels call it through a function pointer (an LLVM
``inttoptr`` + ``call``). So one compiled search serves every custom target (no recompilation per
target, on-disk caching intact), at the cost of an indirect, non-inlined call per evaluation of
log r: see ``make bench`` for the cost per step.

What is computed numerically, and how accurately (``CustomPair`` holds the numbers):

* The mode z* of log r: a grid over the proposal's usable range (standard Normal: |z| <= 40,
  standard Laplace: |z| <= 745, Uniform: [0, 1]; 32,001 points), refined around the best point,
  then zoomed in (65 points per round, the bracket shrinking 32-fold a round) until the bracket is
  a few ulps wide or log r is flat to rounding across it (at a smooth maximum that leaves the mode
  known to about sqrt(machine epsilon), relative, and its value to rounding). D_inf is the
  largest log r found. Because the zoom keeps a bracket, the true
  sup exceeds it by at most (local slope) x (bracket width); this is checked to be below the
  slack ``SLACK(D) = 1e-9 (1 + |D_inf|)`` nats, and the kernels use D_inf + slack as their bound
  (a bound above the sup costs nothing but a tiny fraction of a step; one below it would bias).
* Unimodality: on the grid (and the refinement), log r must not decrease before the mode or
  increase after it by more than 1e-10 (1 + |log r|) (rounding). A ratio that does is refused
  ("not unimodal"); so is a ratio whose maximum sits at the edge of an unbounded proposal's range
  (log r grows without bound: D_inf infinite), a logpdf that returns NaN, and a target whose mass
  on the proposal's support differs from 1 by more than 1e-6 (not normalised, or mass where the
  proposal has none, which also makes D_inf infinite). A bump narrower than the grid spacing
  (0.0025 standard deviations of a Normal proposal) can escape the unimodality check.
* KL = E_Q[log r] by adaptive quadrature (scipy.integrate.quad, split at the mode, over the region
  where the target's density is within e^-50 of its peak); ``kl_error`` is quad's error estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.extending import intrinsic

from .distributions import Distribution, Laplace, Normal, Uniform
from . import gaussian, laplace, triangular

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
LN2 = math.log(2.0)
GRID = 32_001
ZOOM = 65
UNIMODAL_TOL = 1e-10
MASS_TOL = 1e-6
TAIL = 50.0  # nats below the target's peak density that the quadrature region reaches


@njit(inline="always")
def slack(d):
    """What the kernels add to the numerical D_inf to make it a safe upper bound (nats)."""
    return 1e-9 * (1.0 + abs(d))


# --- calling a compiled log r through its address ----------------------------------------------

@intrinsic
def _call(typingctx, fn, z, data):
    """``(*fn)(z, data)`` for a cfunc ``double f(double, double*)`` at address ``fn``."""
    sig = types.float64(types.int64, types.float64, types.int64)

    def codegen(context, builder, signature, args):
        dbl = ir.DoubleType()
        fnty = ir.FunctionType(dbl, [dbl, dbl.as_pointer()])
        f = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(f, [args[1], builder.inttoptr(args[2], dbl.as_pointer())])

    return sig, codegen


@njit(cache=True, inline="always")
def logr(prm, z):
    """log r at z: prm = (D_inf bound, mode, address of the cfunc, address of its data)."""
    return _call(np.int64(prm[2]), z, np.int64(prm[3]))


@njit(cache=True, inline="always")
def mode(prm):
    return prm[1]


@njit(cache=True, inline="always")
def sup_logr(prm, a, b):
    """An upper bound of log r on [a, b]: D_inf (+ slack) if the mode is inside, else the value at
    the nearer endpoint plus the slack that covers the mode's numerical error."""
    m = prm[1]
    if a <= m <= b:
        return prm[0]
    return min(logr(prm, min(max(m, a), b)) + slack(prm[0]), prm[0])


@njit(cache=True)
def evaluate(fn, data, z):
    """log r (or the plain logpdf, for the "none" proposal) at every point of z."""
    out = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        out[i] = _call(fn, z[i], data)
    return out


# log density of each proposal in its standard coordinates
@njit(inline="always")
def _std_normal(z):
    return -0.5 * z * z - LOG_SQRT_2PI


@njit(inline="always")
def _std_laplace(z):
    return -abs(z) - LN2


@njit(inline="always")
def _std_flat(z):
    return 0.0


_STD_NUMPY = {"Normal": lambda z: -0.5 * z * z - LOG_SQRT_2PI, "Laplace": lambda z: -np.abs(z) - LN2,
              "Uniform": lambda z: np.zeros_like(z)}
_STD = {"Normal": _std_normal, "Laplace": _std_laplace, "Uniform": _std_flat, "none": _std_flat}
_SIG = types.float64(types.float64, types.CPointer(types.float64))


_CFUNCS = {}  # (logpdf, proposal kind) -> cfunc: compiled once per process, shared by all params


def _compile(logpdf, kind):
    key = (logpdf, kind)
    if key not in _CFUNCS:
        _CFUNCS[key] = _make_cfunc(logpdf, kind)
    return _CFUNCS[key]


def _make_cfunc(logpdf, kind):
    std = _STD[kind]

    def logr_std(z, data):
        head = carray(data, 4)
        n = np.int64(head[3])
        params = carray(data, 4 + n)[4:]
        return logpdf(head[0] + head[1] * z, params) + head[2] - std(z)

    return cfunc(_SIG)(logr_std)


# --- the target --------------------------------------------------------------------------------

class Custom(Distribution):
    """A target with a user-defined log density ``logpdf(x, params)`` (a Numba @njit function).

    ``params`` is a 1-D float64 array (any length) passed to every call. The density must be
    normalised and, against the proposal it is paired with, have a unimodal ratio with finite
    D_inf; rec_bench checks both numerically (see rec_bench.pairs.custom). Scalar only: one target
    per object.
    """

    _fields = ()

    def __init__(self, logpdf, params=(), name=None):
        if not hasattr(logpdf, "py_func") or not hasattr(logpdf, "compile"):
            raise ValueError("Custom needs a numba @njit function logpdf(x, params) -> float, "
                             f"got {logpdf!r}")
        self.logpdf_fn = logpdf
        self.params = np.ascontiguousarray(np.atleast_1d(np.asarray(params, dtype=np.float64)))
        if self.params.ndim != 1:
            raise ValueError(f"Custom params must be a 1-D array, got shape {self.params.shape}")
        if not np.all(np.isfinite(self.params)):
            raise ValueError(f"Custom params must be finite, got {self.params!r}")
        self.name = name or getattr(logpdf, "__name__", "custom")
        self.shape = ()
        self._pairs = {}
        self._last = None

    def __repr__(self):
        return f"Custom({self.name}, params={self.params.tolist()})"

    def __eq__(self, other):
        return (type(other) is Custom and other.logpdf_fn is self.logpdf_fn
                and np.array_equal(other.params, self.params))

    __hash__ = None

    def cfunc(self, kind):
        return _compile(self.logpdf_fn, kind)

    def logpdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        data = np.concatenate([[0.0, 1.0, 0.0, self.params.size], self.params])
        out = evaluate(self.cfunc("none").address, data.ctypes.data, np.ascontiguousarray(x.ravel()))
        return out.reshape(x.shape)

    def analyse(self, p):
        """The :class:`CustomPair` of this target against proposal ``p`` (computed once)."""
        if p.shape != ():
            raise ValueError(f"a Custom target is one distribution: pair {self!r} with a proposal of scalar "
                             f"parameters, not one of shape {p.shape} (code a vector of custom targets "
                             "coordinate by coordinate)")
        key = (type(p).__name__, *(float(v) for v in p.params()))
        if key not in self._pairs:
            self._pairs[key] = CustomPair.of(self, p)
        self._last = self._pairs[key]
        return self._last

    def scipy(self):
        """A frozen-distribution stand-in (cdf, logpdf, pdf, mean, var, std) by quadrature; it needs
        the region found when the target was last paired with a proposal."""
        if self._last is None:
            raise ValueError(f"{self!r} has not been paired with a proposal yet: its CDF is computed "
                             "over the region found then (call rb.kl(q, p) or encode first)")
        return self._last.stats()

    def mean(self):
        return self.scipy().mean()

    def var(self):
        return self.scipy().var()

    def cdf(self, x):
        return self.scipy().cdf(x)

    def ppf(self, u):
        raise NotImplementedError("Custom targets have no quantile function")

    def rvs(self, size=None, random_state=None):
        raise NotImplementedError("draw samples of a Custom target with rb.encode or rb.simulate")


_KIND = {Normal: ("Normal", gaussian, 40.0), Laplace: ("Laplace", laplace, 745.0),
         Uniform: ("Uniform", triangular, None)}


@dataclass
class CustomPair:
    """A Custom target analysed against one proposal (standard coordinates z of the proposal)."""

    target: Custom
    kind: str
    loc: float
    scale: float
    data: np.ndarray  # the cfunc's data: loc, scale, log scale, n, params
    fn: int  # the cfunc's address
    mode: float  # z*
    dinf: float  # nats, the largest log r found
    kl: float  # nats
    kl_error: float  # quad's error estimate, nats
    z_lo: float  # region holding all but ~e^-50 of the target's peak density
    z_hi: float

    @classmethod
    def of(cls, q, p):
        if type(p) not in _KIND:
            raise ValueError("a Custom target needs a Normal, Laplace or Uniform proposal, "
                             f"got {type(p).__name__}")
        kind, module, reach = _KIND[type(p)]
        loc, scale = (float(v) for v in module.proposal_map(p))
        data = np.concatenate([[loc, scale, math.log(scale), q.params.size], q.params])
        fn = q.cfunc(kind).address
        if fn >= 2**53 or data.ctypes.data >= 2**53:
            raise ValueError("this platform's addresses do not fit a float64 kernel parameter")

        def f(z):
            return evaluate(fn, data.ctypes.data, np.ascontiguousarray(z, dtype=np.float64))

        lo, hi = (-reach, reach) if reach else (0.0, 1.0)
        z = np.linspace(lo, hi, GRID)
        v = f(z)
        cls._check_values(q, p, z, v, loc, scale)
        k = int(np.argmax(v))
        if not np.isfinite(v[k]):
            raise ValueError(f"{q!r} has zero density everywhere on the proposal {p!r}'s support")
        if reach and k in (0, GRID - 1):
            raise ValueError(
                f"the density ratio of {q!r} to {p!r} grows toward the edge of the proposal's range "
                f"(x = {loc + scale * z[k]:g}): the target's tail is heavier than the proposal's, so "
                "D_inf is infinite")
        # refine around the best grid point, then zoom into the maximum
        a, b = z[max(k - 50, 0)], z[min(k + 50, GRID - 1)]
        zf = np.linspace(a, b, 20_001)
        vf = f(zf)
        cls._check_values(q, p, zf, vf, loc, scale)
        z_all = np.concatenate([z, zf])
        order = np.argsort(z_all, kind="stable")
        cls._check_unimodal(q, p, z_all[order], np.concatenate([v, vf])[order], loc, scale)
        m, d, width, slope = cls._zoom(f, zf, vf)
        if slope * width > 0.5 * float(slack(d)):
            raise ValueError(f"the mode of the density ratio of {q!r} to {p!r} could not be located "
                             f"to the accuracy the search needs (slope {slope:g} over {width:g})")
        # the region where the target's density is within e^-TAIL of its peak
        logq = v + _STD_NUMPY[kind](z)
        inside = np.flatnonzero(logq > np.max(logq) - TAIL)
        z_lo = z[max(inside[0] - 1, 0)]
        z_hi = z[min(inside[-1] + 1, GRID - 1)]
        z_lo, z_hi = min(z_lo, a), max(z_hi, b)
        mass, kl, kl_err = cls._integrals(f, kind, z_lo, z_hi, m)
        if abs(mass - 1.0) > MASS_TOL:
            raise ValueError(
                f"{q!r} has total mass {mass:.9g} on the support of {p!r}, not 1: logpdf must be a "
                "normalised density, and a target with mass where the proposal has none has an "
                "infinite D_inf")
        return cls(q, kind, loc, scale, data, fn, m, d, kl, kl_err, z_lo, z_hi)

    @staticmethod
    def _check_values(q, p, z, v, loc, scale):
        bad = np.isnan(v) | (v == np.inf)
        if bad.any():
            x = loc + scale * z[np.flatnonzero(bad)[0]]
            raise ValueError(f"{q!r}: logpdf returned {v[bad][0]} at x = {x:g}")

    @staticmethod
    def _check_unimodal(q, p, z, v, loc, scale):
        k = int(np.argmax(v))
        tol = UNIMODAL_TOL * (1.0 + np.abs(np.where(np.isfinite(v), v, 0.0)))
        with np.errstate(invalid="ignore"):
            rise = np.diff(v)  # -inf - -inf = nan: flat zero region, fine
        rise = np.nan_to_num(rise, nan=0.0)
        down_before = np.flatnonzero(rise[:k] < -tol[1:k + 1])
        up_after = np.flatnonzero(rise[k:] > tol[k + 1:])
        if down_before.size or up_after.size:
            i = down_before[0] if down_before.size else k + up_after[0]
            raise ValueError(
                f"the density ratio of {q!r} to {p!r} is not unimodal: "
                f"it {'falls' if down_before.size else 'rises'} "
                f"at x = {loc + scale * z[i]:g} on the {'near' if down_before.size else 'far'} side of its "
                f"maximum at x = {loc + scale * z[k]:g}; A* coding needs a unimodal ratio")

    @staticmethod
    def _zoom(f, z, v):
        k = int(np.argmax(v))
        a, b = z[max(k - 1, 0)], z[min(k + 1, z.size - 1)]
        best_z, best_v = z[k], v[k]
        for _ in range(20):
            if b - a <= 4 * np.spacing(max(abs(a), abs(b), 1e-300)):
                break
            zz = np.linspace(a, b, ZOOM)
            vv = f(zz)
            j = int(np.argmax(vv))
            if vv[j] > best_v:
                best_z, best_v = zz[j], vv[j]
            a, b = zz[max(j - 1, 0)], zz[min(j + 1, ZOOM - 1)]
        ends = f(np.array([a, b]))
        width = b - a
        finite = width > 0 and np.all(np.isfinite(ends))
        slope = float(np.max(np.abs(ends - best_v)) / width) if finite else 0.0
        return float(best_z), float(best_v), float(width), slope

    @staticmethod
    def _integrals(f, kind, z_lo, z_hi, m):
        from scipy import integrate

        std = _STD[kind].py_func

        def logq(t):
            return float(f(np.array([t]))[0]) + std(t)

        def density(t):
            return math.exp(logq(t))

        def klterm(t):
            lq = logq(t)
            return math.exp(lq) * (lq - std(t)) if lq > -math.inf else 0.0

        opts = dict(limit=400, epsabs=1e-13, epsrel=1e-11)
        pts = [m] if z_lo < m < z_hi else None
        mass = integrate.quad(density, z_lo, z_hi, points=pts, **opts)[0]
        kl, err = integrate.quad(klterm, z_lo, z_hi, points=pts, **opts)
        return mass, kl, err

    def kernel_row(self):
        return np.array([self.dinf + float(slack(self.dinf)), self.mode, float(self.fn),
                         float(self.data.ctypes.data)])

    def stats(self):
        if not hasattr(self, "_stats"):
            self._stats = _QuadratureStats(self)
        return self._stats


class _QuadratureStats:
    """cdf, pdf, logpdf, mean, var and std of a Custom target by Gauss-Legendre quadrature.

    A table of the CDF at 4,097 nodes over the target's region (plus its mode), 20-point
    Gauss-Legendre on each panel; the CDF at x adds the integral from the node below x.
    """

    def __init__(self, pair):
        self.q = pair.target
        lo = pair.loc + pair.scale * pair.z_lo
        hi = pair.loc + pair.scale * pair.z_hi
        mode = pair.loc + pair.scale * pair.mode
        nodes = np.unique(np.concatenate([np.linspace(lo, hi, 4097), [mode]]))
        self.gx, self.gw = np.polynomial.legendre.leggauss(20)
        a, b = nodes[:-1], nodes[1:]
        mass = self._panels(a, b, lambda x: 1.0)
        first = self._panels(a, b, lambda x: x)
        self.nodes = nodes
        self.cum = np.concatenate([[0.0], np.cumsum(mass)])
        self.total = total = self.cum[-1]
        self.cum /= total
        self._mean = float(np.sum(first) / total)
        second = self._panels(a, b, lambda x: (x - self._mean) ** 2)
        self._var = float(np.sum(second) / total)

    def _panels(self, a, b, g):
        half = 0.5 * (b - a)
        x = (0.5 * (a + b))[:, None] + half[:, None] * self.gx[None, :]
        dens = np.exp(self.q.logpdf(x))
        return half * np.sum(self.gw[None, :] * dens * g(x), axis=1)

    def cdf(self, x):
        x = np.asarray(x, dtype=np.float64)
        flat = np.clip(x.ravel(), self.nodes[0], self.nodes[-1])
        k = np.clip(np.searchsorted(self.nodes, flat, side="right") - 1, 0, self.nodes.size - 2)
        part = self._panels(self.nodes[k], flat, lambda t: 1.0) / self.total
        out = np.clip(self.cum[k] + part, 0.0, 1.0)
        return out.reshape(x.shape) if x.ndim else float(out[0])

    def logpdf(self, x):
        return self.q.logpdf(x)

    def pdf(self, x):
        return np.exp(self.q.logpdf(x))

    def mean(self):
        return self._mean

    def var(self):
        return self._var

    def std(self):
        return math.sqrt(self._var)


class CustomFamily:
    """The pair family of a Custom target against one kind of built-in proposal; the proposal's
    compiled functions are the built-in family's own, so a decoder needs nothing custom."""

    TARGET = Custom

    def __init__(self, proposal_module):
        self.PROPOSAL = proposal_module.PROPOSAL
        for name in ("logcdf", "logsf", "ppf_logcdf", "ppf_logsf", "LOWER", "UPPER", "proposal_map"):
            setattr(self, name, getattr(proposal_module, name))
        self.logr, self.mode, self.sup_logr = logr, mode, sup_logr

    def __repr__(self):
        return f"<pair family Custom/{self.PROPOSAL.__name__}>"

    def example(self):
        """A representative pair: a target from rec_bench.pairs.examples against this proposal."""
        from . import examples

        if self.PROPOSAL is Uniform:
            return Custom(examples.beta, [2.0, 3.0]), Uniform(0.0, 1.0)
        return Custom(examples.normal, [0.8, 0.45]), self.PROPOSAL(0.2, 1.3)

    @staticmethod
    def kl(q, p):
        return np.asarray(q.analyse(p).kl)

    @staticmethod
    def dinf(q, p):
        return np.asarray(q.analyse(p).dinf)

    @staticmethod
    def kernel_params(q, p):
        pair = q.analyse(p)
        return pair.kernel_row(), np.asarray(pair.loc), np.asarray(pair.scale)


FAMILIES = tuple(CustomFamily(m) for m in (gaussian, laplace, triangular))
