"""What two run settings do to a run's time, read from each run's summary.json: the evaluation
pass on a small training set (metrics.eval_rows, metrics.every_n_epochs), and the threads a job
gets when jobs run side by side (joblib's launcher) or alone.

    python scripts/bench_settings.py               # mlp_l2, 10 epochs per run
    python scripts/bench_settings.py --epochs 2    # a smoke test
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

from wdbench.config.compose import compose_run
from wdbench.training.train import run

# The evaluation settings: (what the table calls it, the overrides beside the defaults).
EVALUATION = (("default (`metrics.eval_rows=3000`)", []),
              ("`metrics.eval_rows=null` (every row)", ["metrics.eval_rows=null"]),
              ("`metrics.every_n_epochs=5`", ["metrics.every_n_epochs=5"]))


def small_training_set(epochs: int, threads: int, tmp: Path) -> None:
    base = ["+experiment=mlp_l2", f"trainer.max_epochs={epochs}", f"threads={threads}"]
    print("## The evaluation pass on a small training set\n")
    print("`mlp_l2` (MLP 784-512-512-10, 1,000 training images), each run in this process:\n")
    for _, extra in EVALUATION:
        print("    python -m wdbench " + " ".join(base + extra))
    print("\n| settings | training s per epoch | one evaluation pass, s | wall time, s | test_acc |")
    print("|---|---|---|---|---|")
    for i, (label, extra) in enumerate(EVALUATION):
        cfg, choices = compose_run(base + extra)
        summary = run(cfg, tmp / f"eval{i}", base + extra, choices)
        print(f"| {label} | {summary['seconds_per_epoch']:.3f} | "
              f"{summary['metric_seconds_per_epoch']:.3f} | {summary['wall_time']:.2f} | "
              f"{summary['test_acc']:.4f} |")
    print("\nThe last epoch is measured on every row whatever the settings, so test_acc is the "
          "same in every row.\n")


def threads_a_job_gets(tmp: Path) -> None:
    """`threads: null` in a joblib sweep of 2 jobs and in a single run, OMP_NUM_THREADS unset."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    commands = {  # what the table shows, and where its runs go
        "2 jobs side by side": (["-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                                 "seed=0,1", "trainer.max_epochs=2"], "hydra.sweep.dir"),
        "a single run": (["trainer.max_epochs=1"], "hydra.run.dir"),
    }
    print(f"## Threads\n\n`threads: null` on this machine ({os.cpu_count()} cores), "
          "`OMP_NUM_THREADS` unset:\n")
    print("| command | threads in each summary.json |\n|---|---|")
    outs = [tmp / f"threads{i}" for i in range(len(commands))]
    # side by side: each process picks its threads at start, whatever else is running
    started = [subprocess.Popen([sys.executable, "-m", "wdbench", *args, f"{dir_key}={out}"],
                                env=env, stdout=subprocess.DEVNULL)
               for (args, dir_key), out in zip(commands.values(), outs)]
    statuses = [process.wait() for process in started]  # every one waited for, not the first
    if any(statuses):
        raise SystemExit("a threads run failed: its error is printed above")
    for (name, (args, _)), out in zip(commands.items(), outs):
        threads = [json.loads(path.read_text())["threads"]
                   for path in sorted(out.rglob("summary.json"))]
        print(f"| `python -m wdbench {' '.join(args)}` ({name}) | "
              f"{', '.join(map(str, threads))} |")
    print("\njoblib gives each worker `OMP_NUM_THREADS` = cores / n_jobs; a run alone takes "
          "every core.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wdbench-settings-") as tmp_name:
        small_training_set(args.epochs, args.threads, Path(tmp_name))
        threads_a_job_gets(Path(tmp_name))


if __name__ == "__main__":
    main()
