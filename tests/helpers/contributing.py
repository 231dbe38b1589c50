"""CONTRIBUTING.md's worked examples: a section's code blocks, a copy of the package to put
them into, and the page's commands run in that copy through the real command line."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.runs import REPO

COMMAND_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
FILE_BLOCK = re.compile(r"```(?:python|yaml)\n(.*?)```", re.DOTALL)
PATH_LINE = re.compile(r"^# (\S+\.(?:py|yaml))$", re.MULTILINE)  # a block's file, in its header


def section(heading: str) -> str:
    """The text of the `## heading` section of CONTRIBUTING.md, up to the next one."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def section_commands(heading: str) -> list[list[str]]:
    """Every `python ...` line of the section's shell blocks, split as the shell splits it."""
    return [shlex.split(line) for block in COMMAND_BLOCK.findall(section(heading))
            for line in block.splitlines() if line.startswith("python ")]


def section_files(heading: str) -> dict[str, str]:
    """Each code block of the section that names its file in a `# path` header line, by path."""
    named = ((PATH_LINE.search(block), block) for block in FILE_BLOCK.findall(section(heading)))
    return {path.group(1): block for path, block in named if path}


def copy_package(root: Path) -> Path:
    """The package, its configs and Hydra plugins copied into `root`."""
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("wdbench", "conf", "hydra_plugins"):
        shutil.copytree(REPO / part, root / part, ignore=ignore)
    return root


def run_in(root: Path, command: list[str], run_dir: str) -> subprocess.CompletedProcess:
    """`python -m wdbench ...` in the copy, which is first on the path."""
    assert command[:3] == ["python", "-m", "wdbench"]
    where = "hydra.sweep.dir" if "-m" in command[3:] else "hydra.run.dir"
    return subprocess.run([sys.executable, *command[1:], "threads=1", "metrics.figure=false",
                           f"{where}={run_dir}"], cwd=root, env=copy_env(root),
                          capture_output=True, text=True, timeout=300, check=False)


def copy_env(root: Path) -> dict:
    return {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
