"""Keep Numba's on-disk cache consistent with the package's sources, dropping only what is stale.

Numba invalidates a cached function when the file that defines it changes, but not when a function
it calls, defined in another file, changes: the caller's cached machine code keeps the old callee
compiled in. So on import, this module hashes the package's source files, compares them with the
hashes stored beside the cache, and removes the cached functions whose own file or any file it
imports (transitively, within the package) changed. A method's entry points
(rec_bench.coding.kernels, ``encode_rows__<method>``) also depend on the modules of the method's
runner and decoder and of the kernels those close over, and on the record's fingerprint (its
runner's and decoder's functions with the values they close over, and the index facts the
template binds), kept beside the hashes. Editing one method's kernel or record thus recompiles
that method (and the kernels that import its module), not the others; editing a plot or a
docstring of a module without kernels recompiles nothing. (A record registered at run time under
the name of one already cached is not seen: the cache is checked on import.) With no stored hashes (a fresh
cache), every cached kernel of the package is dropped. Failures (a read-only install, say) are
ignored: Numba then falls back to its own rules.
"""

import ast
import hashlib
import json
import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_PACKAGE = _ROOT.name
_STAMP_NAME = "rec_bench-sources.json"
_CLONE_FILE = "coding/kernels.py"


def _sources():
    return {p.relative_to(_ROOT).as_posix(): p for p in sorted(_ROOT.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _module_file(dotted, files):
    """The package file of a dotted module name inside the package, or None."""
    parts = dotted.split(".")
    if not parts or parts[0] != _PACKAGE:
        return None
    rel = "/".join(parts[1:])
    for cand in (f"{rel}.py", f"{rel}/__init__.py" if rel else "__init__.py"):
        if cand in files:
            return cand
    return None


def _imports(rel, path, files):
    """The package files that ``rel`` imports (at any depth of its code, lazy imports included)."""
    package = ".".join([_PACKAGE, *Path(rel).parent.parts]) if Path(rel).parent.parts else _PACKAGE
    out = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [_module_file(f"{mod}.{a.name}", files) for a in node.names]
            # ``from package import module`` depends on the module; a name that is no module, on
            # the module (or package) it comes from
            names = [f"{mod}.{a.name}" for a, sub in zip(node.names, subs) if sub]
            if not all(subs):
                names.append(mod)
        else:
            continue
        for name in names:
            f = _module_file(name, files)
            if f is not None and f != rel:
                out.add(f)
    return out


def _closure(start, graph):
    seen, todo = set(), list(start)
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo.extend(graph.get(f, ()))
    return seen


def _cache_dirs(source_dir):
    """Where Numba keeps the cache of functions defined in ``source_dir`` (both of its locators)."""
    out = [source_dir / "__pycache__"]
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        path = os.path.abspath(str(source_dir))
        out.append(Path(user) / f"{os.path.basename(path)}_{hashlib.sha1(path.encode()).hexdigest()}")
    return out


def _stamp_path():
    user = os.environ.get("NUMBA_CACHE_DIR")
    return Path(user) / _STAMP_NAME if user else _ROOT / "__pycache__" / _STAMP_NAME


def _method_modules(files):
    """{entry-point name suffix: (package files of the method's runner and decoder and of what they
    close over, the fingerprint of what its entry points are compiled from)}."""
    from .coding.kernels import slug
    from .methods import METHODS

    def modules(f, seen):
        py = getattr(f, "py_func", f)
        if id(py) in seen or not hasattr(py, "__module__"):
            return set()
        seen.add(id(py))
        out = {m for m in [_module_file(py.__module__ or "", files)] if m}
        for cell in getattr(py, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if hasattr(value, "py_func") or callable(value):
                out |= modules(value, seen)
        return out

    return {slug(m.name): (modules(m.runner, set()) | modules(m.decoder, set()), _fingerprint(m))
            for m in METHODS.values()}


def _fingerprint(m):
    """What a method's entry points are compiled from, as text: its runner and decoder (their
    functions and the values they close over) and the index facts the template binds."""

    def describe(f, depth=0):
        py = getattr(f, "py_func", f)
        name = f"{getattr(py, '__module__', '')}.{getattr(py, '__qualname__', repr(py))}"
        cells = []
        for cell in getattr(py, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            cells.append(describe(value, depth + 1) if callable(value) and depth < 4 else repr(value))
        return f"{name}({', '.join(cells)})"

    return repr((describe(m.runner), describe(m.decoder), m.tree, m.fixed and not m.tree, m.index_offset))


def refresh():
    """Drop the cached kernels compiled from other sources than the ones now installed."""
    try:
        files = _sources()
        hashes = {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in files.items()}
        stamp = _stamp_path()
        try:
            old = json.loads(stamp.read_text()) if stamp.exists() else None
        except ValueError:
            old = None
        if old is not None and old.get("files") == hashes:
            return
        old_files = None if old is None else old.get("files", {})
        changed = None if old is None else {f for f in set(hashes) | set(old_files)
                                            if hashes.get(f) != old_files.get(f)}
        graph = {rel: _imports(rel, p, files) for rel, p in files.items()}
        methods = _method_modules(files)
        records = {name: fp for name, (_, fp) in methods.items()}
        if changed is not None:  # a method whose record now compiles to something else
            changed |= {f"method:{name}" for name in set(records) | set(old.get("methods", {}))
                        if records.get(name) != old.get("methods", {}).get(name)}
        for source_dir in sorted({p.parent for p in files.values()}):
            for cache_dir in _cache_dirs(source_dir):
                if not cache_dir.is_dir():
                    continue
                for cached in list(cache_dir.glob("*.nbi")) + list(cache_dir.glob("*.nbc")):
                    if changed is None or _stale(cached, source_dir, graph, methods, changed):
                        cached.unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"files": hashes, "methods": records}))
        tmp.replace(stamp)
    except (OSError, SyntaxError):
        pass


def _stale(cached, source_dir, graph, methods, changed):
    """True if ``cached`` (a Numba index or data file) was compiled from a file now changed."""
    module, _, qualified = cached.name.partition(".")
    rel = (source_dir / f"{module}.py").relative_to(_ROOT).as_posix()
    if rel not in graph:
        return True  # its source file is gone
    deps = _closure([rel], graph)
    if rel == _CLONE_FILE and "__" in qualified:
        name = qualified.split("-")[0].split("__", 1)[1]
        if name not in methods:
            return True  # a method no longer registered
        deps |= _closure(methods[name][0], graph) | {f"method:{name}"}
    return bool(deps & changed)
