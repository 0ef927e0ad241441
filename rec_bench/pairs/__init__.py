"""Target/proposal pairs: which families are supported, their divergences, and their kernel form.

Supported pairs (target / proposal): Normal / Normal with any parameters, Laplace / Laplace,
Triangular / Uniform, and a user-defined ``Custom`` target against a Normal, Laplace or Uniform
proposal (rec_bench.pairs.custom). A pair with an infinite D_inf is refused with a ValueError that
names why. The families are listed in rec_bench.pairs.registry.
"""

import math
from typing import NamedTuple

import numpy as np

from .constructions import fixed_kl, gaussian_channel
from .custom import Custom
from .distributions import Laplace, Normal, Triangular, Uniform
from .registry import FAMILIES, FAMILY_NAMES

LN2 = np.log(2.0)

__all__ = [
    "Normal", "Laplace", "Uniform", "Triangular", "Custom", "kl", "dinf", "resolve", "Pair",
    "fixed_kl", "gaussian_channel", "FAMILY_NAMES",
]

def family_of(q, p):
    """The family number of the pair (q, p), or a ValueError naming the supported pairs."""
    for i, module in enumerate(FAMILIES):
        if type(q) is module.TARGET and type(p) is module.PROPOSAL:
            return i
    raise ValueError(
        f"unsupported pair: target {type(q).__name__} against proposal {type(p).__name__}; "
        f"supported target/proposal pairs: {', '.join(FAMILY_NAMES)}"
    )


def kl(q, p):
    """D_KL[Q || P] in bits, in closed form (array if the parameters are arrays)."""
    return _divergence("KL", FAMILIES[family_of(q, p)].kl, q, p)


def dinf(q, p):
    """D_inf[Q || P] = sup log2 dQ/dP in bits, in closed form. ValueError if it is infinite."""
    return _divergence("D_inf", FAMILIES[family_of(q, p)].dinf, q, p)


def _divergence(name, closed_form, q, p):
    with np.errstate(all="ignore"):  # an overflow shows as a non-finite value, refused here
        value = np.asarray(closed_form(q, p), dtype=np.float64) / LN2
    if not np.isfinite(value).all():
        raise ValueError(f"the pair's {name} is not representable in float64 (the target lies too far from "
                         "or is too narrow against the proposal)")
    return _scalar(value)


def _scalar(a):
    a = np.asarray(a, dtype=np.float64)
    return float(a) if a.ndim == 0 else a


class Pair(NamedTuple):
    """A pair prepared for compiled code: flattened parameter rows and the proposal's affine map."""

    family: int
    params: np.ndarray  # (n, 4): D_inf in nats, then family parameters in standard coordinates
    loc: np.ndarray  # (n,): x = loc + scale * z maps standard coordinates back
    scale: np.ndarray
    shape: tuple


def resolve(q, p, shape=None):
    """Validate (q, p) and prepare it for compiled code, broadcast to ``shape`` if given."""
    fam = family_of(q, p)
    qs, ps = getattr(q, "shape", ()), getattr(p, "shape", ())
    if qs != ps and qs and ps:
        try:
            np.broadcast_shapes(qs, ps)
        except ValueError:
            raise ValueError(f"the target's parameters (shape {qs}) do not broadcast against the "
                             f"proposal's (shape {ps})") from None
    with np.errstate(all="ignore"):  # an overflow or 0/0 shows as a non-finite parameter, refused below
        prm, loc, scale = FAMILIES[fam].kernel_params(q, p)
    out = prm.shape[:-1]
    if ((loc.ndim and loc.shape != out) or (scale.ndim and scale.shape != out)
            or (shape is not None and shape != out)):
        shapes = [prm.shape[:-1], loc.shape, scale.shape] + ([] if shape is None else [shape])
        try:
            out = np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(
                f"the pair's parameters (shape {prm.shape[:-1]}) do not broadcast against the seeds "
                f"(shape {shape})"
            ) from None
    # writable C-contiguous float64 arrays (a read-only view would be a second type to compile for),
    # copied unless the family made them afresh
    n = math.prod(out)
    prm = _rows(prm, out + (4,), (n, 4))
    if not np.isfinite(prm).all():
        raise ValueError("the pair's parameters give a non-finite D_inf or kernel parameter")
    return Pair(fam, prm, _rows(loc, out, (n,)), _rows(scale, out, (n,)), out)


def _rows(a, shape, flat):
    """``a`` broadcast to ``shape`` as a writable C-contiguous float64 array of shape ``flat``
    (``a`` itself, reshaped, when it already is one)."""
    if a.shape == shape and a.dtype == np.float64 and a.flags.c_contiguous and a.flags.writeable:
        return a.reshape(flat)
    if a.ndim == 0:
        return np.full(flat, float(a))
    return np.array(np.broadcast_to(a, shape).reshape(flat), dtype=np.float64, order="C")


def proposal_family(p, shape=()):
    """(family, loc, scale) of a proposal alone, all a decoder knows: loc and scale of P's affine
    map broadcast to ``shape`` and flattened (one element for a scalar message).

    The first family of each proposal in the registry is a built-in one; the custom families share
    its compiled proposal functions, so a decoder needs nothing of the target.
    """
    for i, module in enumerate(FAMILIES):
        if type(p) is module.PROPOSAL:
            loc, scale = module.proposal_map(p)
            for a in (loc, scale):
                if a.ndim and a.shape != shape:
                    try:
                        fits = np.broadcast_shapes(a.shape, shape) == shape
                    except ValueError:
                        fits = False
                    if not fits:
                        raise ValueError(f"the proposal's parameters (shape {a.shape}) do not broadcast to "
                                         f"the vector's shape {shape}")
            n = math.prod(shape)
            return i, _rows(loc, shape, (n,)), _rows(scale, shape, (n,))
    names = ", ".join(sorted({m.PROPOSAL.__name__ for m in FAMILIES}))
    raise ValueError(f"unsupported proposal {type(p).__name__}; supported proposals: {names}")
