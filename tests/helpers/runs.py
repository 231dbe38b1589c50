"""Compose the real conf/ tree and run into a temporary directory, in-process or as the
command line."""

import contextlib
import io
import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path

from hydra.core.global_hydra import GlobalHydra

from tests.helpers import process_state
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


def run_main(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """`python -m wdbench ARGS` from `cwd` through the same entry point (`wdbench.cli.main`:
    Hydra's argument parsing, sweeper and launcher, the one-line errors, the exit status) in
    this process, without a new process's seconds of imports. What it leaves in the process
    (cwd, argv, logging, Hydra's global state) is put back after each call, so that
    two calls in one test see each other's files only. What a launcher's worker processes
    print (hydra/launcher=parallel) is not in the result. Tests about the process itself
    (signals, ranks, the environment it starts with) keep run_cli."""
    before = process_state.take()
    compose_session = GlobalHydra.instance().hydra  # a test's own compose API, set aside
    GlobalHydra.instance().clear()
    os.chdir(cwd)
    sys.argv[:] = ["wdbench", *args]
    os.environ["HYDRA_FULL_ERROR"] = "0"
    try:
        code, out, err = call_as_process(cli.main)
    finally:
        stop_launcher_workers()
        process_state.restore(before)
        GlobalHydra.instance().clear()
        if compose_session is not None:
            GlobalHydra.instance().initialize(compose_session)
    return subprocess.CompletedProcess(["wdbench", *args], code, out, err)


def run_script(script: Path, args: list[str], cwd: Path | None = None
               ) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` in this process, from `cwd` if given, with sys.argv and sys.path[0]
    as python sets them: its exit status, stdout and stderr, without a new process's seconds of
    importing torch, pandas and matplotlib. What it leaves in the process is put back after it,
    as run_main's is; a test about the process itself keeps subprocess."""
    before = process_state.take()
    path = list(sys.path)
    if cwd is not None:
        os.chdir(cwd)
    sys.argv[:] = [str(script), *args]
    sys.path.insert(0, str(script.parent))
    try:
        code, out, err = call_as_process(lambda: runpy.run_path(str(script), run_name="__main__"))
    finally:
        sys.path[:] = path
        process_state.restore(before)
    return subprocess.CompletedProcess([str(script), *args], code, out, err)


def call_as_process(entry) -> tuple[int, str, str]:
    """Call `entry()` as a process runs its main: stdout and stderr captured, `sys.exit(code)`
    giving the exit status, an uncaught exception a traceback on stderr and status 1."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            entry()
        except SystemExit as stop:
            code = exit_status(stop.code, err)
        except Exception:  # noqa: BLE001 - as a process would: traceback on stderr, 1
            traceback.print_exc(file=err)
            code = 1
    return code, out.getvalue(), err.getvalue()


def exit_status(code, err: io.StringIO) -> int:
    """The status `sys.exit(code)` gives a process: a message is printed and means 1."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=err)
    return 1


def stop_launcher_workers() -> None:
    """joblib (hydra/launcher=parallel) keeps its worker processes for the next call, which
    they would run in this call's cwd; a process of its own would start new ones."""
    if "joblib" in sys.modules:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor(reuse=True).shutdown(wait=True)
