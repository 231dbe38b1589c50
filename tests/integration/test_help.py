"""`python -m wdbench --help`: the experiments, the groups a user picks (not the internal
setup/ and tuning/ parts) and the main keys, each of which exists in the config."""

from omegaconf import OmegaConf

from tests.helpers.runs import compose_config, run_main
from wdbench.config.compose import CONF_DIR
from wdbench.config.help import options

MISSING = object()


def main_keys(page: str) -> list[str]:
    section = page.split("== Main keys ==\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines()]


def test_help_lists_experiments_user_groups_and_main_keys(tmp_path):
    result = run_main(["--help"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = result.stdout
    experiments = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
    assert len(experiments) > 20
    assert all(name in page for name in experiments)
    for group in ("data", "model", "regularizer", "optimizer", "scheduler", "hydra/launcher"):
        assert f"\n  {group}=" in page
    # Hydra's generic page offers these as choices: they are parts experiments include.
    for internal in ("setup", "tuning"):
        assert f"{internal}:" not in page and f"{internal}=" not in page
        assert not any(option in page for option in options(internal))
    keys = main_keys(page)
    assert "regularizer.strength" in keys and len(keys) >= 10
    # model.hidden is the MLP's, regularizer.follow_schedule decoupled's
    cfg = compose_config(["model=mlp", "regularizer=decoupled"])
    absent = [k for k in keys if OmegaConf.select(cfg, k, default=MISSING) is MISSING]
    assert absent == []
    assert not (tmp_path / "runs").exists()  # help runs nothing
