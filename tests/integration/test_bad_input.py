"""Bad configuration and bad data: one clear line (key, bad value, what is allowed), a
non-zero exit, no traceback, and nothing that could pass for a result."""

import json

import pytest
import torch

from tests.helpers.runs import FASHION_PRESENT, main_in_process, make_job, run_config, run_main
from wdbench.data import fashion_mnist
from wdbench.errors import ConfigError, DataError, WdbenchError
from wdbench.stacked.run import run_stack


@pytest.mark.parametrize(("argv", "line"), [
    (["regularizer=nope"], "error: regularizer='nope' is invalid: allowed cautious, decoupled, elastic_net, l1, "),
    (["+experiment=nope"], "error: experiment='nope' is invalid: allowed adam_l2_vs_adamw, bias_decay, d2l_synth"),
    # a misspelling: the nearest key first, not `+` (which would add the typo as a new key)
    (["model.hiden=3"], ("error: unknown key model.hiden=3: did you mean model.hidden=3? "
                         "allowed keys: hidden, dropout, init_std, norm\n")),
    (["regularizer=l2", "regularizer.strenght=1e-3"], (
        "error: unknown key regularizer.strenght=1e-3: did you mean regularizer.strength=1e-3? "
        "allowed keys: strength, exclude\n")),
    (["model.width=3"], ("error: unknown key model.width=3: allowed keys: hidden, dropout, "
                         "init_std, norm (to add a new key, write +model.width=3)")),
    (["regularizer.strength=[1"], "error: cannot parse the override 'regularizer.strength=[1'"),
])
def test_hydra_errors_become_one_line(tmp_path, monkeypatch, capsys, argv, line):
    monkeypatch.chdir(tmp_path)
    code, _, err = main_in_process(argv, monkeypatch, capsys)
    assert code == 2
    assert err.startswith(line) and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()  # composition failed: no run directory at all


def test_run_dir_that_cannot_be_created(tmp_path, monkeypatch, capsys):
    (tmp_path / "a_file").write_text("not a directory")
    code, _, err = main_in_process([f"hydra.run.dir={tmp_path}/a_file/run"], monkeypatch, capsys)
    assert code == 2
    assert err == f"error: cannot use {tmp_path}/a_file/run: Not a directory\n"


def test_bad_lr_stops_before_training(tmp_path):
    """The optimizer is only built inside fit; lr is checked at start-up all the same."""
    result = run_main(["optimizer.lr=0"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: optimizer.lr=0 is invalid: allowed a number > 0")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()  # refused before training: nothing left behind


BAD_VALUES = [
    (["regularizer=l2", "regularizer.strength=-0.5"], "regularizer.strength"),
    (["regularizer=l2", "regularizer.strength=lots"], "regularizer.strength"),
    (["regularizer=l2", "regularizer.strength=inf"], "regularizer.strength"),
    (["optimizer.lr=-1"], "optimizer.lr"),
    (["optimizer=adam", "optimizer.lr=fast"], "optimizer.lr"),
    (["data.label_noise=1.5"], "data.label_noise"),
    (["data.label_noise=-0.1"], "data.label_noise"),
    (["data.batch_size=0"], "data.batch_size"),
    (["model=mlp", "model.hidden=[64,0]"], "model.hidden"),
    (["model=mlp", "model.dropout=1"], "model.dropout"),
    (["seed=-1"], "seed"),
    (["trainer.max_epochs=0"], "trainer.max_epochs"),
    (["+model.hiden=3"], "model.hiden"),
    (["+trainer.max_epoch=3"], "trainer.max_epoch"),
    # combinations that make no sense: a strength that regularizer=none would ignore, and an
    # optimizer weight_decay the regulariser's parameter groups would silently replace
    (["regularizer.strength=0.1"], "regularizer.strength"),
    (["regularizer=l2", "+optimizer.weight_decay=0.01"], "optimizer.weight_decay"),
    (["regularizer=decoupled", "regularizer.follow_schedule=yes"], "regularizer.follow_schedule"),
    # a decay that ignores the lr cannot follow the lr's schedule
    (["regularizer=decoupled", "regularizer.scale_by_lr=false", "regularizer.follow_schedule=true"],
     "regularizer.follow_schedule"),
    (["regularizer=decoupled", "regularizer.follow_schedule=true", "regularizer.peak_lr=0"],
     "regularizer.peak_lr"),
    (["metrics.grad_norms=sometimes"], "metrics.grad_norms"),
]


@pytest.mark.parametrize(("overrides", "key"), BAD_VALUES)
def test_bad_value_through_the_training_path(tmp_path, overrides, key):
    with pytest.raises(ConfigError) as err:
        run_config(tmp_path, overrides)
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}=") and "allowed" in str(err.value)
    assert not list(tmp_path.rglob("*"))  # rejected before anything was written


@pytest.mark.parametrize(("overrides", "hint"), [
    (["+model.hiden=3"], "(did you mean model.hidden, without the +?)"),
    (["+trainer.max_epoch=3"], "(did you mean trainer.max_epochs, without the +?)"),
])
def test_an_added_misspelled_key_names_the_nearest_one(tmp_path, overrides, hint):
    with pytest.raises(ConfigError) as err:
        run_config(tmp_path, overrides)
    assert str(err.value).endswith(hint)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_gpu_on_a_machine_without_one_says_what_to_use(tmp_path):
    """Lightning's own line is "No supported gpu backend found!": it names no alternative."""
    with pytest.raises(ConfigError) as err:
        run_config(tmp_path, ["trainer.accelerator=gpu"])
    assert str(err.value) == ("trainer.accelerator='gpu' is invalid: allowed auto, cpu on this "
                              "machine (no gpu found here; auto uses one where there is one)")
    assert not list(tmp_path.rglob("*"))


@pytest.mark.parametrize(("overrides", "key"), BAD_VALUES)
def test_a_stack_refuses_each_bad_value_as_an_ordinary_run_does(tmp_path, overrides, key):
    """Both paths go through one assembly: the same error, word for word, before anything is
    written."""
    with pytest.raises(WdbenchError) as ordinary:
        run_config(tmp_path / "ordinary", overrides)
    jobs = [make_job(tmp_path / f"member{i}", overrides) for i in range(2)]
    with pytest.raises(WdbenchError) as stacked:
        run_stack(jobs)
    assert str(stacked.value) == str(ordinary.value)
    assert not list(tmp_path.rglob("*"))


def test_a_vectorized_sweep_fails_its_jobs_as_a_plain_sweep_does(tmp_path):
    sweep = ["-m", "optimizer.lr=-1,-2", "trainer.max_epochs=1"]
    plain = run_main([*sweep, "hydra.sweep.dir=plain"], cwd=tmp_path)
    stacked = run_main([*sweep, "sweep.vectorize=true", "hydra.sweep.dir=stacked"], cwd=tmp_path)
    assert plain.returncode == stacked.returncode == 1
    names = sorted(p.name for p in (tmp_path / "plain").iterdir() if p.is_dir())
    assert names == sorted(p.name for p in (tmp_path / "stacked").iterdir() if p.is_dir())
    assert len(names) == 2
    for name in names:
        one = json.loads((tmp_path / "plain" / name / "summary.json").read_text())
        member = json.loads((tmp_path / "stacked" / name / "summary.json").read_text())
        assert one["status"] == member["status"] == "failed"
        assert one["error"] == member["error"]


@pytest.mark.skipif(not FASHION_PRESENT, reason="real Fashion-MNIST not installed")
@pytest.mark.parametrize(("overrides", "key"), [
    (["data.train_size=56000"], "data.train_size"),  # 60,000 - 5,000 for validation = 55,000
    (["data.val_size=60000"], "data.val_size"),  # leaves no training image
])
def test_more_than_the_data_holds(tmp_path, overrides, key):
    with pytest.raises(ConfigError, match=rf"^{key}=\d+ is invalid: allowed an integer in"):
        run_config(tmp_path, ["data=fashion_mnist", *overrides])


# --- data problems -------------------------------------------------------------------------

def idx_header(shape: tuple) -> bytes:
    return bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def write_files(root, contents: dict[str, bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for key, (stem, _) in fashion_mnist.FILES.items():
        (root / stem).write_bytes(contents.get(key, contents["default"]))


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fashion_mnist, "DOWNLOAD_DIR", tmp_path / "no-cache")


def fashion_run(root) -> list[str]:
    return ["data=fashion_mnist", f"data.root={root}", "data.download=false"]


def test_missing_files(tmp_path, no_system_copy):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="Fashion-MNIST not found. Looked in: .*empty"):
        run_config(tmp_path / "run", fashion_run(tmp_path / "empty"))


@pytest.mark.parametrize(("contents", "message"), [
    ({"default": b"just some text, not data"}, "is not an unsigned-byte IDX file"),
    ({"default": idx_header((100,)) + bytes(100)}, "expected 28x28 images, got shape"),
    ({"default": idx_header((60000, 28, 28)) + bytes(5000)},
     "-images-idx3-ubyte is truncated or corrupt"),
])
def test_files_of_the_wrong_kind(tmp_path, no_system_copy, contents, message):
    write_files(tmp_path / "root", contents)
    with pytest.raises(DataError, match=message):
        run_config(tmp_path / "run", fashion_run(tmp_path / "root"))


def test_gz_that_is_not_gzip(tmp_path, no_system_copy):
    root = tmp_path / "root"
    root.mkdir()
    for stem, _ in fashion_mnist.FILES.values():
        (root / f"{stem}.gz").write_bytes(idx_header((10,)) + bytes(10))
    with pytest.raises(DataError, match=r"cannot read .*\.gz: Not a gzipped file"):
        run_config(tmp_path / "run", fashion_run(root))


def test_root_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="data.root="):
        run_config(tmp_path / "run", fashion_run(tmp_path / "file"))



def test_batch_norm_with_a_last_minibatch_of_one_row_stops_at_start_up(tmp_path):
    """17 training rows in minibatches of 8 leave one row: batch norm cannot train on it."""
    overrides = ["model=mlp", "model.hidden=[4]", "model.norm=batch", "data.train_size=17",
                 "data.batch_size=8", "trainer.max_epochs=1", "threads=1"]
    with pytest.raises(ConfigError, match="data.batch_size"):
        run_config(tmp_path, overrides)
    assert not (tmp_path / "checkpoints").exists()
