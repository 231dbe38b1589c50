#!/usr/bin/env python
"""Turn run directories into a report: runs.csv (every run), configurations.csv and
report.md (mean ± std over seeds/folds per configuration, the λ chosen on validation next to
the best on test, the runs that did not complete) and plots against λ.

    python scripts/report.py runs/lambda_grid_mlp/multirun_X      # into multirun_X/report/
    python scripts/report.py runs/lambda_grid_mlp/multirun_X --out results/my_report
    python scripts/report.py runs/a runs/b --out r --source tensorboard --curves
    python scripts/report.py runs/plane/* --out r --plane optimizer.lr regularizer.strength
"""

import argparse
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

from wdbench.errors import WdbenchError
from wdbench.report.build import KNOB, make_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="run directories, folders holding them, or "
                        "a report's runs.csv (runs made elsewhere: their rows join the others)")
    parser.add_argument("--out", help="folder for report.md, CSVs and plots "
                        "(default: PATH/report, in the first path)")
    parser.add_argument("--source", choices=["summary", "tensorboard"], default="summary",
                        help="final metrics from summary.json or from the event files")
    parser.add_argument("--knob", action="append", dest="knobs",
                        help=f"config key(s) tuned on validation (default {KNOB})")
    parser.add_argument("--select", choices=["val_loss", "val_acc"], default=None,
                        help="validation metric that chooses λ (never a test metric); "
                        "default: val_loss, and val_acc too where the runs have it")
    parser.add_argument("--curves", action="store_true", help="also plot per-epoch losses")
    parser.add_argument("--plane", nargs=2, metavar=("X", "Y"),
                        help="two swept keys: heatmaps of the X x Y plane per setting, the best Y "
                        "per X and the slope of log Y* against log X")
    parser.add_argument("--data-size", action="store_true",
                        help="with --plane data.train_size regularizer.strength: the best τ in "
                        "epochs per size (Wang & Aitchison 2024)")
    parser.add_argument("--title", default="wdbench report")
    args = parser.parse_args()
    command = "python scripts/report.py " + shlex.join(sys.argv[1:])
    args.out = args.out or str(Path(args.paths[0]) / "report")
    try:
        report = make_report(args.paths, args.out, args.source, args.knobs or [KNOB],
                             args.select, args.curves, args.title, command, args.plane,
                             args.data_size)
    except WdbenchError as err:  # the user's to fix: one line, no traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    runs = report["runs"]
    print(f"{len(runs)} runs, {int((runs['status'] == 'completed').sum())} completed -> "
          f"{Path(args.out) / 'report.md'}")


if __name__ == "__main__":
    main()
