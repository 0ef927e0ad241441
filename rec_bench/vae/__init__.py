"""VAE and IsoKL VAE for lossless MNIST compression (numpy inference; training in ``train`` needs JAX).

``load_model('vae')`` / ``load_model('isokl')`` give the committed trained models.
"""

from .model import KINDS, Model, elbo_summary, isokl_scale, load_model, save_model

__all__ = ["KINDS", "Model", "load_model", "save_model", "elbo_summary", "isokl_scale"]
