"""The commands of README.md and docs/*.md: each is run by a test (tests/docs/readme_commands.py
says which), or marked where it is shown as needing hardware CI lacks. The commands no other
test runs are run here as written plus overrides that only make them smaller."""

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
from readme_commands import CI_SCRIPT, RUN_BY, SHRUNK
from shrink import OPTUNA_TRIALS, SMALLER, experiment_sweep, shrunk

from tests.helpers.docs import DOC_FILES, documented_commands, readme_commands
from tests.helpers.runs import REPO, run_config, run_main

DOCUMENTED = documented_commands()


def test_walker_reads_blocks_continuations_and_marks():
    text = ("Text\n\n    python -m wdbench a=1   # a comment\n    tensorboard --logdir \\\n"
            "        runs/\n\n```bash\nbash x.sh 'q # not a comment' # needs a GPU\n```\n"
            "```text\nnot -> a command\n```\n")
    assert readme_commands(text) == {"python -m wdbench a=1": False,
                                     "tensorboard --logdir runs/": False,
                                     "bash x.sh 'q # not a comment'": True}


def test_walker_reads_readme_and_every_docs_page():
    names = {str(p.relative_to(REPO)) for p in DOC_FILES}
    assert {"README.md", "docs/README.md", "docs/sweeps.md"} <= names
    assert DOCUMENTED["bash scripts/results.sh 1"][1] == "docs/results.md"


def test_every_documented_command_is_run_by_a_test():
    missing = [f"{file}: {c}" for c, (hardware, file) in DOCUMENTED.items()
               if not hardware and not RUN_BY.get(c)]
    assert not missing, "commands no test runs (declare them in readme_commands.py):\n" \
        + "\n".join(missing)


def test_every_registered_command_is_still_documented():
    gone = [c for c in RUN_BY if c not in DOCUMENTED]
    assert not gone, "listed in readme_commands.py but in neither README nor docs/:\n" \
        + "\n".join(gone)


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
    """A sweep through the command line's entry point (Hydra's sweeper and launcher), a single
    run through the same composition and training, both in this process (the command line's
    own process is tested apart)."""
    for i, args in enumerate(wdbench_runs(command)):
        cwd = tmp_path / str(i)
        cwd.mkdir()
        if is_sweep(args):
            result = run_main(shrunk(args), cwd=cwd)
            assert result.returncode == 0, result.stderr[-3000:]
        else:
            run_config(cwd, shrunk(args))
        summaries = [json.loads(p.read_text()) for p in cwd.rglob("summary.json")]
        assert summaries and all(s["status"] == "completed" for s in summaries), summaries
