"""README's first line and what it installs: the lock is what the standard tool resolves from
pyproject.toml, setup's second call skips the install, and the screenshot script makes the
pictures README shows."""

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from tests.helpers.runs import REPO


def packages(lock_text: str) -> set[str]:
    return {line.strip() for line in lock_text.splitlines() if re.match(r"^[a-z0-9]", line)}


def configured_indexes() -> str:
    """The extra indexes pip is configured with (scripts/lock.sh's default), '' where none."""
    result = subprocess.run([sys.executable, "-m", "pip", "config", "get",
                             "global.extra-index-url"], capture_output=True, text=True,
                            check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


def newer_release_index(root, name: str, version: str) -> str:
    """A local simple index offering one wheel, `name` at `version`: the registry moving on."""
    wheel = root / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    (root / "simple" / name).mkdir(parents=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{info}/METADATA",
                         f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                         "Root-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    (root / "simple" / "index.html").write_text(f'<a href="{name}/">{name}</a>')
    (root / "simple" / name / "index.html").write_text(
        f'<a href="../../{wheel.name}">{wheel.name}</a>')
    return (root / "simple").as_uri()


def relock(tmp_path, pyproject: str | None = None, extra_index: str = "",
           upgrade: bool = False) -> set[str]:
    """Run scripts/lock.sh over a copy of the committed lock in a copy of the repository's lock
    inputs (pyproject replaced by `pyproject` if given); return the packages it pins."""
    repo = tmp_path / ("upgraded" if upgrade else "repo")
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "lock.sh", repo / "scripts")
    shutil.copytree(REPO / "requirements", repo / "requirements")
    (repo / "pyproject.toml").write_text(pyproject or (REPO / "pyproject.toml").read_text())
    env = {**os.environ, "LOCK_INDEX": f"{extra_index} {configured_indexes()}".strip()}
    env["LOCK_UPGRADE"] = "1" if upgrade else "0"
    result = subprocess.run(["bash", str(repo / "scripts" / "lock.sh")], check=False,
                            capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0 and "uv" in result.stderr and "No solution" not in result.stderr:
        pytest.skip(f"uv could not be installed or reach an index: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr
    return packages((repo / "requirements" / "lock.txt").read_text())


COMMITTED = packages((REPO / "requirements" / "lock.txt").read_text())


@pytest.mark.slow
def test_lock_is_what_uv_resolves_from_pyproject(tmp_path):
    """`bash scripts/lock.sh` run again pins exactly the committed versions, also where the
    registry offers a newer release of a locked package (prettytable 99.0 here): the lock is the
    tool's output for this pyproject, not an edited freeze, and a release made by someone else
    does not turn it red."""
    assert "prettytable==3.19.0" in COMMITTED
    index = newer_release_index(tmp_path / "index", "prettytable", "99.0")
    assert relock(tmp_path, extra_index=index) == COMMITTED
    # the index is seen: a lock made without the old one's versions takes the newer release
    assert "prettytable==99.0" in relock(tmp_path, extra_index=index, upgrade=True)
    assert {"torch==2.14.1", "torchvision==0.29.1"} <= COMMITTED


@pytest.mark.slow
@pytest.mark.parametrize("change", [
    ('"numpy>=1.24"', '"numpy>=1.24,<2.4"'),  # a bound the locked numpy 2.4.6 violates
    ('"matplotlib>=3.7",', '"matplotlib>=3.7",\n    "tomli-w>=1.0",'),  # a new dependency
], ids=["violated_bound", "new_dependency"])
def test_lock_differs_after_an_unlocked_pyproject_change(tmp_path, change):
    """The check above fails when pyproject.toml changes in a way the lock does not satisfy."""
    old, new = change
    pyproject = (REPO / "pyproject.toml").read_text()
    assert old in pyproject and not any(p.startswith("tomli-w==") for p in COMMITTED)
    assert relock(tmp_path, pyproject=pyproject.replace(old, new, 1)) != COMMITTED


def test_installed_versions_are_the_locked_ones():
    """The environment the tests run in has what the lock says, where it came from the lock."""
    from importlib.metadata import version

    stamp = REPO / ".venv" / ".wdbench-installed"
    if not stamp.is_file() or not sys.prefix.startswith(str(REPO / ".venv")):
        pytest.skip("not running in a .venv made by scripts/setup.sh (CI makes one)")
    pins = dict(p.split("==") for p in packages((REPO / "requirements" / "lock.txt").read_text()))
    for name in ("torch", "torchvision", "pytorch-lightning", "hydra-core", "numpy"):
        assert version(name).split("+")[0] == pins[name], name


def test_second_setup_call_skips_the_install():
    stamp = REPO / ".venv" / ".wdbench-installed"
    if not stamp.is_file():
        pytest.skip("no .venv made by scripts/setup.sh in this checkout (CI makes one)")
    started = time.perf_counter()
    result = subprocess.run(["bash", str(REPO / "scripts" / "setup.sh")], check=False,
                            capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout and "installing" not in result.stdout
    assert time.perf_counter() - started < 30  # no pip at all: well under a second when idle


@pytest.mark.slow
def test_screenshot_script_captures_tensorboard(tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium not installed (apt-get install chromium): no screenshots")
    import matplotlib.image

    sweep = "regularizer=l2 regularizer.strength=0,0.1,3 trainer.max_epochs=3"
    result = subprocess.run(["bash", str(REPO / "scripts" / "screenshots.sh")], check=False,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "SWEEP": sweep, "OUT": str(tmp_path),
                                 "PYTHON": sys.executable})
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("timeseries", "hparams"):
        image = matplotlib.image.imread(tmp_path / f"tensorboard_{page}.png")
        assert image.shape[:2] == (1000, 1400)  # the window a laptop shows
        header = image[10:40, 600:900, :3].reshape(-1, 3)  # TensorBoard's orange title bar
        assert ((header[:, 0] > 0.9) & (header[:, 2] < 0.2)).mean() > 0.9, page
        assert len({tuple(p) for p in image[60:, :, :3].reshape(-1, 3)[::97]}) > 20, page


def test_installed_package_brings_the_hydra_launchers(tmp_path):
    """wdbench's launchers (SLURM; stacking, the default) live in the `hydra_plugins`
    namespace package, where Hydra looks for them; setup.sh's editable install must merge it
    with the one of the installed plugins, from any directory and without PYTHONPATH
    (as a SLURM job unpickles it)."""
    python = REPO / ".venv" / "bin" / "python"
    if not (REPO / ".venv" / ".wdbench-installed").is_file():
        pytest.skip("no .venv made by scripts/setup.sh in this checkout (CI makes one)")
    code = ("from hydra.core.plugins import Plugins; import hydra_plugins.wdbench_launchers.slurm"
            " as m; print(m.__file__); print(sorted(Plugins.instance().class_name_to_class))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(python), "-c", code], cwd=tmp_path, env=env, check=False,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    where, plugins = result.stdout.splitlines()[-2:]
    assert where == str(REPO / "hydra_plugins" / "wdbench_launchers" / "slurm.py")
    assert "hydra_plugins.wdbench_launchers.slurm.ResumingSlurmLauncher" in plugins
    assert "hydra_plugins.wdbench_launchers.stacking.StackingLauncher" in plugins  # the default
    assert "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher" in plugins
