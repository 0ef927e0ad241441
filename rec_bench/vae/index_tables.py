"""Model-coded-index tables of the committed models: ``python -m rec_bench.vae.index_tables``.

For the image codec's ``code="model"``, sender and receiver entropy code the depth of each latent
coordinate's returned node with one categorical table per (model, method[, DAD* depth]) and send
the path bits verbatim (rec_bench.IndexModel). A table is fitted to the depths the method
returns on the posteriors of the first ``N_IMAGES`` MNIST training images (one message per
coordinate, seed 0): the images the model was trained on, never the test images the study
measures. The tables are written beside the weights as ``<name>.index.json`` with the weights'
hash, so a table is used only with the model it was made for. A wrong table would cost bits,
never correctness.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..coding import IndexModel

N_IMAGES = 20_000
METHODS = (("as*", None), ("ad*", None), *(("dad*", d) for d in range(2, 9)), ("grcs", None), ("grcd", None))
_CACHE = {}


def table_key(method, depth=None):
    return f"{method}:{int(depth)}" if method == "dad*" else method


def table_path(model):
    return Path(model.path).with_suffix(".index.json") if model.path else None


def load_tables(model):
    """{key: IndexModel} of ``model`` (empty if it has no committed tables or they are another's)."""

    path = table_path(model)
    if path is None or not path.exists():
        return {}
    key = (str(path), model.hash)
    if key not in _CACHE:
        raw = json.loads(path.read_text())
        tables = {}
        if raw.get("weights") == model.hash:
            tables = {k: IndexModel.from_dict(v) for k, v in raw["tables"].items()}
        _CACHE[key] = tables
    return _CACHE[key]


def index_model(model, method, depth=None):
    """The committed model-coded-index table (rec_bench.IndexModel) of ``model`` for ``method`` (and
    DAD*'s ``depth``), or None."""
    return load_tables(model).get(table_key(method, depth))


def build(model, images):
    """{key: IndexModel dict} for ``model`` from the posteriors of ``images``."""
    import rec_bench as rb

    mu, s = model.encode(images)
    q, p = rb.Normal(mu.ravel(), s.ravel()), rb.Normal(0.0, 1.0)
    out = {}
    for method, depth in METHODS:
        m = IndexModel.from_pairs(q, p, method, seed=0, depth=depth, images=len(images),
                                  model_hash=model.hash)
        out[table_key(method, depth)] = m.to_dict()
    return out


def main():
    from ..data import load_mnist
    from .model import KINDS, load_model

    train_x = load_mnist().train_images[:N_IMAGES]
    for name in KINDS:
        model = load_model(name, with_provenance=False)
        tables = build(model, train_x)
        path = table_path(model)
        path.write_text(json.dumps({"weights": model.hash, "images": N_IMAGES, "tables": tables},
                                   indent=1) + "\n")
        print(f"wrote {path} ({len(tables)} tables)")


if __name__ == "__main__":
    main()
