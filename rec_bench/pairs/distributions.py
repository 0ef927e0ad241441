"""Frozen distributions in the style of scipy.stats, with scalar or array parameters.

They only describe a distribution; the pair modules turn a (target, proposal) pair of them into
kernel parameters. Each offers ``scipy()`` (the equivalent frozen scipy.stats object), ``logpdf``,
``cdf``, ``ppf``, ``mean`` and ``var``, and ``shape`` (the broadcast shape of its parameters).
"""

import numpy as np


def _param(name, value):
    a = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return a


class Distribution:
    _fields: tuple = ()

    def __init__(self, *values):
        for name, value in zip(self._fields, values):
            setattr(self, name, _param(name, value))
        self.shape = np.broadcast_shapes(*(getattr(self, f).shape for f in self._fields))

    def params(self):
        """The parameters, broadcast against each other, as a tuple of arrays."""
        return np.broadcast_arrays(*(getattr(self, f) for f in self._fields))

    def __repr__(self):
        inner = ", ".join(f"{f}={_fmt(getattr(self, f))}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other):
        return type(self) is type(other) and all(
            np.array_equal(getattr(self, f), getattr(other, f)) for f in self._fields
        )

    __hash__ = None

    def logpdf(self, x):
        return self.scipy().logpdf(x)

    def cdf(self, x):
        return self.scipy().cdf(x)

    def ppf(self, u):
        return self.scipy().ppf(u)

    def mean(self):
        return self.scipy().mean()

    def var(self):
        return self.scipy().var()

    def rvs(self, size=None, random_state=None):
        return self.scipy().rvs(size=size, random_state=random_state)


def _stats():
    from scipy import stats  # imported on first use: it costs half a second at start-up

    return stats


def _fmt(a):
    return repr(float(a)) if a.ndim == 0 else f"array(shape={a.shape})"


def _positive(name, a):
    if np.any(a <= 0):
        raise ValueError(f"{name} must be positive, got {a.min()!r}")


class Normal(Distribution):
    """N(loc, scale**2)."""

    _fields = ("loc", "scale")

    def __init__(self, loc=0.0, scale=1.0):
        super().__init__(loc, scale)
        _positive("scale", self.scale)

    def scipy(self):
        return _stats().norm(self.loc, self.scale)


class Laplace(Distribution):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    _fields = ("loc", "scale")

    def __init__(self, loc=0.0, scale=1.0):
        super().__init__(loc, scale)
        _positive("scale", self.scale)

    def scipy(self):
        return _stats().laplace(self.loc, self.scale)


class Uniform(Distribution):
    """Uniform on [low, high]."""

    _fields = ("low", "high")

    def __init__(self, low=0.0, high=1.0):
        super().__init__(low, high)
        if np.any(self.high <= self.low):
            raise ValueError("Uniform needs low < high")

    def scipy(self):
        return _stats().uniform(self.low, self.high - self.low)


class Triangular(Distribution):
    """Triangular on [low, high] with its peak at ``mode`` (low <= mode <= high)."""

    _fields = ("low", "mode", "high")

    def __init__(self, low=0.0, mode=0.5, high=1.0):
        super().__init__(low, mode, high)
        if np.any(self.high <= self.low):
            raise ValueError("Triangular needs low < high")
        if np.any((self.mode < self.low) | (self.mode > self.high)):
            raise ValueError("Triangular needs low <= mode <= high")

    def scipy(self):
        width = self.high - self.low
        return _stats().triang((self.mode - self.low) / width, self.low, width)
