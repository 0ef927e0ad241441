"""rec_bench: relative entropy coding with A* coding and its baselines, compiled with Numba.

The pipeline: pairs (target Q, proposal P) -> search kernels -> the coding layer (index codes,
sinks, the scalar, vector and stream codecs) -> simulate and the study runner -> results -> plots.
"""

from . import _cache

_cache.refresh()  # before any kernel is loaded from Numba's on-disk cache

from .coding import (  # noqa: E402
    DEFAULT_MAX_STEPS, BudgetExceeded, Code, IndexModel, StreamDecoder, StreamEncoder, VectorCode,
    coordinate_seed, decode, decode_vector, encode, encode_vector, message_seed,
)
from .methods import METHODS  # noqa: E402
from .pairs import Custom, Laplace, Normal, Triangular, Uniform, dinf, fixed_kl, gaussian_channel, kl  # noqa: E402
from .simulate import simulate  # noqa: E402
from ._warmup import warmup  # noqa: E402


def _version():
    from importlib import metadata

    try:
        return metadata.version("rec_bench")  # one place: pyproject.toml
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


__version__ = _version()

__all__ = [
    "Normal", "Laplace", "Uniform", "Triangular", "Custom", "kl", "dinf", "fixed_kl", "gaussian_channel",
    "encode", "decode", "Code", "encode_vector", "decode_vector", "VectorCode", "StreamEncoder",
    "StreamDecoder", "IndexModel", "coordinate_seed", "message_seed", "METHODS", "BudgetExceeded",
    "DEFAULT_MAX_STEPS", "simulate", "warmup",
]
