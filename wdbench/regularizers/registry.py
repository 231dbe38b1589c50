"""What each regulariser kind can do, declared where the kind is defined (`@register` on its
class): the option name it goes by, its numeric hyperparameters, which of them may differ
between the members of a stacked grid, and whether it can be stacked at all. The grouping of a
sweep into stacks, the HParams columns and the stacked regulariser read these declarations
instead of knowing the kinds; a class in a user's own module registers the same way when its
`_target_` is imported."""

from dataclasses import dataclass

from hydra.utils import get_object


@dataclass(frozen=True)
class KindInfo:
    name: str  # its option under conf/regularizer/
    kind: type | None
    hparams: tuple[str, ...] = ("strength",)  # numeric keys: HParams columns
    per_member: tuple[str, ...] = ("strength",)  # keys one stack holds a value of per member
    stackable: bool = True  # works with a member dimension on every parameter


KINDS: dict[str, KindInfo] = {}
# A class nobody declared (a user's own) trains on its own: nothing is known about members.
UNDECLARED = KindInfo("", None, hparams=(), per_member=(), stackable=False)


def register(name: str, *, hparams=("strength",), per_member=("strength",), stackable=True):
    """Class decorator: declare a kind under its option name."""

    def declare(cls: type) -> type:
        known = KINDS.get(name)
        if known is not None and path(known.kind) != path(cls):
            raise ValueError(f"regularizer kind {name!r} is declared twice: "
                             f"{path(known.kind)} and {path(cls)}")
        KINDS[name] = KindInfo(name, cls, tuple(hparams), tuple(per_member), stackable)
        return cls

    return declare


def path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


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
