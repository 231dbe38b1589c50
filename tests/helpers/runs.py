"""Compose the real conf/ tree and run into a temporary directory, in-process or as the
command line."""

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

from wdbench.cli import CONF_DIR
from wdbench.data.fashion_mnist import DEBIAN_DIR, FILES
from wdbench.train import run

REPO = Path(__file__).resolve().parent.parent
FASHION_PRESENT = all((DEBIAN_DIR / f"{stem}.gz").is_file() for stem, _ in FILES.values())
FASHION_MISSING = (
    f"real Fashion-MNIST not in {DEBIAN_DIR}: apt-get install dataset-fashion-mnist"
)


def compose_config(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def run_config(tmp_path: Path, overrides: list[str]) -> dict:
    """The real training path (Lightning Trainer, TensorBoard logger) without a subprocess."""
    return run(compose_config(overrides), tmp_path, overrides)


def run_cli(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    """`python -m wdbench ARGS` in its own process, from `cwd` (not the repository)."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "wdbench", *args], cwd=cwd, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)
