"""The family registry: every supported (target, proposal) pair family, in family-number order.

A family is a module (or an object with the same attributes) that declares:

* ``TARGET``, ``PROPOSAL``: the distribution classes of the pair (rec_bench.pairs.distributions);
  the family's name is ``"Target/Proposal"`` and a study spec's parameter names are the classes'
  ``_fields``;
* ``kl(q, p)``, ``dinf(q, p)``: closed forms in nats (arrays for array parameters); a pair with an
  infinite D_inf raises ValueError naming why;
* ``kernel_params(q, p) -> (prm, loc, scale)``: rows of four kernel parameters, ``prm[..., 0]``
  being D_inf in nats (or an upper bound of it), and the proposal's affine map x = loc + scale z;
  ``proposal_map(p) -> (loc, scale)``;
* compiled functions in the proposal's standard coordinates z: ``logr(prm, z)``, ``mode(prm)``,
  optionally ``sup_logr(prm, a, b)`` (default: log r at the mode clipped into [a, b]), P's
  ``logcdf(z)``, ``logsf(z)``, ``ppf_logcdf(lp)``, ``ppf_logsf(lp)``, and P's support
  ``LOWER``, ``UPPER``.

rec_bench.pairs.kernels builds the compiled dispatch over family numbers from this tuple. Adding a
family is one module and one entry here (append, so existing family numbers stay).
"""

from . import custom, gaussian, laplace, triangular

FAMILIES = (gaussian, laplace, triangular, *custom.FAMILIES)


def name(family):
    return f"{family.TARGET.__name__}/{family.PROPOSAL.__name__}"


FAMILY_NAMES = tuple(name(f) for f in FAMILIES)
