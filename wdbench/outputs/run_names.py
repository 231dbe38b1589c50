"""Run directory names that TensorBoard's run list shows whole where runs differ. TensorBoard
names a run by its path under --logdir and cuts it at the pane's width (about two lines of 30
characters), so what tells runs apart comes early: a sweep's job directory lists the swept
overrides first (then the others, as Hydra's override_dirname does), and a single run is named
by the group options and keys typed for it, its regulariser with the value that sets its
strength, and its seed. A name never passes the filesystem's limit for one name: see `fitted`."""

import copy
import hashlib
import json
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from wdbench.errors import WdbenchError

JOB_RESOLVER = "wdbench_job_dir"
RUN_RESOLVER = "wdbench_run_label"
PLAN_FILE = ".wdbench-sweep.json"  # written by the sweep's process before any job starts
NAME_BYTES = 255  # one file name's limit on Linux and macOS filesystems, in bytes
# A single run's label follows `YYYY-mm-dd_HH-MM-SS_` and may get fresh_dir's `-N` suffix.
LABEL_BYTES = NAME_BYTES - len("2025-01-31_12-00-00_") - len("-999")
CUT = "..."  # marks a cut name; a hash of the whole name follows
HASH_CHARS = 10


def fitted(parts: list[str], separator: str, limit: int) -> str:
    """`separator`.join(parts), or, where that passes `limit` bytes (UTF-8), the most leading
    parts that fit and then `...` and a hash of the whole name. The hash keeps the names of
    different overrides apart and gives the same overrides the same name (a re-run sweep finds
    its job directories); what was cut stays in the run's .hydra/overrides.yaml."""
    whole = separator.join(parts)
    if len(whole.encode()) <= limit:
        return whole
    tail = CUT + hashlib.sha256(whole.encode()).hexdigest()[:HASH_CHARS]
    kept = []
    for part in parts:
        if len(separator.join([*kept, part, tail]).encode()) > limit:
            break
        kept.append(part)
    if not kept:  # the first part alone is too long: its longest prefix that fits
        room = limit - len((separator + tail).encode())
        kept = [parts[0].encode()[:room].decode(errors="ignore").rstrip("/")]
    return separator.join([*kept, tail])


def find_plan(job_dir: Path) -> Path | None:
    """The sweep directory above a job (its subdirectory may be several levels deep)."""
    for parent in job_dir.parents:
        if (parent / PLAN_FILE).is_file():
            return parent
    return None


def planned_swept_keys(sweep_dir: str) -> list[str]:
    """The keys the sweep's plan says take several values (see sweep/progress.py)."""
    try:
        return json.loads((Path(sweep_dir) / PLAN_FILE).read_text()).get("swept", [])
    except (OSError, ValueError):
        return []


def job_dir(sweep_dir: str, *, _root_) -> str:
    """Hydra's override_dirname (its exclude_keys, `=` and `,`), with the swept keys first in
    the order the sweep gave them, fitted to one file name."""
    hydra = _root_.hydra
    exclude = set(hydra.job.config.override_dirname.exclude_keys)
    parsed = OverridesParser.create().parse_overrides(list(hydra.overrides.task))
    swept = planned_swept_keys(sweep_dir)
    lines = [(o.key_or_group, o.input_line) for o in parsed if o.key_or_group not in exclude]

    def order(item):
        key, line = item
        return (swept.index(key), "") if key in swept else (len(swept), line)

    return fitted([line for _, line in sorted(lines, key=order)], ",", NAME_BYTES)


def typed_parts(hydra, shown: set[str]) -> tuple[list[str], list[str]]:
    """(group options, other overrides) typed on the command line, in the order typed: all but
    Hydra's own, the exclude_keys, the keys that say where rather than what, and `shown`."""
    from wdbench.training.resume import MAY_DIFFER  # imports torch: only when a name is made

    skip = set(hydra.job.config.override_dirname.exclude_keys) | MAY_DIFFER | shown
    groups, keys = [], []
    for override in OverridesParser.create().parse_overrides(list(hydra.overrides.task)):
        key = override.key_or_group
        if key in skip or key.startswith("hydra"):
            continue
        line = override.input_line.replace("/", "%2F")  # a value's `/` would nest directories
        (groups if key in hydra.runtime.choices else keys).append(line)
    return groups, keys


def run_label(*, _root_) -> str:
    """`l2_strength=3.0_seed=0`, `optimizer=adamw_l2_strength=0.001_seed=0`,
    `data=fashion_mnist_none_trainer.max_epochs=2_seed=0`: the group options typed, the
    regulariser the run trains with (after an option picked on the command line took its own
    settings), the other keys typed, and the seed; fitted to one file name."""
    from wdbench.config.swap import use_own_settings  # composes through Hydra: import when used

    config = copy.deepcopy(_root_)
    OmegaConf.set_readonly(config, False)
    hydra = _root_.hydra
    try:
        use_own_settings(config, list(hydra.overrides.task), hydra.runtime.choices)
    except WdbenchError:
        pass  # the run itself stops on it, with its one line
    kind = hydra.runtime.choices.get("regularizer")
    node = config.regularizer
    setting = ("" if kind == "none" else f"_strength={node.strength}" if "strength" in node
               else f"_radius={node.radius}" if "radius" in node else "")
    shown = {"regularizer", "regularizer.strength", "regularizer.radius", "seed"}
    groups, keys = typed_parts(hydra, shown)
    return fitted([*groups, kind + setting, *keys, f"seed={config.seed}"], "_", LABEL_BYTES)


def register_name_resolvers() -> None:
    for name, resolver in ((JOB_RESOLVER, job_dir), (RUN_RESOLVER, run_label)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
