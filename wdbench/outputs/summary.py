"""summary.json: the final metrics, how the run ended, and what produced it."""

import json
import math
import os
import platform
import tempfile
from pathlib import Path

from wdbench.metrics.catalog import per_layer_metrics, summary_metrics


def finite_or_none(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def per_layer(last: dict, prefix: str) -> dict:
    return {tag[len(prefix) :]: finite_or_none(v) for tag, v in last.items()
            if tag.startswith(prefix)}


def final_metrics(last: dict) -> dict:
    """The last epoch's value of each summary metric, then each per-layer dictionary."""
    metrics = {m.key: finite_or_none(last[m.tag]) for m in summary_metrics() if m.tag in last}
    metrics.update({m.key: per_layer(last, m.tag) for m in per_layer_metrics()})
    return metrics


def versions() -> dict:
    import hydra
    import pytorch_lightning
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pytorch_lightning": pytorch_lightning.__version__,
        "hydra": hydra.__version__,
    }


def median(values: list[float]):
    return sorted(values)[len(values) // 2] if values else None


def build_summary(status: str, overrides: list[str], seed: int, threads: int, history: list,
                  train_seconds: list, metric_seconds: list, wall_time: float, **extra) -> dict:
    last = history[-1] if history else {}
    return {
        "status": status,
        "overrides": overrides,
        **final_metrics(last),
        "epochs": last.get("epoch", 0),
        "wall_time": wall_time,
        "seconds_per_epoch": median(train_seconds),
        "train_seconds": sum(train_seconds),  # all training epochs, without the metrics
        "metric_seconds_per_epoch": median(metric_seconds),
        "seed": seed,
        "threads": threads,
        "host": platform.node(),
        "versions": versions(),
        **extra,
    }


def write_json_atomic(path: Path, data: dict) -> None:
    """Write to a temporary file in the same directory, then rename: the file is either
    complete or absent, even if the process dies mid-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, allow_nan=False)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a summary is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
