"""Regularisers as one small protocol. Each kind answers:

- `param_groups(model)`: the optimizer's groups, regularised weights first, with the
  optimizer's own `weight_decay` where the kind uses it;
- `penalty(model)`: the term added to the training loss (0 if none);
- `before_update(model, lr)`: after the gradients, before the optimizer moves the weights
  (decoupled decay acts here, exactly where torch's AdamW applies it);
- `after_step(model, lr)`: after the optimizer step (proximal steps, projections);
- `decay_per_step(lr)`: the shrink factor per step where the kind has one, for logging.

The LightningModule calls these and never asks which kind it holds. `lr` is the current
(scheduled) learning rate of param group 0, the regularised weights.

Config: `_target_: wdbench.regularizers.KIND` (conf/regularizer/*.yaml); what each kind can do
in a stacked grid is declared on its class with `@register` (registry.py).
"""

import importlib
import pkgutil

from wdbench.regularizers.base import ONE_D, NoRegularizer, Regularizer
from wdbench.regularizers.decay import Decoupled, WeightDecay
from wdbench.regularizers.penalties import L1, L2, ElasticNet
from wdbench.regularizers.proximal import L1Prox, MaxNorm, NormBall
from wdbench.regularizers.registry import KINDS, KindInfo, kind_info, register

__all__ = ["KINDS", "L1", "L2", "ONE_D", "Decoupled", "ElasticNet", "KindInfo", "L1Prox",
           "MaxNorm", "NoRegularizer", "NormBall", "Regularizer", "WeightDecay", "kind_info",
           "register"]

# Every module in this package is imported, so a kind in a new file registers with no list to edit.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
