"""README's first steps run as printed, in a shell with no Python environment on its PATH:
the block that activates .venv, up to its first try (`python -m wdbench`), from a directory
that holds only the repository's .venv, as a fresh clone does after setup."""

import os
import subprocess

from tests.helpers.docs import code_blocks
from tests.helpers.runs import REPO

ACTIVATE = ". .venv/bin/activate"
FIRST_TRY = "python -m wdbench"


def first_steps() -> list[str]:
    """The README block's lines from its activation to its first try, comments dropped."""
    block = next(b for b in code_blocks((REPO / "README.md").read_text())
                 if any(line.startswith(ACTIVATE) for line in b))
    commands = [line.split("#")[0].strip() for line in block]
    return commands[:commands.index(FIRST_TRY) + 1]


def run_in_plain_shell(lines: list[str], cwd) -> subprocess.CompletedProcess:
    """bash -e with the system's PATH only: no activated environment, no pyenv shims."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"VIRTUAL_ENV", "PATH", "PYENV_VERSION"}}
    env["PATH"] = "/usr/bin:/bin"
    return subprocess.run(["bash", "-e", "-c", "\n".join(lines)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_first_steps_run_as_printed_in_a_plain_shell(tmp_path):
    steps = first_steps()
    assert steps[0] == ACTIVATE, steps
    (tmp_path / ".venv").symlink_to(REPO / ".venv")

    result = run_in_plain_shell(steps, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list(tmp_path.glob("runs/default/*/summary.json"))) == 1

    without_activation = run_in_plain_shell(steps[1:], tmp_path)
    assert without_activation.returncode != 0
