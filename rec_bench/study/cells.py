"""Grid expansion: a validated spec becomes a list of cells, each one (pair, method, options).

A cell's message seeds come from (spec seed, the pair's parameters, repetition index) through a
hash, never from the cell's position, so they do not change when the grid is edited, reordered or
split across workers. Methods at the same pair share seeds (and, on the Gaussian channel, the same
targets): common random numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from .. import pairs as P
from ..coding.setup import DEFAULT_MAX_STEPS, check_budget
from ..methods import METHODS
from .schema import SpecError, check_plots

DEFAULT_REPETITIONS = 1000
DEFAULT_CHUNK = 250
MASK64 = (1 << 64) - 1


def _list(v):
    return list(v) if isinstance(v, list) else [v]


def _h64(obj) -> int:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return int.from_bytes(hashlib.blake2b(blob, digest_size=8).digest(), "little")


def splitmix64(x):
    """SplitMix64 finaliser, vectorised over a uint64 array."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class PairPoint:
    """One grid point of the pairs: its construction and parameters (JSON-able)."""

    construction: str
    params: dict  # fixed_kl: kl, dinf; gaussian_channel: info; explicit: family, target, proposal

    @property
    def key(self):
        return {"construction": self.construction, **self.params}

    @property
    def family(self):
        if self.construction == "custom":
            return f"Custom/{self.params['proposal']['family']}"
        return self.params.get("family", "Normal/Normal")

    def nominal_kl(self):
        """The KL (bits) that relative code sizes refer to: the grid KL, I, or the pair's KL."""
        if self.construction == "fixed_kl":
            return self.params["kl"]
        if self.construction == "gaussian_channel":
            return self.params["info"]
        q, p = self.build(1, 0)
        return float(P.kl(q, p))

    def build(self, n, seed):
        """(q, p) for n messages; q's parameters have shape (n,) or broadcast against it."""
        if self.construction == "fixed_kl":
            return P.fixed_kl(self.params["kl"], self.params["dinf"])
        if self.construction == "gaussian_channel":
            return P.gaussian_channel(self.params["info"], n, seed)
        if self.construction == "custom":
            prop = dict(self.params["proposal"])
            proposal = getattr(P, prop.pop("family"))(**prop)
            return custom_target(self.params["logpdf"], self.params["params"]), proposal
        tname, pname = self.family.split("/")
        return getattr(P, tname)(**self.params["target"]), getattr(P, pname)(**self.params["proposal"])

    def columns(self):
        """Cell-parameter columns for the result table."""
        out = {"construction": self.construction, "family": self.family,
               "grid_kl": np.nan, "grid_dinf": np.nan, "grid_info": np.nan}
        if self.construction == "fixed_kl":
            out["grid_kl"], out["grid_dinf"] = self.params["kl"], self.params["dinf"]
        elif self.construction == "gaussian_channel":
            out["grid_info"] = self.params["info"]
        elif self.construction == "custom":
            out["q_logpdf"] = self.params["logpdf"]
            for j, v in enumerate(self.params["params"]):
                out[f"q_param{j}"] = float(v)
            for k, v in self.params["proposal"].items():
                if k != "family":
                    out["p_" + k] = float(v)
        else:
            for side, prefix in (("target", "q_"), ("proposal", "p_")):
                for k, v in self.params[side].items():
                    out[prefix + k] = float(v)
        out["label"] = self.label()
        return out

    def label(self):
        if self.construction == "fixed_kl":
            return f"N(mu,sigma)/N(0,1) KL={self.params['kl']:g} Dinf={self.params['dinf']:g}"
        if self.construction == "gaussian_channel":
            return f"Gaussian channel I={self.params['info']:g}"
        fmt = lambda d: ", ".join(f"{k}={v:g}" for k, v in d.items() if k != "family")  # noqa: E731
        if self.construction == "custom":
            name = self.params["logpdf"].rsplit(":", 1)[-1]
            params = ", ".join(f"{v:g}" for v in self.params["params"])
            return f"{name}({params}) / {self.params['proposal']['family']}({fmt(self.params['proposal'])})"
        t, p = self.family.split("/")
        return f"{t}({fmt(self.params['target'])}) / {p}({fmt(self.params['proposal'])})"


@dataclass(frozen=True)
class Cell:
    index: int  # position in the expanded spec: used only to order rows
    pair: PairPoint
    method: str
    code: str  # universal code name, or "fixed" for fixed-length methods
    depth: int | None
    bits: int | None
    code_bits: int | None  # bits of the fixed-length code (DAD*: depth + 1; ORC/MRC: K)
    extra_bits: int | None  # code_bits - round(KL) when given relative to KL
    repetitions: int
    max_steps: int
    time_budget: float | None
    chunk: int
    spec_seed: int
    block: int = 0  # index of the pairs block in the spec
    coords: int = 1  # coordinates per message: > 1 codes blocks of that many copies of the pair
    id: str = field(default="", compare=False)

    def identity(self):
        """Everything that determines this cell's rows (plus the package version)."""
        out = {
            "pair": self.pair.key, "method": self.method, "code": self.code, "depth": self.depth,
            "bits": self.bits, "repetitions": self.repetitions, "max_steps": self.max_steps,
            "time_budget": self.time_budget, "seed": self.spec_seed, "version": __version__,
        }
        if self.coords > 1:  # absent for one coordinate: the cells of specs without blocks keep their ids
            out["coords"] = self.coords
        return out

    def pair_seed(self) -> int:
        return _h64({"seed": self.spec_seed, "pair": self.pair.key})

    def message_seeds(self, start=0, stop=None):
        stop = self.repetitions if stop is None else stop
        reps = np.arange(start, stop, dtype=np.uint64)
        with np.errstate(over="ignore"):
            return splitmix64(np.uint64(self.pair_seed()) ^ splitmix64(reps))

    def columns(self):
        return {
            "study_cell": self.id, "cell_index": self.index, **self.pair.columns(),
            "method": self.method, "code": self.code, "depth": self.depth, "bits": self.bits,
            "code_bits": self.code_bits, "extra_bits": self.extra_bits, "max_steps": self.max_steps,
            "time_budget": np.nan if self.time_budget is None else self.time_budget,
        }


_CUSTOM_TARGETS = {}


def custom_target(path, params):
    """The Custom target of logpdf ``path`` ("module:function") and ``params``, made once per process."""
    key = (path, tuple(params))
    if key not in _CUSTOM_TARGETS:
        import importlib

        module, _, attr = path.partition(":")
        try:
            logpdf = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"cannot load logpdf {path!r}: {e}") from None
        _CUSTOM_TARGETS[key] = P.Custom(logpdf, params)
    return _CUSTOM_TARGETS[key]


def pair_points(spec, file="<spec>"):
    blocks = spec["pairs"] if isinstance(spec["pairs"], list) else [spec["pairs"]]
    out = []
    for b, block in enumerate(blocks):
        where = f"pairs[{b}]" if isinstance(spec["pairs"], list) else "pairs"
        c = block["construction"]
        if c == "fixed_kl":
            for k in _list(block["kl"]):
                for j, d in enumerate(_list(block["dinf"])):
                    pt = PairPoint(c, {"kl": float(k), "dinf": float(d)})
                    try:
                        P.resolve(*pt.build(1, 0))
                    except ValueError as e:
                        raise SpecError(file, f"{where}.dinf[{j}]" if isinstance(block["dinf"], list)
                                        else f"{where}.dinf", str(e)) from None
                    out.append((b, pt))
        elif c == "gaussian_channel":
            for j, i in enumerate(_list(block["info"])):
                pt = PairPoint(c, {"info": float(i)})
                try:
                    P.resolve(*pt.build(1, 0))
                except ValueError as e:
                    raise SpecError(file, f"{where}.info[{j}]" if isinstance(block["info"], list)
                                    else f"{where}.info", str(e)) from None
                out.append((b, pt))
        elif c == "custom":
            vectors = block.get("params", [])
            vectors = vectors if vectors and isinstance(vectors[0], list) else [vectors]
            for i, vec in enumerate(vectors):
                pt = PairPoint(c, {"logpdf": block["logpdf"], "params": [float(v) for v in vec],
                                   "proposal": dict(block["proposal"])})
                try:
                    q, p = pt.build(1, 0)
                    P.resolve(q, p)
                except (ValueError, ImportError, AttributeError) as e:
                    raise SpecError(file, f"{where} (pair {i})", str(e)) from None
                out.append((b, pt))
        else:
            sides = {s: {k: _list(v) for k, v in block[s].items()} for s in ("target", "proposal")}
            n = max(len(v) for s in sides.values() for v in s.values())
            for i in range(n):
                params = {s: {k: float(v[i] if len(v) > 1 else v[0]) for k, v in d.items()}
                          for s, d in sides.items()}
                pt = PairPoint(c, {"family": block["family"], **params})
                try:
                    q, p = pt.build(1, 0)
                    P.resolve(q, p)
                except ValueError as e:
                    raise SpecError(file, f"{where} (pair {i})", str(e)) from None
                out.append((b, pt))
    return out


def expand(spec, file="<spec>"):
    """All cells of a validated spec, in a fixed order (pairs outer, methods, then code sizes)."""
    top = {k: spec.get(k) for k in ("repetitions", "max_steps", "time_budget", "code", "chunk")}
    methods = [{"name": m} if isinstance(m, str) else m for m in spec["methods"]]
    cells = []
    for block, pt in pair_points(spec, file):
        kl_nominal = None
        for i, m, coords in [(i, m, c) for i, m in enumerate(methods) for c in _list(m.get("block", 1))]:
            meth = METHODS[m["name"]]
            opt = {k: m.get(k, top[k]) for k in top}
            sizes = [(None, None)]  # (code_bits, extra_bits)
            if meth.option is not None:
                if "extra_bits" in m:
                    if kl_nominal is None:
                        kl_nominal = pt.nominal_kl()
                    base = math.floor(coords * kl_nominal + 0.5)
                    # a budget relative to KL asks for codes around KL: where KL + extra is
                    # below one bit no code exists, and that cell is left out (absolute sizes
                    # out of range are still errors, below)
                    sizes = [(base + e, e) for e in _list(m["extra_bits"]) if base + e >= 1]
                else:
                    sizes = [(meth.width(v), None) for v in _list(m[meth.option.name])]
            for code_bits, extra in sizes:
                options = {"depth": None, "bits": None}
                if meth.option is not None:
                    value = meth.from_width(code_bits)
                    if not meth.option.low <= value <= meth.option.high:
                        raise SpecError(file, f"methods[{i}].extra_bits", f"{meth.name} at {pt.label()}: "
                                        f"code bits {code_bits} give {meth.option.name} {value}, outside "
                                        f"[{meth.option.low}, {meth.option.high}]")
                    options[meth.option.name] = value
                depth, bits = options["depth"], options["bits"]
                max_steps = int(opt["max_steps"] or DEFAULT_MAX_STEPS)
                try:
                    check_budget(meth, options.get(meth.option.name) if meth.option else None, max_steps)
                except ValueError as e:
                    key = "extra_bits" if "extra_bits" in m else meth.option.name
                    raise SpecError(file, f"methods[{i}].{key}", f"at {pt.label()}: {e}") from None
                cell = Cell(
                    index=len(cells), pair=pt, method=meth.name,
                    code="fixed" if meth.option else (opt["code"] or meth.code),
                    depth=depth, bits=bits, code_bits=code_bits, extra_bits=extra,
                    repetitions=int(opt["repetitions"] or DEFAULT_REPETITIONS),
                    max_steps=max_steps,
                    time_budget=None if opt["time_budget"] is None else float(opt["time_budget"]),
                    chunk=int(opt["chunk"] or DEFAULT_CHUNK), spec_seed=int(spec["seed"]), block=block,
                    coords=int(coords),
                )
                cid = hashlib.sha256(json.dumps(cell.identity(), sort_keys=True).encode()).hexdigest()[:16]
                cells.append(_with_id(cell, cid))
    for i, m in enumerate(methods):
        if "extra_bits" in m and not any(c.method == METHODS[m["name"]].name for c in cells):
            raise SpecError(file, f"methods[{i}].extra_bits", f"{m['name']}: KL + extra_bits is below "
                            "one bit at every grid point, so no code exists")
    ids = [c.id for c in cells]
    if len(set(ids)) != len(ids):
        dup = next(c for c in cells if ids.count(c.id) > 1)
        raise SpecError(file, "pairs", f"the grid repeats a cell ({dup.method} at {dup.pair.label()})")
    return cells


def _with_id(cell, cid):
    object.__setattr__(cell, "id", cid)
    return cell


def plan(spec, file="<spec>"):
    """The cells of a validated spec (:func:`expand`), with its plots checked against them: the
    whole check a study passes before it runs."""
    cells = expand(spec, file)
    check_plots(spec, cells, file)
    return cells
