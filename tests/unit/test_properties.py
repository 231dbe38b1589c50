"""Property-based: random valid configurations compose and pass the whole start-up (every part
built, nothing trained); random invalid values are each rejected with their key named.

To cover a new key, add a row to INVALID (and its valid values to VALID_KEYS or
valid_overrides); test_every_declared_key_has_valid_values fails until a new key has one."""

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.helpers.runs import compose_config
from wdbench.errors import ConfigError
from wdbench.regularizers import KINDS
from wdbench.regularizers.registry import hparam_keys
from wdbench.training.train import prepare

# Few examples and no shrinking, so the suite stays fast even when a check fails.
QUICK = {"deadline": None, "phases": [Phase.explicit, Phase.reuse, Phase.generate],
         "suppress_health_check": [HealthCheck.function_scoped_fixture]}
FEW = settings(max_examples=20, **QUICK)
VERY_FEW = settings(max_examples=5, **QUICK)
HYDRA_WORDS = {"true", "false", "null", "inf", "nan"}  # Hydra reads these as non-strings


def fmt(value) -> str:
    """A value as written in a Hydra override."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ",".join(fmt(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def floats(low=None, high=None, **kw):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kw)


words = st.from_regex(r"[a-z]{2,8}", fullmatch=True).filter(lambda w: w not in HYDRA_WORDS)
non_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])
not_a_radius = st.sampled_from([float("nan"), float("-inf")])  # inf is no constraint
not_a_number = words | st.just(True) | st.just(None)
negative = floats(high=-1e-9)
not_positive = floats(high=0.0) | st.integers(max_value=0)

# Valid values of each numeric key a kind declares (regularizers/registry.py), and where a
# kind's range is narrower or it has keys of its own; its other keys keep their defaults.
VALID_KEYS = {"strength": floats(0.0, 100.0),
              "radius": floats(1e-3, 1e3) | st.just(float("inf")),  # inf: no constraint
              "l1_ratio": floats(0.0, 1.0)}
NARROWER = {"decoupled": {"regularizer.strength": floats(0.0, 0.99),
                          "regularizer.scale_by_lr": st.booleans()}}


def valid_regularizer_values(kind: str) -> dict:
    declared = {f"regularizer.{key}": VALID_KEYS[key] for key in KINDS[kind].hparams}
    return {**declared, **NARROWER.get(kind, {})}


@dataclass(frozen=True)
class Bad:
    override: str  # the key as written on the command line, `+` included when it is new
    values: st.SearchStrategy  # values it must reject
    key: str  # the key the error must name
    given: tuple = ()  # overrides that make the key apply, e.g. ("regularizer=l2",)


INVALID = [
    Bad("regularizer.strength", negative | non_finite | not_a_number, "regularizer.strength",
        ("regularizer=l2",)),
    Bad("regularizer.strength", floats(1e-9, 1e9), "regularizer.strength", ("regularizer=none",)),
    Bad("regularizer.radius", not_positive | not_a_radius | words, "regularizer.radius",
        ("regularizer=norm_ball",)),
    Bad("regularizer.radius", not_positive | not_a_radius | words, "regularizer.radius",
        ("regularizer=max_norm",)),
    Bad("regularizer.l1_ratio", negative | floats(1.0, 1e9, exclude_min=True) | non_finite
        | words, "regularizer.l1_ratio", ("regularizer=elastic_net",)),
    Bad("regularizer.exclude", st.integers() | st.lists(st.integers(), min_size=1),
        "regularizer.exclude", ("regularizer=l2",)),
    Bad("optimizer.lr", not_positive | non_finite | not_a_number, "optimizer.lr"),
    Bad("optimizer.lr", not_positive | non_finite | not_a_number, "optimizer.lr",
        ("optimizer=adamw",)),
    Bad("optimizer.momentum", negative | floats(1.0, 1e9) | not_a_number, "optimizer.momentum"),
    Bad("optimizer.betas", st.lists(floats(1.0, 10.0) | negative, min_size=2, max_size=2)
        | st.lists(floats(0.0, 0.99), min_size=3, max_size=4), "optimizer.betas",
        ("optimizer=adam",)),
    Bad("+optimizer.weight_decay", floats(1e-9, 1.0), "optimizer.weight_decay",
        ("regularizer=l2",)),
    Bad("data.batch_size", not_positive | floats(1.5, 9.5) | not_a_number, "data.batch_size"),
    Bad("data.train_size", not_positive | not_a_number, "data.train_size"),
    Bad("data.val_size", st.integers(max_value=-1) | not_a_number, "data.val_size"),
    Bad("data.test_size", not_positive | not_a_number, "data.test_size"),
    Bad("data.num_inputs", not_positive | not_a_number, "data.num_inputs"),
    Bad("data.noise_std", negative | non_finite | not_a_number, "data.noise_std"),
    Bad("data.label_noise", floats(1.0, 1e9, exclude_min=True) | negative | non_finite | words,
        "data.label_noise"),
    Bad("model.hidden", st.lists(st.integers(max_value=0), min_size=1, max_size=3)
        | st.integers() | words, "model.hidden", ("model=mlp",)),
    Bad("model.dropout", floats(1.0, 1e9) | negative | non_finite | words, "model.dropout",
        ("model=mlp",)),
    Bad("model.init_std", not_positive | non_finite | words, "model.init_std"),
    Bad("model.norm", words.filter(lambda w: w not in ("batch", "layer")), "model.norm",
        ("model=mlp",)),
    Bad("seed", st.integers(max_value=-1) | st.integers(min_value=2**32) | floats(0.5, 9.5)
        | words, "seed"),
    Bad("threads", st.integers(max_value=0) | words, "threads"),
    Bad("trainer.max_epochs", st.integers(max_value=0) | words | st.just(None),
        "trainer.max_epochs"),
]


@pytest.mark.parametrize("bad", INVALID, ids=lambda b: f"{b.override}[{','.join(b.given)}]")
def test_invalid_value_is_rejected_with_its_key(tmp_path, bad):
    @VERY_FEW
    @given(value=bad.values)
    def check(value):
        overrides = [*bad.given, f"{bad.override}={fmt(value)}"]
        with pytest.raises(ConfigError) as err:
            prepare(compose_config(overrides), tmp_path, overrides)
        assert err.value.key == bad.key, str(err.value)
        assert str(err.value).startswith(f"{bad.key}=") and " is invalid: allowed " in str(
            err.value)
    check()


identifiers = st.from_regex(r"x_[a-z]{1,8}", fullmatch=True)


@FEW
@given(group=st.sampled_from(["data", "model", "regularizer", "optimizer", "trainer"]),
       name=identifiers)
def test_unknown_key_is_named(tmp_path, group, name):
    """`+group.key=...` for a key no constructor takes reaches it as an unknown keyword."""
    overrides = [f"+{group}.{name}=1"]
    with pytest.raises(ConfigError) as err:
        prepare(compose_config(overrides), tmp_path, overrides)
    assert err.value.key == f"{group}.{name}"


@st.composite
def valid_overrides(draw) -> dict[str, object]:
    """A random valid configuration on the synthetic data, as override -> value."""
    chosen: dict[str, object] = {"seed": draw(st.integers(0, 2**32 - 1)),
                                 "trainer.max_epochs": draw(st.integers(1, 10_000))}
    model = draw(st.sampled_from(["linear", "mlp"]))
    chosen["model"] = model
    if model == "mlp":
        chosen["model.hidden"] = draw(st.lists(st.integers(1, 64), max_size=3))
        chosen["model.dropout"] = draw(floats(0.0, 0.95))
    chosen["model.init_std"] = draw(st.none() | floats(1e-4, 5.0))
    regularizer = draw(st.sampled_from(sorted(KINDS)))
    chosen["regularizer"] = regularizer
    for key, values in valid_regularizer_values(regularizer).items():
        chosen[key] = draw(values)
    optimizer = draw(st.sampled_from(["sgd", "adam", "adamw"]))
    chosen["optimizer"] = optimizer
    chosen["optimizer.lr"] = draw(floats(1e-6, 10.0, exclude_min=False))
    if optimizer == "sgd":
        chosen["optimizer.momentum"] = draw(floats(0.0, 0.99))
    else:
        chosen["optimizer.betas"] = draw(st.lists(floats(0.0, 0.999), min_size=2, max_size=2))
    chosen.update({"data.batch_size": draw(st.integers(1, 64)),
                   "data.train_size": draw(st.integers(1, 200)),
                   "data.val_size": draw(st.integers(0, 50)),
                   "data.test_size": draw(st.integers(1, 100)),
                   "data.num_inputs": draw(st.integers(1, 64)),
                   "data.noise_std": draw(floats(0.0, 1.0)),
                   "data.label_noise": draw(floats(0.0, 1.0))})
    return chosen


@FEW
@given(chosen=valid_overrides())
def test_valid_configuration_composes_and_builds(tmp_path, chosen):
    groups = [f"{k}={fmt(v)}" for k, v in chosen.items() if "." not in k and k != "seed"]
    keys = [f"{k}={fmt(v)}" for k, v in chosen.items() if "." in k or k == "seed"]
    overrides = groups + keys  # group choices first, so their keys override the defaults
    p = prepare(compose_config(overrides), tmp_path, overrides)
    widths = [layer.out_features for layer in p.module.model.layers if hasattr(layer, "weight")]
    assert widths == [*chosen.get("model.hidden", []), 1]
    assert p.module.regularizer.strength == chosen.get("regularizer.strength", 0.0)
    assert p.module.make_optimizer.keywords["lr"] == chosen["optimizer.lr"]
    assert p.trainer.max_epochs == chosen["trainer.max_epochs"]
    assert p.data.batch_size == chosen["data.batch_size"]
    assert len(p.data.splits.train_x) == chosen["data.train_size"]
    assert p.data.num_features == chosen["data.num_inputs"]


def test_every_declared_key_has_valid_values():
    assert set(hparam_keys()) <= set(VALID_KEYS), "add the new key's valid range to VALID_KEYS"
    assert set(NARROWER) <= set(KINDS)
