"""The same seeds give the same codes and samples as before issue 15, bit for bit: scalar codes,
vectors, streams and model-coded streams of every method on every family's example pair, hashed
by tests/bit_digests.py and compared with the digests that the package at commit 320f7e2 (before
the coding layer) gave (tests/data/codes_before_issue_15.json, made by
tests/data/make_codes_before_issue_15.py). The cases are the data file's; methods and families
added since are the contract suite's (tests/test_contract.py)."""

import json
from pathlib import Path

import pytest

import bit_digests
import rec_bench as rb
from rec_bench.pairs import registry

DATA = Path(__file__).resolve().parent / "data" / "codes_before_issue_15.json"
CASES = json.loads(DATA.read_text())["cases"]
FAMILY = {registry.name(f): f for f in registry.FAMILIES}


@pytest.mark.parametrize("key", sorted(CASES))
def test_codes_and_samples_are_those_of_before_the_coding_layer(key):
    case = CASES[key]
    q, p = FAMILY[case["family"]].example()
    assert [repr(q), repr(p)] == case["pair"], "the family's example changed: regenerate the data file"
    got = bit_digests.digests(rb, case["method"], case["options"], q, p)
    expected = {k: v for k, v in case.items() if k not in ("method", "family", "pair", "options")}
    assert got == expected
