"""The model-coded index: a categorical table of the returned index's depth, shared by both sides.

With an :class:`IndexModel`, a vector's indices are not sent with a universal code: each
coordinate's depth (its index's bit length minus one) is a symbol of the model, its path bits go
verbatim, and depths past the table escape to a universal code (rec_bench.coding.stream holds the
layout). Tables ship for AS* and AD* at KL 1, 2, 3.4, 5 and 8 bits a coordinate.
"""

import json
from pathlib import Path

import numpy as np

from ..methods import method_spec
from ..pairs import resolve
from .rows import run_encode
from .codes import PATH, code_length, universal
from .seeds import check_seed
from .setup import check_family, setup, step_budget


class IndexModel:
    """A categorical model of the returned index's depth (its bit length minus one).

    ``weights`` has K + 1 entries, proportional to P(depth = t) for t = 0 .. K - 1, then to the
    escape symbol's probability (a depth of K or more, sent as K - 1 + n with n >= 1 in a universal
    code); ``probabilities`` is the normalised table. Both sides build the same constriction
    ``Categorical(weights, perfect=False)`` from the same float64 weights (constriction normalises
    and quantises them), so the table (``to_json``/``from_json``, ``save``/``load``) is all they
    share. A model that fits badly costs bits, never correctness.
    """

    FORMAT = "rec_bench.index_model"

    def __init__(self, weights, **meta):
        w = np.array(weights, dtype=np.float64).ravel()
        if w.size < 2 or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError("an index model needs at least 2 finite non-negative weights with a positive "
                             "sum")
        if w.sum() < np.finfo(np.float64).tiny:  # constriction cannot normalise a subnormal total
            raise ValueError(f"an index model's weights must sum to a normal float64 (>= 2.2e-308), got "
                             f"{w.sum():g}: scale them up")
        self.weights = w
        self.probabilities = w / w.sum()
        self._cost = -np.log2(np.maximum(self.probabilities, 2.0**-24))  # bits per symbol
        self.meta = dict(meta)
        self._categorical = None

    @property
    def size(self):
        """K: the number of depths the table covers (0 .. K - 1)."""
        return self.probabilities.size - 1

    @property
    def min_symbol_bits(self):
        """A lower bound of what any symbol of the table costs, in bits: constriction keeps at least
        2^-24 of probability for each of the K + 1 symbols, so none costs less than
        -log2(1 - K 2^-24) > K 2^-24 bits. Bounds how many depths a stream of given size can hold."""
        return self.size * 2.0**-24

    @property
    def categorical(self):
        if self._categorical is None:
            import constriction

            self._categorical = constriction.stream.model.Categorical(self.weights, perfect=False)
        return self._categorical

    def __eq__(self, other):
        return isinstance(other, IndexModel) and np.array_equal(self.weights, other.weights)

    __hash__ = None

    def __repr__(self):
        meta = ", ".join(f"{k}={v!r}" for k, v in self.meta.items())
        return f"IndexModel(K={self.size}{', ' if meta else ''}{meta})"

    # ---- building
    @classmethod
    def fit(cls, depths, *, pseudo_count=0.5, **meta):
        """The table of observed ``depths``: counts plus ``pseudo_count`` for every depth up to the
        largest seen, and the escape symbol weighted as ``pseudo_count`` observations."""
        d = np.asarray(depths)
        if d.size == 0 or d.dtype.kind not in "iu" or np.any(d < 0):
            raise ValueError("fit needs a non-empty array of non-negative integer depths")
        counts = np.bincount(d.ravel()).astype(np.float64)
        return cls(np.append(counts + pseudo_count, pseudo_count), **{"n": int(d.size), **meta})

    @classmethod
    def from_pairs(cls, q, p, method="ad*", *, seed=0, depth=None, max_steps=None, **meta):
        """Fit the depths that ``method`` returns on the coordinates of (q, p), one message each."""
        depths = _simulate_depths(q, p, method, seed, depth, max_steps)
        return cls.fit(depths, method=method_spec(method).name, seed=int(seed), **meta)

    @classmethod
    def for_kl(cls, kl_bits, method="ad*", *, n=100_000, seed=0, depth=None):
        """The model for a KL budget of ``kl_bits`` per coordinate, by simulation on n posteriors of
        the Gaussian channel at I = kl_bits (``rb.gaussian_channel(kl_bits, n, seed)``: N(mu, 2^-2I)
        against N(0, 1), mean KL I). Shipped tables (AS*, AD* at KL 1, 2, 3.4, 5, 8 with the default
        n and seed) are loaded instead of simulated; the simulation gives them back exactly."""
        m = method_spec(method)
        key = (m.name, float(kl_bits), int(n), int(seed), depth)
        for table in _builtin_tables():
            meta = table.meta
            found = tuple(meta.get(k) for k in ("method", "kl_bits", "n", "seed", "depth"))
            if found == key:
                return table
        return _simulate_for_kl(kl_bits, m.name, n, seed, depth)

    # ---- using
    def information(self, depths, code="elias-delta"):
        """Bits per coordinate of the model-coded index: -log2 P(symbol), the escape's universal
        code, and the path bits (the depth itself). Uses the float table with probabilities floored
        at 2^-24, as the coder does with its 24-bit quantised table (which differs from the float
        table in about the 24th bit)."""
        d = np.asarray(depths, dtype=np.int64)
        k = self.size
        bits = self._cost[np.minimum(d, k)] + d
        esc = d >= k
        if np.any(esc):
            c = universal(code)
            lens = np.array([code_length(c, int(v).bit_length(), 0) for v in (d[esc] - k + 1).ravel()])
            bits[esc] += lens.reshape(bits[esc].shape)
        return bits

    # ---- serialising
    def to_dict(self):
        return {"format": self.FORMAT, "version": 1, **self.meta, "weights": self.weights.tolist()}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict) or d.get("format") != cls.FORMAT:
            raise ValueError(f"not an index model: expected a mapping with format {cls.FORMAT!r}")
        if "weights" not in d:
            raise ValueError("not an index model: no weights")
        meta = {k: v for k, v in d.items() if k not in ("format", "version", "weights")}
        return cls(d["weights"], **meta)

    def to_json(self):
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text):
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise ValueError(f"not an index model: {e}") from None

    def save(self, path):
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path):
        return cls.from_json(Path(path).read_text())


_TABLES_FILE = Path(__file__).resolve().parent.parent / "tables" / "index_models.json"
_TABLES = []
BUILTIN_KLS = (1.0, 2.0, 3.4, 5.0, 8.0)
BUILTIN_METHODS = ("as*", "ad*")


def _builtin_tables():
    if not _TABLES and _TABLES_FILE.exists():
        _TABLES.extend(IndexModel.from_dict(d) for d in json.loads(_TABLES_FILE.read_text()))
    return _TABLES


def _simulate_depths(q, p, method, seed, depth, max_steps):
    """The depths (index bit lengths minus one) that ``method`` returns on the coordinates of (q, p),
    each a message of the vector with ``seed``."""
    pair = resolve(q, p)
    m = method_spec(method)
    s = setup(m.name, None, depth, None, pair.shape, None)
    check_family(m, pair.family)
    seeds = np.array([check_seed(seed)], np.uint64)
    out, _, _ = run_encode(m, pair.family, pair.params, pair.loc, pair.scale, seeds, pair.params.shape[0],
                           True, step_budget(max_steps), s.option, s.width, PATH)
    return out.index_bits - 1


def _simulate_for_kl(kl_bits, method, n, seed, depth):
    from ..pairs import gaussian_channel

    q, p = gaussian_channel(kl_bits, n, seed)
    depths = _simulate_depths(q, p, method, seed, depth, None)
    return IndexModel.fit(depths, method=method, kl_bits=float(kl_bits), n=int(n), seed=int(seed),
                          depth=depth, construction="gaussian_channel")


def write_builtin_tables(path=_TABLES_FILE):
    """Regenerate the shipped tables:
    ``python -c 'import rec_bench.coding.index_model as m; m.write_builtin_tables()'``."""
    tables = [_simulate_for_kl(k, m, 100_000, 0, None).to_dict()
              for m in BUILTIN_METHODS for k in BUILTIN_KLS]
    Path(path).parent.mkdir(exist_ok=True)
    Path(path).write_text(json.dumps(tables, indent=1) + "\n")
    _TABLES.clear()
