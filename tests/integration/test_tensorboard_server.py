"""A real 2-job multirun through the command line (the lecture's demo at lambda = 0 and 3),
then a real `tensorboard` server on a free loopback port, asked through its HTTP data API and
drawn by a real headless Chromium; and the lecture's picture read from the event files."""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.browser import table_headers
from tests.helpers.runs import run_main
from tests.helpers.tb import curve, read_events

STRENGTHS = ["0", "3"]
LAST_EPOCH = 100  # the lecture's demo runs 100 epochs
SERVER_START_TIMEOUT = 90  # seconds; importing tensorboard alone takes a few on 2 busy cores
WINDOW_WIDTH = 1400  # px: a laptop's browser window


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> dict[str, Path]:
    """{strength: job directory} of `-m +experiment=d2l_synthetic regularizer.strength=0,3`."""
    cwd = tmp_path_factory.mktemp("sweep")
    result = run_main(["-m", "+experiment=d2l_synthetic",
                       "regularizer.strength=" + ",".join(STRENGTHS)], cwd=cwd)
    assert result.returncode == 0, result.stderr
    jobs = sorted((cwd / "runs" / "d2l_synthetic").glob("multirun_*/regularizer.strength=*"))
    return {job.name.split("=")[1]: job for job in jobs}


def test_lecture_picture_in_the_event_files(sweep):
    """lambda = 0: train loss falls far below test loss. lambda = 3: the gap is much smaller
    and ||w|| shrinks every epoch."""
    free, decayed = read_events(sweep["0"]), read_events(sweep["3"])
    free_train, free_test = curve(free, "loss/train")[-1], curve(free, "loss/test")[-1]
    assert free_train < 1e-3 and free_test > 1000 * free_train
    decayed_gap = curve(decayed, "gap/loss")[-1]
    assert 0 < decayed_gap < curve(free, "gap/loss")[-1] / 100
    norms = curve(decayed, "weights/l2")
    assert len(norms) == LAST_EPOCH + 1 and all(b < a for a, b in itertools.pairwise(norms))
    assert norms[-1] < norms[0] / 10
    # Without decay ||w|| stays large: the lecture's "fitting the noise".
    assert curve(free, "weights/l2")[-1] > 0.5 * curve(free, "weights/l2")[0]
    steps = [h.step for h in decayed.Histograms("weights/layers.0.weight")]
    assert len(steps) <= 20 and steps[0] == 0 and steps[-1] == LAST_EPOCH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tensorboard_command() -> list[str]:
    script = Path(sys.executable).parent / "tensorboard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tensorboard.main"]


def get(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until_loaded(base: str, server: subprocess.Popen, query: dict, rows: int) -> dict:
    """Poll until the server lists `rows` HParams rows, each with its last epoch's metrics:
    the data server loads event files in the background, so /data/runs alone can come first."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, "tensorboard exited: " + server.stderr.read()
        try:
            groups = get(f"{base}/data/plugin/hparams/session_groups", query)["sessionGroups"]
            steps = [m["trainingStep"] for g in groups for m in g["metricValues"]]
            if len(groups) == rows and steps and min(steps) == LAST_EPOCH:
                return groups
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    raise AssertionError(f"tensorboard did not load {rows} runs in {SERVER_START_TIMEOUT} s")


def stop(server: subprocess.Popen) -> None:
    """The server and its data-server child share a session of their own: end that group."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


QUERY = {"experimentName": "", "startIndex": 0, "sliceSize": 10,
         "allowedStatuses": ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_UNKNOWN"],
         "colParams": [{"metric": {"tag": "loss/test"}, "order": "ORDER_ASC"},
                       {"hparam": "regularizer.strength"}, {"hparam": "regularizer"}]}


@pytest.fixture(scope="module")
def server(sweep):
    """(base URL, HParams rows sorted by test loss) of a real `tensorboard` on the sweep."""
    logdir = next(iter(sweep.values())).parent.parent.parent  # runs/
    port = free_port()
    process = subprocess.Popen(
        [*tensorboard_command(), "--logdir", str(logdir), "--port", str(port),
         "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        rows = wait_until_loaded(base, process, QUERY, len(STRENGTHS))
        yield base, rows
        assert process.poll() is None, "tensorboard exited while serving the queries"
    finally:
        stop(process)


def test_tensorboard_server_shows_runs_tags_and_hparams(sweep, server):
    base, rows = server
    runs = get(f"{base}/data/runs")
    names = {f"d2l_synthetic/{job.parent.name}/{job.name}": s for s, job in sweep.items()}
    assert sorted(runs) == sorted(names)

    scalar_tags = get(f"{base}/data/plugin/scalars/tags")
    for run in runs:
        assert {"loss/train", "loss/test", "gap/loss", "weights/l2", "weights/max_abs",
                "weights/spectral_layer/layers.0.weight", "bias/l2"} <= set(scalar_tags[run])
    assert set(get(f"{base}/data/plugin/histograms/tags")[runs[0]]) == {
        "weights/layers.0.weight"}
    assert "curves" in get(f"{base}/data/plugin/images/tags")[runs[0]]

    # Columns: the swept key first (the plugin sorts by `differs`), then the regulariser.
    experiment = get(f"{base}/data/plugin/hparams/experiment", {"experimentName": ""})
    assert [h["name"] for h in experiment["hparamInfos"]] == ["regularizer.strength",
                                                              "regularizer"]
    metric_tags = [m["name"]["tag"] for m in experiment["metricInfos"]]
    assert metric_tags[:3] == ["loss/test", "loss/train", "gap/loss"]

    assert [row["hparams"]["regularizer.strength"] for row in rows] == [3.0, 0.0]
    jobs = {float(strength): job for strength, job in sweep.items()}
    for row in rows:
        job = jobs[row["hparams"]["regularizer.strength"]]
        summary = json.loads((job / "summary.json").read_text())
        assert row["hparams"]["regularizer"] == "l2"
        # Undeclared hyperparameters still come with each row.
        assert row["hparams"]["seed"] == 0 and row["hparams"]["optimizer"] == "sgd"
        metrics = {m["name"]["tag"]: m["value"] for m in row["metricValues"]}
        assert metrics["loss/test"] == pytest.approx(summary["test_loss"], rel=1e-6)
        assert metrics["weights/l2"] == pytest.approx(summary["weight_l2"], rel=1e-6)
        assert row["sessions"][0]["status"] == "STATUS_SUCCESS"


def test_hparams_table_shows_the_test_metrics_at_1400_px(server, tmp_path):
    """The HParams page in a real headless Chromium 1,400 px wide: the test loss, train loss
    and gap columns are drawn inside the window, left of the columns cut at its edge."""
    base, _ = server
    headers = table_headers(f"{base}/#hparams", tmp_path / "chromium", WINDOW_WIDTH,
                            until="test loss", timeout=SERVER_START_TIMEOUT)
    assert list(headers)[:2] == ["Trial ID", "Show Metrics"]
    for shown in ("regularizer.strength", "regularizer", "test loss", "train loss",
                  "gap loss (test - train)"):
        assert headers[shown][1] <= WINDOW_WIDTH, (shown, headers)
