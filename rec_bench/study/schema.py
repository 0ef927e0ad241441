"""Study specs: a YAML file validated against a JSON schema before anything runs.

Every error names the file, the key path inside it (e.g. ``methods[2].extra_bits[0]``) and what
was expected. See README.md, section "Studies", for the format with an example, and
docs/design.md, section 10, for what is checked.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import jsonschema
import yaml

from ..coding.codes import UNIVERSAL
from ..methods import METHODS
from ..pairs.custom import Custom
from ..pairs.registry import FAMILIES, name as family_name

CODES = list(UNIVERSAL)  # the universal index codes a spec may name
CONSTRUCTIONS = {
    "fixed_kl": "Gaussian target against N(0, 1) with a given KL and a grid of D_inf (bits)",
    "gaussian_channel": "Gaussian channel with mutual information I bits; a fresh target per message",
    "explicit": "an explicit list of pairs of one supported family (parameter lists zipped, "
                "scalars broadcast)",
    "custom": "a user-defined target (logpdf: 'module:function', a numba @njit logpdf(x, params)) with a "
              "list of parameter vectors, against one built-in proposal",
}
CONSTRUCTION_KEYS = {
    "fixed_kl": ("construction", "kl", "dinf"),
    "gaussian_channel": ("construction", "info"),
    "explicit": ("construction", "family", "target", "proposal"),
    "custom": ("construction", "logpdf", "params", "proposal"),
}
# target / proposal parameter names of each built-in family, from its distribution classes
FAMILY_PARAMS = {family_name(f): (f.TARGET._fields, f.PROPOSAL._fields) for f in FAMILIES
                 if f.TARGET is not Custom}
PROPOSALS = {f.PROPOSAL.__name__: f.PROPOSAL._fields for f in FAMILIES}


class SpecError(ValueError):
    """A study spec that does not validate: names the file, the key path and what was expected."""

    def __init__(self, file, path, message):
        self.file, self.path, self.detail = str(file), path, message
        super().__init__(f"{file}: at {path or '<top level>'}: {message}")


def key_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# Numeric ranges. Every number in a spec must also be finite (checked before the schema: JSON
# Schema lets NaN through every bound).
MAX_KL_BITS = 45  # KL and I: beyond about 45 bits a Gaussian target near P's centre is narrower
#                   than float64 resolves there, so its samples are no longer exact
MAX_DINF_BITS = 2**16  # AS* and AD* take about D_inf steps per message
MAX_STEPS = 2**62  # a step count must fit an int64 with room to spare
MAX_MESSAGES = 2**31  # messages per cell (and per chunk)

_num = {"type": "number"}
_pos = {"type": "number", "exclusiveMinimum": 0}
_kl = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_KL_BITS}
_dinf = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DINF_BITS}
_count = {"type": "integer", "minimum": 1, "maximum": MAX_MESSAGES}


def _grid(item):
    """A single value or a non-empty list of values."""
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 1}]}


def _family_block(family):
    tnames, pnames = FAMILY_PARAMS[family]
    num_or_list = _grid(_num)
    return {
        "if": {"properties": {"family": {"const": family}}, "required": ["family"]},
        "then": {"properties": {
            "target": {"type": "object", "properties": {k: num_or_list for k in tnames},
                       "required": list(tnames), "additionalProperties": False},
            "proposal": {"type": "object", "properties": {k: num_or_list for k in pnames},
                         "required": list(pnames), "additionalProperties": False},
        }},
    }


_CUSTOM_PROPOSAL = {  # {family: Normal, loc: 0, scale: 1}: one proposal, scalar parameters
    "anyOf": [
        {"type": "object", "required": ["family", *fields],
         "properties": {"family": {"const": name}, **{k: _num for k in fields}},
         "additionalProperties": False}
        for name, fields in PROPOSALS.items()
    ]
}

PAIRS_BLOCK = {
    "type": "object",
    "required": ["construction"],
    "properties": {
        "construction": {"enum": list(CONSTRUCTIONS)},
        "kl": _grid(_kl), "dinf": _grid(_dinf), "info": _grid(_kl),
        "family": {"enum": list(FAMILY_PARAMS)},
        "target": {"type": "object"}, "proposal": {"type": "object"},
        "logpdf": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$"},
        "params": {"anyOf": [{"type": "array", "items": _num},
                             {"type": "array", "minItems": 1, "items": {"type": "array", "items": _num}}]},
    },
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"construction": {"const": "fixed_kl"}}},
         "then": {"required": ["kl", "dinf"]}},
        {"if": {"properties": {"construction": {"const": "gaussian_channel"}}},
         "then": {"required": ["info"]}},
        {"if": {"properties": {"construction": {"const": "explicit"}}},
         "then": {"required": ["family", "target", "proposal"]}},
        {"if": {"properties": {"construction": {"const": "custom"}}},
         "then": {"required": ["logpdf", "proposal"], "properties": {"proposal": _CUSTOM_PROPOSAL}}},
        *[_family_block(f) for f in FAMILY_PARAMS],
    ],
}

RUN_OPTIONS = {  # allowed at the top level (defaults) and per method (overrides)
    "repetitions": _count,
    "max_steps": {"type": "integer", "minimum": 1, "maximum": MAX_STEPS},
    "time_budget": _pos,  # seconds of wall time per cell
    "code": {"enum": CODES},
    "chunk": _count,  # messages per task
}

METHOD_OBJECT = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"enum": list(METHODS)},
        **RUN_OPTIONS,
        **{m.option.name: _grid({"type": "integer", "minimum": m.option.low, "maximum": m.option.high})
           for m in METHODS.values() if m.option is not None},
        "extra_bits": _grid({"type": "integer"}),
        # coordinates per message (rec_bench.coding.blocks): each message is a block of this many
        # copies of the pair; extra_bits then counts from round(block x KL)
        "block": _grid({"type": "integer", "minimum": 1, "maximum": 64}),
    },
    "additionalProperties": False,
}


def build_schema():
    from ..plots import load_all  # the registry: plot kinds are validated by name

    PLOTS = load_all()

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "rec_bench study spec",
        "type": "object",
        "required": ["name", "seed", "pairs", "methods", "output"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
            "description": {"type": "string"},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
            "output": {"type": "string", "pattern": "\\.parquet$"},
            **RUN_OPTIONS,
            "pairs": {"anyOf": [PAIRS_BLOCK, {"type": "array", "items": PAIRS_BLOCK, "minItems": 1}]},
            "methods": {"type": "array", "minItems": 1,
                        "items": {"anyOf": [{"enum": list(METHODS)}, METHOD_OBJECT]}},
            "plots": {"type": "array", "items": {
                "type": "object", "required": ["kind"],
                "properties": {"kind": {"enum": sorted(PLOTS)}, "file": {"type": "string"},
                               "title": {"type": "string"}, "options": {"type": "object"}},
                "additionalProperties": False}},
        },
        "additionalProperties": False,
    }


def _leaf_errors(error):
    """The most specific errors under an anyOf/oneOf, so messages point at the real key."""
    if not error.context:
        return [error]
    out = []
    for sub in error.context:
        out.extend(_leaf_errors(sub))
    return out


def _describe(error, file):
    if error.validator in ("anyOf", "oneOf") and error.context:
        # an item that is neither form: report the branch that got deepest into the document
        leaves = _leaf_errors(error)
        typed = [e for e in leaves if e.validator != "type"]  # the branch of the right type says more
        leaves = typed or leaves
        deepest = max(len(e.absolute_path) for e in leaves)
        cands = [e for e in leaves if len(e.absolute_path) == deepest]
        if deepest > len(error.absolute_path) or len(cands) == 1:
            return _describe(cands[0], file)
        expected = "; or ".join(dict.fromkeys(e.message for e in cands))
        return SpecError(file, key_path(error.absolute_path), f"expected one of: {expected}")
    msg, path = error.message, list(error.absolute_path)
    return SpecError(file, key_path(path), msg)


def _check_finite(node, file, path=()):
    """Every number in the spec is finite: YAML's .nan and .inf pass JSON Schema's bounds."""
    if isinstance(node, float) and not math.isfinite(node):
        raise SpecError(file, key_path(path), f"{node} is not a finite number")
    if isinstance(node, dict):
        for k, v in node.items():
            _check_finite(v, file, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_finite(v, file, (*path, i))


def validate(spec, file="<spec>"):
    """Raise SpecError (file, key path, expectation) unless ``spec`` follows the schema."""
    _check_finite(spec, file)
    validator = jsonschema.Draft202012Validator(build_schema())
    errors = sorted(validator.iter_errors(spec), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise _describe(best, file)
    _semantic_checks(spec, file)
    return spec


def _semantic_checks(spec, file):
    """What a schema cannot say: option requirements per method, zipped list lengths."""
    for i, m in enumerate(spec["methods"]):
        if isinstance(m, str):
            m = {"name": m}
        meth = METHODS[m["name"]]
        sizes = {o.name for o in (x.option for x in METHODS.values()) if o is not None} | {"extra_bits"}
        given = [k for k in sizes if k in m]
        where = f"methods[{i}]"
        blocks = m.get("block", 1)
        if any(b > 1 for b in (blocks if isinstance(blocks, list) else [blocks])):
            from ..coding.blocks import BLOCK_METHODS

            if meth.name not in BLOCK_METHODS:
                raise SpecError(file, f"{where}.block", f"method {meth.name} codes one coordinate at a time; "
                                f"blocks of more need one of {', '.join(BLOCK_METHODS)}")
        if meth.option is None and given:
            raise SpecError(file, f"{where}.{given[0]}",
                            f"method {meth.name} writes a universal code and takes no code size")
        if meth.option is not None:
            if "code" in m:
                raise SpecError(file, f"{where}.code", f"method {meth.name} writes a fixed-length code "
                                f"sized by {meth.option.name!r}; it takes no 'code'")
            allowed = {meth.option.name, "extra_bits"}
            wrong = [k for k in given if k not in allowed]
            if wrong:
                raise SpecError(file, f"{where}.{wrong[0]}",
                                f"method {meth.name} takes {meth.option.name!r} or 'extra_bits', "
                                f"not {wrong[0]!r}")
            if len(given) != 1:
                raise SpecError(file, where, f"method {meth.name} needs exactly one of {meth.option.name!r} "
                                f"(absolute) or 'extra_bits' (code bits = round(KL) + extra)")
    blocks = spec["pairs"] if isinstance(spec["pairs"], list) else [spec["pairs"]]
    for b, block in enumerate(blocks):
        prefix = f"pairs[{b}]" if isinstance(spec["pairs"], list) else "pairs"
        allowed = CONSTRUCTION_KEYS[block["construction"]]
        for k in block:
            if k not in allowed:
                raise SpecError(file, f"{prefix}.{k}", f"{k!r} does not belong to construction "
                                f"{block['construction']!r}, which takes: {', '.join(allowed)}")
        if block["construction"] != "explicit":
            continue
        lengths = {}
        for side in ("target", "proposal"):
            for k, v in block[side].items():
                if isinstance(v, list) and len(v) > 1:
                    lengths[f"{prefix}.{side}.{k}"] = len(v)
        if len(set(lengths.values())) > 1:
            first = next(iter(lengths))
            bad = next(k for k, n in lengths.items() if n != lengths[first])
            raise SpecError(file, bad, f"parameter lists are zipped, so they need equal lengths: "
                            f"{bad} has {lengths[bad]} values, {first} has {lengths[first]}")


def check_plots(spec, cells, file="<spec>"):
    """Check the spec's plots against the cells its study will run, before it runs: each kind's
    options and the data they name (``rec_bench.plots.check``), and that no two plots write the
    same figure file."""
    import pandas as pd

    from ..plots import PlotOptionError, check

    table = pd.DataFrame([c.columns() for c in cells])
    files = {}
    for i, plot in enumerate(spec.get("plots") or []):
        where = f"plots[{i}]"
        try:
            check(plot["kind"], plot.get("options") or {}, table)
        except PlotOptionError as e:
            raise SpecError(file, f"{where}.options.{e.option}" if e.option else where, str(e)) from None
        name = plot.get("file") or f"{spec['name']}_{plot['kind']}"
        if name in files:
            raise SpecError(file, f"{where}.file" if "file" in plot else where,
                            f"plots[{files[name]}] writes the figure {name!r} too; "
                            "give one of them another 'file'")
        files[name] = i


def load_spec(path):
    """Read, parse and validate a spec file; returns (spec dict, text, sha256 of the file bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(path, "", f"cannot read the spec: {e.strerror}") from None
    try:
        spec = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(path, where, f"not valid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(spec, dict):
        raise SpecError(path, "", f"expected a mapping at the top level, got {type(spec).__name__}")
    validate(spec, path)
    return spec, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()
