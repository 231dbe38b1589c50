"""A sweep's progress and its end. The process that starts the sweep writes how many jobs it
plans and when it began into the sweep directory; each job, in whatever process the launcher
runs it, reads that back when it ends and prints how many jobs are done and an estimate of the
time left. When the sweep ends, in the process that started it, it prints the summary table."""

import json
import time
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback

from wdbench.internals import sweep_cross_product
from wdbench.outputs.files import summaries_under
from wdbench.outputs.run_names import PLAN_FILE, find_plan
from wdbench.sweep.table import summarize_sweep

SHOWN_FROM = 4  # jobs: smaller sweeps end before a progress line would help


def sweep_overrides(hydra_node) -> list:
    """The sweeper's params, then the command line (whose value of a key wins)."""
    params = [f"{key}={value}" for key, value in (hydra_node.sweeper.get("params") or {}).items()]
    return OverridesParser.create().parse_overrides(params + list(hydra_node.overrides.task))


def planned_jobs(hydra_node) -> int | None:
    """Jobs the sweep will launch: Optuna's trials, or the basic sweeper's cross product."""
    sweeper = hydra_node.sweeper
    if sweeper.get("n_trials") is not None:
        return int(sweeper.n_trials)
    if not str(sweeper.get("_target_", "")).endswith("BasicSweeper"):
        return None
    return len(sweep_cross_product(sweep_overrides(hydra_node)))


def swept(hydra_node) -> list[str]:
    """The keys that take several values, in the order the sweep gives them."""
    last = {o.key_or_group: o for o in sweep_overrides(hydra_node)}  # in first-seen order
    return [key for key, override in last.items() if override.is_sweep_override()]


def finished_since(sweep_dir: Path, since: float) -> tuple[int, int]:
    """(jobs with a summary, of which written since `since`)."""
    times = [p.stat().st_mtime for p in summaries_under(sweep_dir, recursive=True)]
    return len(times), sum(t >= since for t in times)


def sweep_line(done: int, total: int, done_now: int, elapsed: float) -> str:
    line = f"[sweep] {done}/{total} jobs done"
    if 0 < done_now and done < total:
        left = elapsed / done_now * (total - done)
        line += f", about {duration(left)} left"
    return line


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class SweepProgress(Callback):
    def on_multirun_start(self, config, **kwargs) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        plan = {"jobs": planned_jobs(config.hydra), "swept": swept(config.hydra),
                "started": time.time() - 1}
        (sweep_dir / PLAN_FILE).write_text(json.dumps(plan))

    def on_job_end(self, config, **kwargs) -> None:
        if config.get("sweep", {}).get("vectorize"):
            return  # the job was only collected; its stack trains after the sweep
        sweep_dir = find_plan(Path(HydraConfig.get().runtime.output_dir))
        if sweep_dir is None:
            return
        plan = json.loads((sweep_dir / PLAN_FILE).read_text())
        if not plan["jobs"] or plan["jobs"] < SHOWN_FROM:
            return
        done, done_now = finished_since(sweep_dir, plan["started"])
        elapsed = time.time() - plan["started"]
        print(sweep_line(done, plan["jobs"], done_now, elapsed), flush=True)

    def on_multirun_end(self, config, **kwargs) -> None:
        """Every job has returned (a vectorized sweep's stacks trained in the launcher)."""
        print(summarize_sweep(Path(str(config.hydra.sweep.dir))), flush=True)
