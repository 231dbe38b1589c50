"""Compose the real conf/ tree and run into a temporary directory, in-process or as the
command line."""

import os
import subprocess
import sys
from pathlib import Path

from wdbench import cli
from wdbench.config.compose import compose_run
from wdbench.data.fashion_mnist import DEBIAN_DIR, FILES
from wdbench.training.job import Job
from wdbench.training.train import run

REPO = Path(__file__).resolve().parents[2]
FASHION_PRESENT = all((DEBIAN_DIR / f"{stem}.gz").is_file() for stem, _ in FILES.values())
FASHION_MISSING = (
    f"real Fashion-MNIST not in {DEBIAN_DIR}: apt-get install dataset-fashion-mnist"
)


def compose_config(overrides: list[str]):
    return compose_run(overrides)[0]


def make_job(run_dir: Path, overrides: list[str]) -> Job:
    """A job as the command line makes it: config, directory, overrides and options."""
    cfg, choices = compose_run(overrides)
    return Job(cfg, run_dir, overrides, choices)


def run_config(tmp_path: Path, overrides: list[str]) -> dict:
    """The real training path (Lightning Trainer, TensorBoard logger) without a subprocess."""
    cfg, choices = compose_run(overrides)
    return run(cfg, tmp_path, overrides, choices)


def main_in_process(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """The real entry point (`wdbench.cli.main`, Hydra's argument parsing included) without a
    process of its own: its exit status, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["wdbench", *argv])
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    try:
        cli.main()
    except SystemExit as stopped:
        return stopped.code, *capsys.readouterr()
    return 0, *capsys.readouterr()


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m wdbench ARGS` in its own process, from `cwd` (not the repository)."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "wdbench", *args], cwd=cwd, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)
