"""Run directory names that TensorBoard's run list shows whole where runs differ. TensorBoard
names a run by its path under --logdir and cuts it at the pane's width (about two lines of 30
characters), so what tells runs apart comes early: a sweep's job directory lists the swept
overrides first (then the others, as Hydra's override_dirname does), and a single run is named
by its regulariser, the value that sets its strength, and its seed."""

import copy
import json
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from wdbench.errors import WdbenchError

JOB_RESOLVER = "wdbench_job_dir"
RUN_RESOLVER = "wdbench_run_label"
PLAN_FILE = ".wdbench-sweep.json"  # written by the sweep's process before any job starts


def swept_keys(sweep_dir: str) -> list[str]:
    try:
        return json.loads((Path(sweep_dir) / PLAN_FILE).read_text()).get("swept", [])
    except (OSError, ValueError):
        return []


def job_dir(sweep_dir: str, *, _root_) -> str:
    """Hydra's override_dirname (its exclude_keys, `=` and `,`), with the swept keys first in
    the order the sweep gave them."""
    hydra = _root_.hydra
    exclude = set(hydra.job.config.override_dirname.exclude_keys)
    parsed = OverridesParser.create().parse_overrides(list(hydra.overrides.task))
    swept = swept_keys(sweep_dir)
    lines = [(o.key_or_group, o.input_line) for o in parsed if o.key_or_group not in exclude]

    def order(item):
        key, line = item
        return (swept.index(key), "") if key in swept else (len(swept), line)

    return ",".join(line for _, line in sorted(lines, key=order))


def run_label(*, _root_) -> str:
    """`l2_strength=3.0_seed=0`, `norm_ball_radius=0.4_seed=0`, `none_seed=0`: the regulariser
    the run trains with (after an option picked on the command line took its own settings)."""
    from wdbench.swap import use_own_settings  # composes through Hydra: import when used

    config = copy.deepcopy(_root_)
    OmegaConf.set_readonly(config, False)
    hydra = _root_.hydra
    try:
        use_own_settings(config, list(hydra.overrides.task), hydra.runtime.choices)
    except WdbenchError:
        pass  # the run itself stops on it, with its one line and a failed summary
    kind = hydra.runtime.choices.get("regularizer")
    node = config.regularizer
    setting = ("" if kind == "none" else f"_strength={node.strength}" if "strength" in node
               else f"_radius={node.radius}" if "radius" in node else "")
    return f"{kind}{setting}_seed={config.seed}"


def register_name_resolvers() -> None:
    for name, resolver in ((JOB_RESOLVER, job_dir), (RUN_RESOLVER, run_label)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
