"""README's commands: each is run by a test (tests/readme_commands.py says which), or marked
in README as needing hardware CI lacks. The commands no other test runs are run here as
written plus overrides that only make them smaller."""

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
from readme_commands import CI_SCRIPT, RUN_BY, SHRUNK
from shrink import OPTUNA_TRIALS, SMALLER, experiment_sweep, shrunk

from tests.helpers.runs import REPO, run_cli, run_config

HARDWARE = re.compile(r"#\s*needs (a GPU|\d+ GPUs|several GPUs|several nodes|a SLURM cluster)")
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}


def code_blocks(text: str) -> list[list[str]]:
    """The lines of each shell code block: fenced (```, ```bash; not ```text) or indented by
    four spaces after a blank line, outside fences."""
    blocks, current, fence, previous_blank = [], None, None, True
    for line in text.splitlines():
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip()
                current = [] if fence in SHELL_FENCES else None
            else:
                if current:
                    blocks.append(current)
                fence, current = None, None
            continue
        if fence is not None:
            if current is not None:
                current.append(line)
        elif line.startswith("    ") and (previous_blank or current is not None):
            current = (current or []) + [line[4:]]
        else:
            if current:
                blocks.append(current)
            current = None
        previous_blank = fence is None and not line.strip()
    if current:
        blocks.append(current)
    return blocks


def strip_comment(line: str) -> str:
    """The line without a trailing `# ...` that is outside quotes."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def readme_commands(text: str) -> dict[str, bool]:
    """{normalised command: needs hardware CI lacks} for every command in README's blocks;
    lines ending in a backslash continue on the next."""
    found, pending, hardware = {}, "", False
    for block in code_blocks(text):
        for line in block:
            hardware = hardware or bool(HARDWARE.search(line))
            code = strip_comment(line).rstrip()
            if code.endswith("\\"):
                pending += code[:-1] + " "
                continue
            command = " ".join((pending + code).split())
            pending = ""
            if command:
                found[command] = hardware
            hardware = False
    return found


README = readme_commands((REPO / "README.md").read_text())


def test_walker_reads_blocks_continuations_and_marks():
    text = ("Text\n\n    python -m wdbench a=1   # a comment\n    tensorboard --logdir \\\n"
            "        runs/\n\n```bash\nbash x.sh 'q # not a comment' # needs a GPU\n```\n"
            "```text\nnot -> a command\n```\n")
    assert readme_commands(text) == {"python -m wdbench a=1": False,
                                     "tensorboard --logdir runs/": False,
                                     "bash x.sh 'q # not a comment'": True}


def test_every_readme_command_is_run_by_a_test():
    missing = [c for c, hardware in README.items() if not hardware and not RUN_BY.get(c)]
    assert not missing, "README commands no test runs (declare them in readme_commands.py):\n" \
        + "\n".join(missing)


def test_every_registered_command_is_still_in_readme():
    gone = [c for c in RUN_BY if c not in README]
    assert not gone, "listed in readme_commands.py but not in README:\n" + "\n".join(gone)


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_named_test_exists():
    ci = (REPO / CI_SCRIPT).read_text()
    for command, runners in RUN_BY.items():
        for runner in runners:
            if runner == CI_SCRIPT:
                assert command in ci, f"{CI_SCRIPT} does not run {command!r}"
                continue
            file, _, function = runner.partition("::")
            assert (REPO / file).is_file() and function in defined_tests(REPO / file), runner


def wdbench_runs(command: str) -> list[list[str]]:
    """The wdbench argument lists a README command runs (a `for` loop: one per item)."""
    loop = re.fullmatch(r"for (\w+) in (.+?); do (.+?); done", command)
    if loop:
        var, items, body = loop.groups()
        return [r for item in items.split() for r in wdbench_runs(body.replace(f"${var}", item))]
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "wdbench"], command
    return [words[3:]]


def test_shrinking_keeps_the_command():
    assert shrunk(["-m", "+experiment=mlp_l2", "regularizer.strength=0,1e-3",
                   "regularizer.exclude=[1d],[]", "trainer.max_epochs=10"]) == [
        "-m", "+experiment=mlp_l2", "regularizer.strength=0", "regularizer.exclude=[1d]",
        *SMALLER]
    assert shrunk(["+experiment=lambda_grid_mlp"])[1:3] == ["regularizer.strength=0", "seed=0"]
    assert OPTUNA_TRIALS in shrunk(["+experiment=lambda_search_mlp"])


def is_sweep(args: list[str]) -> bool:
    return "-m" in args or bool(experiment_sweep(args))


@pytest.mark.slow
@pytest.mark.parametrize("command", [c for c, runners in RUN_BY.items() if SHRUNK in runners])
def test_readme_command_runs_shrunk(tmp_path, needs_fashion_mnist, command):
    """A sweep through the command line, in its own process; a single run through the same
    composition and training in this process (the command line itself is tested apart)."""
    for i, args in enumerate(wdbench_runs(command)):
        cwd = tmp_path / str(i)
        cwd.mkdir()
        if is_sweep(args):
            result = run_cli(shrunk(args), cwd=cwd)
            assert result.returncode == 0, result.stderr[-3000:]
        else:
            run_config(cwd, shrunk(args))
        summaries = [json.loads(p.read_text()) for p in cwd.rglob("summary.json")]
        assert summaries and all(s["status"] == "completed" for s in summaries), summaries
