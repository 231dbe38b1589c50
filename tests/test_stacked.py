"""A grid trained as one stacked model equals the same runs trained one by one: every
regulariser kind, linear and MLP, SGD and Adam, same seed and data order."""

import json

import pytest
import torch
from conftest import compose_config, run_cli, run_config

from wdbench.errors import ConfigError
from wdbench.models import MLP
from wdbench.stacked.grid import Job
from wdbench.stacked.run import run_stack

TINY = ["data.train_size=40", "data.val_size=10", "data.test_size=20", "data.num_inputs=10",
        "data.batch_size=8", "trainer.max_epochs=3", "threads=1"]
LINEAR_SGD = [*TINY, "model=linear", "optimizer.lr=0.01", "optimizer.momentum=0.9"]
MLP_ADAM = [*TINY, "model=mlp", "model.hidden=[8]", "optimizer=adam", "optimizer.lr=0.01"]
# kind -> (per-member key, the members' values): two members that differ where they can
GRID = {
    "none": ("strength", [0, 0]),
    "l2": ("strength", [0.1, 1.0]),
    "weight_decay": ("strength", [0.5, 0.5]),  # one value only: see the test below
    "decoupled": ("strength", [0.1, 1.0]),
    "l1": ("strength", [0.01, 0.1]),
    "l1_prox": ("strength", [0.01, 3.0]),
    "elastic_net": ("strength", [0.05, 0.5]),
    "norm_ball": ("radius", [0.5, 2.0]),
    "max_norm": ("radius", [0.3, 1.0]),
}
METRICS = ("train_loss", "val_loss", "test_loss", "weight_l2", "weight_l1", "weight_zero_frac")


def ordinary_and_stacked(tmp_path, base: list[str], key: str, values: list):
    overrides = [[*base, f"regularizer.{key}={v}"] for v in values]
    ordinary = [run_config(tmp_path / f"ordinary{i}", o) for i, o in enumerate(overrides)]
    jobs = [Job(compose_config(o), tmp_path / f"stacked{i}", o) for i, o in enumerate(overrides)]
    return ordinary, run_stack(jobs)


def weights(run_dir) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


@pytest.mark.parametrize("base", [LINEAR_SGD, MLP_ADAM], ids=["linear-sgd", "mlp-adam"])
@pytest.mark.parametrize("kind", sorted(GRID))
def test_members_match_ordinary_runs(tmp_path, base, kind):
    key, values = GRID[kind]
    ordinary, stacked = ordinary_and_stacked(tmp_path, [*base, f"regularizer={kind}"], key,
                                             values)
    for i, (one, member) in enumerate(zip(ordinary, stacked)):
        assert member["status"] == one["status"] == "completed"
        torch.testing.assert_close(weights(tmp_path / f"stacked{i}"),
                                   weights(tmp_path / f"ordinary{i}"), rtol=1e-4, atol=1e-5)
        for metric in METRICS:
            assert member[metric] == pytest.approx(one[metric], rel=1e-4, abs=1e-6), metric
        assert member["stacked"]["members"] == len(values)
    if kind in ("l1_prox",):  # exact zeros survive the stacking
        assert stacked[1]["weight_zero_frac"] > 0


def test_a_diverging_member_is_frozen_and_the_others_go_on(tmp_path):
    base = [*LINEAR_SGD, "regularizer=l2", "optimizer.momentum=0", "optimizer.lr=0.05"]
    ordinary, stacked = ordinary_and_stacked(tmp_path, base, "strength", [0.1, 1e4])
    assert [s["status"] for s in stacked] == ["completed", "diverged"]
    assert ordinary[1]["status"] == "diverged"
    assert stacked[1]["diverged_epoch"] == ordinary[1]["diverged_epoch"]
    assert stacked[1]["test_loss"] is None
    assert stacked[0]["epochs"] == 3
    assert stacked[0]["test_loss"] == pytest.approx(ordinary[0]["test_loss"], rel=1e-4)


def test_weight_decay_cannot_vary_per_member(tmp_path):
    base = [*LINEAR_SGD, "regularizer=weight_decay"]
    jobs = [Job(compose_config([*base, f"regularizer.strength={v}"]), tmp_path / str(v), [])
            for v in (0.1, 0.2)]
    with pytest.raises(ConfigError, match="regularizer.strength"):
        run_stack(jobs)


def test_vectorized_sweep_from_the_command_line(tmp_path):
    """Same run directories, same summaries' keys, and checkpoints an ordinary model loads."""
    grid = ["-m", "regularizer=l2", "regularizer.strength=0,1,3", "trainer.max_epochs=4"]
    plain = run_cli([*grid, "hydra.sweep.dir=plain"], cwd=tmp_path)
    stacked = run_cli([*grid, "sweep.vectorize=true", "hydra.sweep.dir=stacked"], cwd=tmp_path)
    assert plain.returncode == 0 and stacked.returncode == 0, stacked.stderr
    names = {p.name for p in (tmp_path / "plain").iterdir() if p.is_dir()}
    assert names == {p.name for p in (tmp_path / "stacked").iterdir() if p.is_dir()}
    assert len(names) == 3
    for name in names:
        one = json.loads((tmp_path / "plain" / name / "summary.json").read_text())
        member = json.loads((tmp_path / "stacked" / name / "summary.json").read_text())
        assert set(one) <= set(member)
        assert member["test_loss"] == pytest.approx(one["test_loss"], rel=1e-4)
        assert (tmp_path / "stacked" / name / "curves.png").is_file()
        state = {k.removeprefix("model."): v for k, v in weights(tmp_path / "stacked" / name).items()}
        model = MLP(200, 1)
        model.load_state_dict(state)  # an ordinary single model
        assert model(torch.zeros(2, 200)).shape == (2, 1)


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_normalised_members_match_ordinary_runs(tmp_path, norm):
    """Each member keeps its own normalisation statistics and affine parameters: weights,
    running statistics and metrics equal its ordinary run's, and its checkpoint loads into an
    ordinary MLP with the same norm."""
    base = [*TINY, "model=mlp", "model.hidden=[8,8]", f"model.norm={norm}",
            "optimizer.lr=0.05", "optimizer.momentum=0.9", "regularizer=l2"]
    ordinary, stacked = ordinary_and_stacked(tmp_path, base, "strength", [0.01, 1.0])
    for i, (one, member) in enumerate(zip(ordinary, stacked)):
        assert member["status"] == one["status"] == "completed"
        state = weights(tmp_path / f"stacked{i}")
        torch.testing.assert_close(state, weights(tmp_path / f"ordinary{i}"), rtol=1e-4,
                                   atol=1e-5)
        for metric in METRICS:
            assert member[metric] == pytest.approx(one[metric], rel=1e-4, abs=1e-6), metric
        for key in ("layer_effective_lr", "layer_angular_update",
                    "layer_angular_update_predicted"):
            assert member[key] == pytest.approx(one[key], rel=1e-3), key
            assert len(member[key]) == 3  # every weight matrix
        model = MLP(10, 1, hidden=[8, 8], norm=norm)
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    if norm == "batch":  # the members' statistics differ: each is its own
        means = [weights(tmp_path / f"stacked{i}")["model.layers.1.running_mean"] for i in (0, 1)]
        assert not torch.allclose(means[0], means[1])
