"""What each regulariser kind can do, declared once: the option name it goes by, its numeric
hyperparameters, which of them may differ between the members of a stacked grid, and whether
it can be stacked at all. The grouping of a sweep into stacks, the HParams columns and the
stacked regulariser read these declarations instead of knowing the kinds."""

from dataclasses import dataclass

from hydra.utils import get_object

from wdbench.regularizers.base import NoRegularizer, Regularizer
from wdbench.regularizers.decay import Decoupled, WeightDecay
from wdbench.regularizers.penalties import L1, L2, ElasticNet
from wdbench.regularizers.proximal import L1Prox, MaxNorm, NormBall


@dataclass(frozen=True)
class KindInfo:
    name: str  # its option under conf/regularizer/
    kind: type
    hparams: tuple[str, ...] = ("strength",)  # numeric keys: HParams columns
    per_member: tuple[str, ...] = ("strength",)  # keys one stack holds a value of per member
    stackable: bool = True  # works with a member dimension on every parameter


KINDS = {info.name: info for info in (
    KindInfo("none", NoRegularizer, hparams=(), per_member=()),  # its strength is always 0
    KindInfo("l2", L2),
    # A torch optimizer holds one weight_decay per parameter group: one strength per stack.
    KindInfo("weight_decay", WeightDecay, per_member=()),
    KindInfo("decoupled", Decoupled),
    KindInfo("l1", L1),
    KindInfo("l1_prox", L1Prox),
    KindInfo("elastic_net", ElasticNet, hparams=("strength", "l1_ratio")),
    KindInfo("norm_ball", NormBall, hparams=("radius",), per_member=("radius",)),
    KindInfo("max_norm", MaxNorm, hparams=("radius",), per_member=("radius",)),
)}
# A class nobody declared (a user's own) trains on its own: nothing is known about members.
UNDECLARED = KindInfo("", Regularizer, hparams=(), per_member=(), stackable=False)


def kind_info(kind) -> KindInfo:
    """The declarations for a class, an instance or a `_target_` path; a subclass of a declared
    kind inherits its declarations."""
    if isinstance(kind, str):
        try:
            kind = get_object(kind)
        except Exception:  # noqa: BLE001 - building the run names the bad _target_ clearly
            return UNDECLARED
    if not isinstance(kind, type):
        kind = type(kind)
    by_class = {info.kind: info for info in KINDS.values()}
    for cls in kind.__mro__:
        if cls in by_class:
            return by_class[cls]
    return UNDECLARED


def hparam_keys() -> list[str]:
    """Every declared kind's numeric keys, strength first."""
    return list(dict.fromkeys(key for info in KINDS.values() for key in info.hparams))
