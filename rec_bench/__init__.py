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

__version__ = "0.1.0"

__all__ = [
    "Normal", "Laplace", "Uniform", "Triangular", "Custom", "kl", "dinf", "fixed_kl", "gaussian_channel",
    "encode", "decode", "Code", "METHODS", "BudgetExceeded", "DEFAULT_MAX_STEPS", "simulate", "warmup",
]
