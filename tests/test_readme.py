"""README.md's Python snippets run as written: every ```python block, in order, in one namespace
(a later block may use what an earlier one defined, as a reader following along would), from the
repository's root (where the README's relative paths point)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks():
    """(number, first line in README.md, source) of every ```python block, in order."""
    text = README.read_text()
    return [(k, text[: m.start()].count("\n") + 2, m.group(1)) for k, m in enumerate(BLOCK.finditer(text), 1)]


def test_the_readme_has_python_blocks():
    assert len(python_blocks()) >= 3


def test_every_python_block_of_the_readme_runs_in_order(monkeypatch):
    monkeypatch.chdir(README.parent)
    namespace = {"__name__": "__readme__"}
    for k, line, source in python_blocks():
        # blank lines in front, so that a traceback's line numbers are README.md's own
        code = compile("\n" * (line - 1) + source, str(README), "exec")
        try:
            exec(code, namespace)
        except Exception as e:
            first = source.strip().splitlines()[0] if source.strip() else ""
            pytest.fail(f"README.md python block {k} (line {line}: {first!r}) raised {type(e).__name__}: {e}")
