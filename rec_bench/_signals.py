"""Ctrl-C inside compiled loops: ``interrupted()`` polls Python's pending signals.

Compiled code does not return to the interpreter, so a KeyboardInterrupt would wait until a long
kernel finishes. The long loops (search steps, candidate lists, batches of messages) call
``interrupted()`` every ``POLL`` iterations. It calls CPython's ``PyErr_CheckSignals`` (the kernels
hold the GIL), which runs the Python-level handler; if that raised (Ctrl-C), the exception is
cleared here and ``True`` returned, the kernel returns its INTERRUPTED status, and the Python
caller raises KeyboardInterrupt. The C functions are bound by name, as in rec_bench.special, so
on-disk caching keeps working.
"""

import ctypes

import llvmlite.binding as llvm
from numba import njit, types

POLL = 1 << 16  # iterations between polls: a poll costs ~10 ns, an iteration ~100 ns

for _name in ("PyErr_CheckSignals", "PyErr_Clear"):
    _address = ctypes.cast(getattr(ctypes.pythonapi, _name), ctypes.c_void_p).value
    llvm.add_symbol("rec_bench_" + _name, _address)
_check = types.ExternalFunction("rec_bench_PyErr_CheckSignals", types.int32())
_clear = types.ExternalFunction("rec_bench_PyErr_Clear", types.void())


@njit(cache=True)
def interrupted():
    """True if a signal handler raised (Ctrl-C) since the last poll; the error is cleared."""
    if _check() != 0:
        _clear()
        return True
    return False
