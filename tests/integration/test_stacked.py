"""A grid trained as one stacked model equals the same runs trained one by one: every
regulariser kind, linear and MLP, SGD and Adam, same seed and data order."""

import csv
import json

import pytest
import torch

from tests.helpers.runs import (
    FASHION_MISSING,
    FASHION_PRESENT,
    compose_config,
    make_job,
    run_config,
    run_main,
)
from tests.helpers.tb import hparams_data, last_value, read_events, session_hparams
from wdbench.models import MLP
from wdbench.regularizers import KINDS
from wdbench.stacked.grid import group_jobs
from wdbench.stacked.run import run_stack
from wdbench.training.job import Job

TINY = ["data.train_size=40", "data.val_size=10", "data.test_size=20", "data.num_inputs=10",
        "data.batch_size=8", "trainer.max_epochs=3", "threads=1"]
LINEAR_SGD = [*TINY, "model=linear", "optimizer.lr=0.01", "optimizer.momentum=0.9"]
MLP_ADAM = [*TINY, "model=mlp", "model.hidden=[8]", "optimizer=adam", "optimizer.lr=0.01"]
# kind -> (per-member key, the members' values): every member its own value where the
# kind declares a per-member key (regularizers/registry.py), so a mix-up between members
# shows; `none` and `weight_decay` have none: a stack of one member each. A kind not listed
# gets its default and four times it (`example`).
EXAMPLES = {
    "none": ("strength", [0]),
    "l2": ("strength", [0.1, 1.0]),
    "weight_decay": ("strength", [0.5]),
    "decoupled": ("strength", [0.1, 1.0]),
    "l1": ("strength", [0.01, 0.1]),
    "l1_prox": ("strength", [0.01, 3.0]),
    "elastic_net": ("strength", [0.05, 0.5]),
    "norm_ball": ("radius", [0.5, 2.0]),
    "max_norm": ("radius", [0.3, 1.0]),
}
STACKABLE = sorted(name for name, info in KINDS.items() if info.stackable)
METRICS = ("train_loss", "val_loss", "test_loss", "weight_l2", "weight_l1", "weight_zero_frac")


def ordinary_and_stacked(tmp_path, base: list[str], key: str, values: list):
    overrides = [[*base, f"regularizer.{key}={v}"] for v in values]
    ordinary = [run_config(tmp_path / f"ordinary{i}", o) for i, o in enumerate(overrides)]
    jobs = [make_job(tmp_path / f"stacked{i}", o) for i, o in enumerate(overrides)]
    return ordinary, run_stack(jobs)


def weights(run_dir) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]


def example(kind: str) -> tuple[str, list]:
    if kind in EXAMPLES:
        return EXAMPLES[kind]
    info = KINDS[kind]
    key = (info.per_member or info.hparams or ("strength",))[0]
    default = compose_config([f"regularizer={kind}"]).regularizer.get(key, 0)
    return key, [default, 4 * default or 1.0] if key in info.per_member else [default]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_an_example_that_varies_what_it_declares(kind):
    key, values = example(kind)
    assert (key in KINDS[kind].per_member) == (len(set(values)) > 1)


@pytest.mark.parametrize("base", [LINEAR_SGD, MLP_ADAM], ids=["linear-sgd", "mlp-adam"])
@pytest.mark.parametrize("kind", STACKABLE)
def test_members_match_ordinary_runs(tmp_path, base, kind):
    key, values = example(kind)
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


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_jobs_stack_together_only_where_the_kind_allows(tmp_path, kind):
    """Jobs that differ in a key the kind declares per-member share a stack; in any other
    key (weight_decay's strength: a torch optimizer holds one weight_decay per group), they
    form separate stacks."""
    key = "radius" if "radius" in KINDS[kind].hparams else "strength"
    values = [0, 0] if kind == "none" else [0.5, 2.0]  # none's strength is always 0
    base = [*LINEAR_SGD, f"regularizer={kind}"]
    jobs = [Job(compose_config([*base, f"regularizer.{key}={v}"]), tmp_path / str(i), [])
            for i, v in enumerate([*values, *values])]
    stacks = group_jobs(jobs, max_members=32)
    if not KINDS[kind].stackable:
        assert [len(s) for s in stacks] == [1, 1, 1, 1]
    elif key in KINDS[kind].per_member or len(set(values)) == 1:
        assert [len(s) for s in stacks] == [4]
    else:
        assert [[j.run_dir.name for j in s] for s in stacks] == [["0", "2"], ["1", "3"]]


def test_weight_decay_strengths_train_as_separate_stacks(tmp_path):
    """A vectorized sweep over weight_decay's strength: two stacks, each member as its
    ordinary run."""
    base = [*LINEAR_SGD, "regularizer=weight_decay"]
    overrides = [[*base, f"regularizer.strength={v}"] for v in (0.1, 0.2)]
    jobs = [make_job(tmp_path / f"stacked{i}", o) for i, o in enumerate(overrides)]
    stacks = group_jobs(jobs, max_members=32)
    assert len(stacks) == 2
    stacked = [summary for stack in stacks for summary in run_stack(stack)]
    ordinary = [run_config(tmp_path / f"ordinary{i}", o) for i, o in enumerate(overrides)]
    for one, member in zip(ordinary, stacked):
        assert member["test_loss"] == pytest.approx(one["test_loss"], rel=1e-4)


def test_a_stack_refuses_jobs_that_differ_beyond_per_member_keys(tmp_path):
    base = [*LINEAR_SGD, "regularizer=weight_decay"]
    jobs = [Job(compose_config([*base, f"regularizer.strength={v}"]), tmp_path / str(v), [])
            for v in (0.1, 0.2)]
    with pytest.raises(ValueError, match="cannot share a stack"):
        run_stack(jobs)


def test_vectorized_sweep_from_the_command_line(tmp_path):
    """Same run directories, same summaries' keys, checkpoints an ordinary model loads, and
    each member its own TensorBoard run: scalars and HParams row of its own strength."""
    grid = ["-m", "regularizer=l2", "regularizer.strength=0,1,3", "trainer.max_epochs=4"]
    plain = run_main([*grid, "hydra.sweep.dir=plain"], cwd=tmp_path)
    stacked = run_main([*grid, "sweep.vectorize=true", "hydra.sweep.dir=stacked"], cwd=tmp_path)
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
        model.load_state_dict(state)  # an ordinary single model, holding the plain run's weights
        plain_state = {k.removeprefix("model."): v
                       for k, v in weights(tmp_path / "plain" / name).items()}
        torch.testing.assert_close(model.state_dict(), plain_state, rtol=1e-4, atol=1e-5)
        member_events(tmp_path / "stacked" / name, member)
        # HParams columns: the regulariser and the swept key, for a stack as for a sweep.
        for sweep in ("plain", "stacked"):
            experiment = hparams_data(read_events(tmp_path / sweep / name))["experiment"]
            assert {h.name: h.differs for h in experiment.experiment.hparam_infos} == {
                "regularizer": False, "regularizer.strength": True}, sweep


def member_events(run_dir, summary: dict) -> None:
    """The member's own event file: its curves end at its summary, its HParams row names its
    strength and carries its final metrics."""
    assert len(list(run_dir.glob("events.out.tfevents.*"))) == 1
    events = read_events(run_dir)
    assert [e.step for e in events.Scalars("loss/test")] == list(range(5))
    assert last_value(events, "loss/test") == pytest.approx(summary["test_loss"], rel=1e-6)
    assert last_value(events, "weights/l2") == pytest.approx(summary["weight_l2"], rel=1e-6)
    hparams = session_hparams(events)
    strength = next(o for o in summary["overrides"] if o.startswith("regularizer.strength="))
    assert hparams["regularizer.strength"] == float(strength.split("=")[1])
    assert hparams["regularizer"] == "l2" and hparams["status"] == "completed"


def test_a_kind_nobody_declared_trains_each_job_on_its_own(tmp_path):
    """The base class stands for a user's own kind: unknown to the registry, so a vectorized
    sweep trains each of its jobs as an ordinary run instead of stacking them."""
    result = run_main(["-m", "regularizer._target_=wdbench.regularizers.Regularizer",
                       "regularizer.strength=0,0.5", "trainer.max_epochs=2",
                       "sweep.vectorize=true", "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json")]
    assert len(summaries) == 2
    assert all(s["status"] == "completed" and "stacked" not in s for s in summaries)


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


def test_a_frozen_member_keeps_its_batch_norm_statistics(tmp_path):
    """λ = 300 diverges in epoch 1 with finite running statistics (about 1e8), which later
    forward passes would go on moving (to about 1e26): the frozen member's stay those its
    ordinary run stopped with, the other member's follow its own ordinary run to the end."""
    base = [*TINY, "model=mlp", "model.hidden=[8]", "model.norm=batch", "regularizer=l2",
            "optimizer.momentum=0", "optimizer.lr=0.05"]
    ordinary, stacked = ordinary_and_stacked(tmp_path, base, "strength", [0.1, 300])
    assert [s["status"] for s in stacked] == ["completed", "diverged"]
    assert stacked[1]["diverged_epoch"] == ordinary[1]["diverged_epoch"] == 1
    for i in (0, 1):
        state = weights(tmp_path / f"stacked{i}")
        one = weights(tmp_path / f"ordinary{i}")
        for key in ("model.layers.1.running_mean", "model.layers.1.running_var"):
            assert torch.isfinite(state[key]).all(), key
            torch.testing.assert_close(state[key], one[key], rtol=1e-4, atol=1e-5)


ISSUE_GRID = [0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]


@pytest.mark.skipif(not FASHION_PRESENT, reason=FASHION_MISSING)
def test_eight_members_match_their_ordinary_runs_on_fashion_mnist(tmp_path):
    """The 8-member grid of mlp_l2 (784-256-10, batch 256, SGD momentum 0.9) on 2,000 real
    Fashion-MNIST images, 3 epochs: every member's test loss, accuracy and ‖w‖ equal its
    ordinary run's to rel 1e-4. Only float32 rounding separates them (the batched matmul sums
    in another order; the same plain loops in float64 agree to 1e-14 over a full epoch), here
    about 1e-6. Over hundreds of steps that rounding now and then puts a ReLU input on the
    other side of zero, which changes that step's gradient by a whole term: a member then
    drifts by up to a few percent, and its ordinary float32 run drifts as far from its own
    float64 run, so the stack is no less exact than the ordinary run."""
    base = ["+experiment=mlp_l2", "model.hidden=[256]", "model.dropout=0",
            "data.train_size=2000", "data.batch_size=256", "metrics.figure=false",
            "trainer.max_epochs=3", "threads=1"]
    ordinary, stacked = ordinary_and_stacked(tmp_path, base, "strength", ISSUE_GRID)
    for strength, one, member in zip(ISSUE_GRID, ordinary, stacked):
        assert member["stacked"]["members"] == len(ISSUE_GRID)
        for metric in ("test_loss", "test_acc", "weight_l2"):
            assert member[metric] == pytest.approx(one[metric], rel=1e-4), (strength, metric)
    assert stacked[-1]["weight_l2"] < stacked[0]["weight_l2"]  # each member its own λ


def test_gradient_norms_of_members_match_ordinary_runs(tmp_path):
    """metrics.grad_norms per member (||g|| and ||g||/||w|| per matrix, the prediction), with
    the decay following a cosine schedule: every tag of each member's history equals its
    ordinary run's."""
    base = [*TINY, "model=mlp", "model.hidden=[8,8]", "model.norm=batch", "optimizer.lr=0.05",
            "optimizer.momentum=0.9", "regularizer=decoupled", "regularizer.follow_schedule=true",
            "scheduler=cosine", "metrics.grad_norms=true"]
    ordinary_and_stacked(tmp_path, base, "strength", [0.1, 1.0])
    for i in (0, 1):
        one, member = (read_history(tmp_path / f"{kind}{i}") for kind in ("ordinary", "stacked"))
        tags = [k for k in one[-1] if "grad_" in k]
        assert len(tags) == 9  # three matrices: norm, ratio, predicted
        for tag in tags:
            assert float(member[-1][tag]) == pytest.approx(float(one[-1][tag]), rel=1e-3), tag


def read_history(run_dir) -> list[dict]:
    with open(run_dir / "history.csv") as f:
        return list(csv.DictReader(f))
