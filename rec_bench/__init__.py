"""rec_bench: relative entropy coding with A* coding and its baselines, compiled with Numba.

The pipeline: pairs (target Q, proposal P) -> search kernels -> codes -> codecs -> simulate.
"""

from . import _cache

_cache.refresh()  # before any kernel is loaded from Numba's on-disk cache

from .codecs import DEFAULT_MAX_STEPS, BudgetExceeded, Code, decode, encode
from .methods import METHODS
from .pairs import Custom, Laplace, Normal, Triangular, Uniform, dinf, fixed_kl, gaussian_channel, kl
from .simulate import simulate
from ._warmup import warmup


def _version():
    from importlib import metadata

    try:
        return metadata.version("rec_bench")  # one place: pyproject.toml
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


__version__ = _version()

_STREAMS = ("encode_vector", "decode_vector", "StreamEncoder", "StreamDecoder", "IndexModel", "VectorCode")


def __getattr__(name):  # the stream API, imported on first use (it loads constriction)
    if name in _STREAMS:
        from . import streams

        return getattr(streams, name)
    raise AttributeError(f"module 'rec_bench' has no attribute {name!r}")


__all__ = [*_STREAMS, 
    "Normal", "Laplace", "Uniform", "Triangular", "Custom", "kl", "dinf", "fixed_kl", "gaussian_channel",
    "encode", "decode", "Code", "METHODS", "BudgetExceeded", "DEFAULT_MAX_STEPS", "simulate", "warmup",
]
