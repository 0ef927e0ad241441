"""scipy.special's Cython exports bound into Numba.

Each function is looked up in ``scipy.special.cython_special.__pyx_capi__``, its address is
registered with ``llvmlite.binding.add_symbol`` under a stable name, and it is called through
``numba.types.ExternalFunction``. Binding through ctypes function pointers would make Numba
refuse ``cache=True`` ("dynamic globals"); a named external symbol keeps on-disk caching working,
because the cached object code refers to the symbol by name and this module registers the name on
import, before any cached kernel is loaded.

Only the double-precision specialisations are bound. The Cython signature is
``double f(double, int skip_dispatch)``; the second argument is ignored for module-level functions.
"""

import ctypes

import llvmlite.binding as llvm
import scipy.special.cython_special as _cs
from numba import njit, types

# exported name in cython_special -> name we register it under
_EXPORTS = {
    "ndtr": "__pyx_fuse_1ndtr",
    "log_ndtr": "__pyx_fuse_1log_ndtr",
    "ndtri": "ndtri",
    "ndtri_exp": "ndtri_exp",
}

_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]
_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _address(export):
    capsule = _cs.__pyx_capi__[export]
    return _capsule_pointer(capsule, _capsule_name(capsule))


_SIG = types.float64(types.float64, types.int32)
_ext = {}
for _name, _export in _EXPORTS.items():
    _symbol = "rec_bench_scipy_" + _name
    llvm.add_symbol(_symbol, _address(_export))
    _ext[_name] = types.ExternalFunction(_symbol, _SIG)

_ndtr = _ext["ndtr"]
_log_ndtr = _ext["log_ndtr"]
_ndtri = _ext["ndtri"]
_ndtri_exp = _ext["ndtri_exp"]


@njit(cache=True, inline="always")
def ndtr(x):
    """Standard normal CDF."""
    return _ndtr(x, 0)


@njit(cache=True, inline="always")
def log_ndtr(x):
    """log of the standard normal CDF, accurate far into the lower tail."""
    return _log_ndtr(x, 0)


@njit(cache=True, inline="always")
def ndtri(p):
    """Standard normal quantile function."""
    return _ndtri(p, 0)


@njit(cache=True, inline="always")
def ndtri_exp(y):
    """Standard normal quantile of exp(y): the inverse of log_ndtr."""
    return _ndtri_exp(y, 0)
