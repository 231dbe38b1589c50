"""One run on two "nodes": two processes that nothing but their launcher connects (NODE_RANK 0
and 1, MASTER_ADDR 127.0.0.1, a shared MASTER_PORT, one device each), as on two machines. They
share the run directory the launcher gives both; global rank 0 alone writes it."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import torch

from tests.helpers.ddp import NODES, SYNTHETIC, weights
from tests.helpers.runs import run_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(node_rank: int, port: int, args: list[str], cwd) -> subprocess.Popen:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "NODE_RANK": str(node_rank),
           "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", "wdbench", *args, *NODES], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: int = 300) -> tuple[int, str]:
    try:
        stderr = proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        stderr = proc.communicate()[1]
    return proc.returncode, stderr


def run_nodes(tmp_path, args: list[str]) -> list[tuple[int, str]]:
    port = free_port()
    nodes = [start_node(rank, port, args, tmp_path) for rank in (1, 0)]  # node 1 first: it waits
    return [finish(proc) for proc in reversed(nodes)]


@pytest.mark.slow
def test_two_nodes_equal_one_process_with_twice_the_batch(tmp_path):
    """Ground truth as in test_ddp.py: two ranks of 10 rows each take the steps of one process
    with batches of 20 (tolerance 1e-5: float32 sums in another order over 1,000 steps of a
    contracting linear regression). Node 1 writes nothing: the directory holds one run's files."""
    (rank0, err0), (rank1, err1) = run_nodes(tmp_path, [*SYNTHETIC, "hydra.run.dir=runs/two"])
    assert (rank0, rank1) == (0, 0), err0 + err1
    assert "Traceback" not in err0 + err1
    run_dir = tmp_path / "runs" / "two"
    single = run_config(tmp_path / "single", [*SYNTHETIC, "data.batch_size=20", "threads=1"])
    for name, value in weights(tmp_path / "single").items():
        torch.testing.assert_close(weights(run_dir)[name], value, rtol=0, atol=1e-5)
    names = sorted(p.name for p in run_dir.iterdir())
    assert len([n for n in names if n.startswith("events.out.tfevents")]) == 1, names
    assert [n for n in names if n.endswith(".log")] == ["wdbench.log"], names
    assert sorted(p.name for p in (run_dir / ".hydra").iterdir()) == [
        "config.yaml", "hydra.yaml", "overrides.yaml"]
    assert list((tmp_path / "runs").iterdir()) == [run_dir]  # node 1 made no directory
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert summary["test_loss"] == pytest.approx(single["test_loss"], rel=1e-4)


def last_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("node_rank", [0, 1])
def test_a_node_whose_peer_never_starts_fails_within_seconds(tmp_path, node_rank):
    """Alone, node 0 waits for its peer in the rendezvous and node 1 waits for node 0's
    directory, each only ddp_timeout seconds: then one line that says what it waited for."""
    started = time.monotonic()
    proc = start_node(node_rank, free_port(), ["trainer.max_epochs=1", "ddp_timeout=5",
                                               "hydra.run.dir=runs/alone"], tmp_path)
    returncode, stderr = finish(proc, timeout=120)
    assert time.monotonic() - started < 90  # start-up (imports) and the 5 s, not 30 minutes
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    line = last_error_line(stderr)
    assert line.startswith("error: ") and "ddp_timeout=5" in line, stderr
    expected = "rendezvous" if node_rank == 0 else "node 0's run directory"
    assert expected in line, stderr
    if node_rank == 1:  # it wrote nothing into the directory it waited for
        assert not [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]


@pytest.mark.parametrize("node_rank", [0, 1])
def test_nodes_without_a_shared_run_directory_are_refused(tmp_path, node_rank):
    """The default directory is named by the time its process started, which the other node
    cannot know: every node refuses it at once, naming what to give instead."""
    proc = start_node(node_rank, free_port(), ["trainer.max_epochs=1"], tmp_path)
    returncode, stderr = finish(proc, timeout=120)
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    line = last_error_line(stderr)
    assert line.startswith("error: trainer.num_nodes=2 needs a run directory every node"), stderr
    assert "hydra.run.dir=DIR" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))
