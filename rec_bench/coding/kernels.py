"""Rows of messages in one compiled call, coded against a bit buffer: two entry points per method.

``encode_rows`` searches every row (a scalar message, or one coordinate of a vector) and writes
its index code (rec_bench.coding.codes) into a bit buffer, or, with ``write`` off, only counts its
length (what ``rec_bench.simulate`` and the studies run); ``decode_rows`` reads the codes back and
rebuilds the samples from P and the seeds alone.

The two functions below are templates. ``entry(kind, method)`` compiles them for one method of
the registry, with that method's runner and decoder (rec_bench.search) and its index facts bound
as compile-time constants: a copy of the template's function object whose globals name them, under
its own name (``encode_rows__ad_star``, say), so Numba caches each method's entry points in their
own files. Compilation thus grows with the methods used, not with their product with every
caller, and editing one method's kernel leaves the other methods' compiled code valid
(rec_bench._cache drops only what depends on the edited file). Entry points are made on first use.

Row i of a batch of vectors of d coordinates is coordinate i % d of vector i // d; its seed is
``seeds[i // d]`` itself (``derive`` off: scalar messages, one per row) or
``coordinate_seed(seeds[i // d], i % d)``. With ``align`` > 0, each vector's code starts at a
multiple of ``align`` bits (the model-coded index sends each vector's path bits as whole 16-bit
symbols).
"""

import math
import types

import numpy as np
from numba import njit

from .. import randomness as rnd
from .._signals import interrupted
from ..search.workspace import path_of
from ..status import EMPTY_REGION, INDEX_TOO_LARGE, INTERRUPTED, OK, TRUNCATED
from .codes import (MAX_LIST_BITS, code_length, ensure, get_bit, get_uint, put_uint, read_head, set_bit,
                    write_head)

POLL_ROWS = 256  # rows between Ctrl-C polls (long searches also poll inside their own loops)

# Bound per method by ``entry``; these values only make the templates importable.
# runner(fam, prm, seed, max_steps, option, ws) -> (status, steps, drawn, z, bitlen, log2 index, node, ws)
RUN = None
DECODE = None  # decoder(fam, seed, path, index) -> (status, z)
IS_TREE = False  # the index is a heap index: 1 then the returned node's path
FIXED_LIST = False  # the index is a candidate index sent as index - OFFSET in a fixed width (ORC, MRC)
OFFSET = 0


def _encode_rows(fam, prm, loc, scale, seeds, d, derive, max_steps, option, width, code, write, align, buf,
                 pos, ws, status, counts, ideal, x):
    """Search rows 0 .. len(prm) - 1 and write their codes into ``buf`` from bit ``pos`` (zero
    from there; grown by doubling, so the returned buffer is the one to keep).

    ``prm`` (rows, 4), ``loc``, ``scale`` (rows,): the pair; ``option`` (rows,): the runner's
    option (DAD*'s depth, ORC's and MRC's 2^K); ``width`` (rows,): a fixed code's width; ``code``: a
    code of rec_bench.coding.codes. Fills ``status`` (rows,), ``counts`` (rows, 4: steps, samples
    drawn, index bit length, code bits; -1 code bits when censored), ``ideal`` (log2 index) and
    ``x`` (the sample, NaN when censored).

    Returns (status, row, pos, buf, ws). With ``write``, the first row that is not OK stops the
    call (status CENSORED or INTERRUPTED at ``row``); without, censored rows are recorded and the
    call goes on, and only INTERRUPTED stops it.
    """
    rows = prm.shape[0]
    for i in range(rows):
        if i % POLL_ROWS == POLL_ROWS - 1 and interrupted():
            return INTERRUPTED, i, pos, buf, ws
        j = i // d
        k = i - j * d
        s = rnd.coordinate_seed(seeds[j], k) if derive else seeds[j]
        if align > 0 and k == 0:
            pos = (pos + align - 1) // align * align
        st, steps, drawn, z, bitlen, lg, node, ws = RUN(fam, prm[i], s, max_steps, option[i], ws)
        status[i] = st
        counts[i, 0] = steps
        counts[i, 1] = drawn
        if st != OK:
            counts[i, 2] = 0
            counts[i, 3] = -1
            ideal[i] = math.nan
            x[i] = math.nan
            if write or st == INTERRUPTED:
                return st, i, pos, buf, ws
            continue
        x[i] = loc[i] + scale[i] * z
        ideal[i] = lg
        counts[i, 2] = bitlen
        clen = width[i] if FIXED_LIST else code_length(code, bitlen, width[i])
        counts[i, 3] = clen
        if not write:
            continue
        buf = ensure(buf, pos + clen + align)
        if FIXED_LIST:
            pos = put_uint(buf, pos, node - OFFSET, width[i])
            continue
        pos = write_head(buf, pos, code, bitlen, width[i])
        if IS_TREE:
            path = path_of(ws, node)
            for b in range(path.shape[0]):
                if path[b]:
                    set_bit(buf, pos + b)
            pos += path.shape[0]
        else:
            pos = put_uint(buf, pos, node, bitlen - 1)  # the index's bits below its top bit
    return OK, rows, pos, buf, ws


def _decode_rows(fam, loc, scale, seeds, d, derive, width, code, depths, align, buf, pos, end, x):
    """Read the codes of rows 0 .. len(loc) - 1 from bit ``pos`` of ``buf`` (``end``: the bits
    there are) and fill ``x`` with their samples; rows, seeds, ``width`` and ``align`` as for
    ``_encode_rows``; ``depths`` (rows,): each index's bit length minus one, for the ``PATH``
    code. Returns (status, row, pos): OK, or the error of rec_bench.status at ``row``."""
    rows = loc.shape[0]
    no_path = np.zeros(0, np.uint8)
    for i in range(rows):
        j = i // d
        k = i - j * d
        s = rnd.coordinate_seed(seeds[j], k) if derive else seeds[j]
        if align > 0 and k == 0:
            pos = (pos + align - 1) // align * align
        if FIXED_LIST:
            if pos + width[i] > end:
                return TRUNCATED, i, pos
            st, z = DECODE(fam, s, no_path, get_uint(buf, pos, width[i]) + OFFSET)
            pos += width[i]
        else:
            st, bitlen, pos = read_head(buf, pos, end, code, width[i], depths[i])
            if st != OK:
                return st, i, pos
            if pos + bitlen - 1 > end:
                return TRUNCATED, i, pos
            if IS_TREE:
                path = np.empty(bitlen - 1, np.uint8)
                for b in range(bitlen - 1):
                    path[b] = get_bit(buf, pos + b)
                st, z = DECODE(fam, s, path, 0)
            else:
                if bitlen > MAX_LIST_BITS:
                    return INDEX_TOO_LARGE, i, pos
                index = (np.int64(1) << (bitlen - 1)) | get_uint(buf, pos, bitlen - 1)
                st, z = DECODE(fam, s, no_path, index)
            pos += bitlen - 1
        if st != OK:
            return EMPTY_REGION, i, pos
        x[i] = loc[i] + scale[i] * z
    return OK, rows, pos


_TEMPLATES = {"encode": _encode_rows, "decode": _decode_rows}
_ENTRIES = {}


def slug(name):
    """A method name as part of a Python identifier: 'ad*' -> 'ad_star', 'gprs-dyadic' -> 'gprs_dyadic'."""
    return name.replace("*", "_star").replace("-", "_").replace(".", "_")


def entry(kind, method):
    """The compiled ``kind`` ('encode' or 'decode') entry point of ``method`` (a registry record)."""
    key = (kind, method.name)
    f = _ENTRIES.get(key)
    if f is None:
        template = _TEMPLATES[kind]
        constants = dict(template.__globals__)
        constants.update(RUN=method.runner, DECODE=method.decoder, IS_TREE=method.tree,
                         FIXED_LIST=method.fixed and not method.tree, OFFSET=method.index_offset)
        copy = types.FunctionType(template.__code__, constants, template.__name__, template.__defaults__)
        copy.__qualname__ = f"{template.__name__.lstrip('_')}__{slug(method.name)}"
        copy.__module__ = template.__module__
        copy.__doc__ = template.__doc__
        f = _ENTRIES[key] = njit(cache=True)(copy)
    return f
