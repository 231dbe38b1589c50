"""The constraints hold after every step, biases are left alone unless `exclude` says
otherwise, and bad settings stop a run before it starts."""

import pytest
import torch
from hydra.utils import instantiate

from tests.helpers.runs import compose_config
from tests.helpers.stepping import fit_steps, regularizer, tiny_mlp
from wdbench.config.build import build
from wdbench.config.compose import CONF_DIR
from wdbench.errors import ConfigError
from wdbench.regularizers import KINDS, kind_info

WEIGHTS = {"layers.0.weight", "layers.2.weight"}
BIASES = {"layers.0.bias", "layers.2.bias"}
sgd = torch.optim.SGD  # called with param groups only: lr below


def sgd_lr(groups):
    return sgd(groups, lr=0.2)


def test_every_declared_kind_is_an_option_and_every_option_declared():
    options = {p.stem for p in (CONF_DIR / "regularizer").glob("*.yaml")}
    assert options == set(KINDS)
    assert {"none", "l2", "weight_decay", "decoupled", "l1", "l1_prox", "elastic_net",
            "norm_ball", "max_norm"} <= options
    for name in options:
        cfg = compose_config([f"regularizer={name}"])
        assert kind_info(cfg.regularizer._target_).name == name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_declared_keys_are_the_kinds_own(kind):
    """What a kind declares (HParams columns, per-member keys) is a number the kind holds."""
    info = KINDS[kind]
    assert set(info.per_member) <= set(info.hparams)
    built = build(compose_config([f"regularizer={kind}"]).regularizer)
    assert isinstance(built, info.kind)
    for key in info.hparams:
        assert isinstance(getattr(built, key), float), key


def test_norm_ball_holds_after_every_step():
    radius = 0.5
    model = tiny_mlp()
    assert torch.cat([model.state_dict()[n].reshape(-1) for n in WEIGHTS]).norm() > 4 * radius
    steps = fit_steps(model, regularizer("norm_ball", f"regularizer.radius={radius}"), sgd_lr)
    norms = [torch.cat([step[n].reshape(-1) for n in WEIGHTS]).norm().item() for step in steps]
    assert max(norms) <= radius * (1 + 1e-6)
    on_the_sphere = sum(norm > radius * (1 - 1e-6) for norm in norms)
    assert on_the_sphere > len(norms) / 2, norms  # it binds: the data pull w outwards


def test_max_norm_holds_for_every_unit_after_every_step():
    radius = 0.5
    model = tiny_mlp()
    steps = fit_steps(model, regularizer("max_norm", f"regularizer.radius={radius}"), sgd_lr)
    at_radius = 0
    for step in steps:
        for name in WEIGHTS:
            row_norms = step[name].norm(dim=1)  # one row per unit: its incoming weights
            assert row_norms.max() <= radius * (1 + 1e-6)
            at_radius += int((row_norms > radius * (1 - 1e-6)).sum())
    assert at_radius > len(steps)  # the constraint binds, it is not vacuous


def active_config(kind: str, exclude: str):
    """KIND.yaml with strength and radius set so that every kind visibly acts in one step."""
    cfg = compose_config([f"regularizer={kind}", f"regularizer.exclude={exclude}"]).regularizer
    for key in {"strength", "radius"} & set(KINDS[kind].hparams):
        cfg[key] = 0.5
    return cfg


def touched_parameters(reg, model) -> set[str]:
    """Every parameter the regulariser acts on, by any of its four means."""
    names = {id(p): n for n, p in model.named_parameters()}
    touched = set()
    penalty = reg.penalty(model)
    if penalty.requires_grad:
        penalty.backward()
        touched |= {n for n, p in model.named_parameters() if p.grad is not None and p.grad.any()}
    for group in reg.param_groups(model):
        if group["weight_decay"] > 0:
            touched |= {names[id(p)] for p in group["params"]}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    reg.before_update(model, lr=0.1)
    reg.after_step(model, lr=0.1)
    touched |= {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    return touched


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_biases_untouched_unless_excluded_from_exclude(kind):
    for exclude, expected in (("[1d]", WEIGHTS), ("[]", WEIGHTS | BIASES),
                              ("['*.bias','layers.2.*']", {"layers.0.weight"})):
        model = tiny_mlp()
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.mul_(5) if name in WEIGHTS else param.fill_(2.0)  # beyond every radius
        reg = instantiate(active_config(kind, exclude))
        assert touched_parameters(reg, model) == (set() if kind == "none" else expected)


@pytest.mark.parametrize("kind", sorted(k for k, info in KINDS.items() if "strength" in info.hparams))
def test_negative_strength_is_refused(kind):
    cfg = compose_config([f"regularizer={kind}", "regularizer.strength=-0.1"])
    with pytest.raises(ConfigError, match=r"regularizer.strength=-0.1 is invalid"):
        build(cfg.regularizer)


@pytest.mark.parametrize("kind", sorted(k for k, info in KINDS.items() if "radius" in info.hparams))
@pytest.mark.parametrize("radius", ["0", "-1", "null", "abc"])
def test_constraints_need_a_positive_radius(kind, radius):
    cfg = compose_config([f"regularizer={kind}", f"regularizer.radius={radius}"])
    with pytest.raises(ConfigError, match="regularizer.radius"):
        build(cfg.regularizer)


@pytest.mark.parametrize("ratio", ["-0.1", "1.5", "null"])
def test_l1_ratio_outside_0_1_is_refused(ratio):
    cfg = compose_config(["regularizer=elastic_net", f"regularizer.l1_ratio={ratio}"])
    with pytest.raises(ConfigError, match="regularizer.l1_ratio"):
        build(cfg.regularizer)


def test_unscaled_decoupled_decay_must_stay_below_one():
    cfg = compose_config(["regularizer=decoupled", "regularizer.scale_by_lr=false",
                          "regularizer.strength=1"])
    with pytest.raises(ConfigError, match="scale_by_lr is false"):
        build(cfg.regularizer)
    cfg.regularizer.strength = 0.01
    unscaled = build(cfg.regularizer)
    assert unscaled.decay_per_step(lr=0.5) == unscaled.decay_per_step(lr=0.003) == 0.01
    cfg.regularizer.scale_by_lr = True  # the same strength scaled: the lr counts
    assert build(cfg.regularizer).decay_per_step(lr=0.5) == pytest.approx(0.005)
    cfg.regularizer.strength = 1  # refused only unscaled
    assert build(cfg.regularizer).decay_per_step(lr=0.5) == 0.5


@pytest.mark.parametrize("ratio,same_as", [(1.0, "l1"), (0.0, "l2")])
def test_elastic_net_ends_are_l1_and_l2(ratio, same_as):
    model = tiny_mlp()
    net = regularizer("elastic_net", "regularizer.strength=0.3", f"regularizer.l1_ratio={ratio}")
    other = regularizer(same_as, "regularizer.strength=0.3")
    torch.testing.assert_close(net.penalty(model), other.penalty(model))
