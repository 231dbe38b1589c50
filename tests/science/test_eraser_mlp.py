"""Weight decay erases a large initialisation of an MLP (Liu et al. 2023, Omnigrok), through
`python -m wdbench +experiment=eraser_mlp` and scripts/eraser_mlp.py (the MLP part of
results/13_null_space_eraser is this at full size: 3 lambdas x 3 init scales x 3 seeds).

Prediction: with plain SGD and L2 every weight gets -lr*lambda*w a step. For a ReLU network
the data gradient's part along w is the loss's derivative along the network's own scale, which
is small once the training set is fitted with large margins, so the decayed weights follow
||w(t)|| = (1 - lr lambda)^t ||w(0)|| until the test loss is at its best (t_gen). A large init
(init_std 0.2, ten times the default init's norm) fits the 1,000 training images within a
few epochs while the test loss is still far above its best: generalisation waits for decay.

Tolerances. The norm law to 1% up to t_gen: the data's radial push is the training loss's
derivative along the scale, at most a few nats against lambda ||w||^2 >= 0.1 * 50^2 here; at
full size the departure is 0.09% (law_error, init 0.2, lambda 0.1). "Fitted long before": t_fit
below a third of t_gen (0.145 at full size), and the test loss then at least 0.5 nats above its
best (2.2 at full size). The smaller init reaches its best sooner."""

import csv

import pytest

from tests.helpers.runs import REPO, run_main, run_script

TASK = ["+experiment=eraser_mlp", "regularizer.strength=0.1", "model.init_std=0.1,0.2",
        "trainer.max_epochs=120", "seed=0", "threads=1"]


@pytest.mark.slow
def test_decay_alone_sets_the_norm_until_the_large_init_generalises(tmp_path,
                                                                    needs_fashion_mnist):
    result = run_main(["-m", *TASK, "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "report"
    report = run_script(REPO / "scripts" / "eraser_mlp.py", [str(tmp_path / "sweep"), "--out",
                                                             str(out)])
    assert report.returncode == 0, report.stderr
    assert (out / "eraser_mlp.png").stat().st_size > 10_000
    rows = sorted(({k: float(v or "nan") for k, v in row.items() if k != "status"}
                   for row in csv.DictReader((out / "runs.csv").open())),
                  key=lambda row: row["init_std"])
    assert [r["init_std"] for r in rows] == [0.1, 0.2]
    for row in rows:
        assert row["law_error"] < 0.01
    small, large = rows
    assert large["t_fit"] < large["t_gen"] / 3
    assert large["test_loss_at_fit"] > large["best_test_loss"] + 0.5
    assert small["t_gen"] < large["t_gen"]
