"""The HParams dashboard: each run's hyperparameters and final metrics, written at its end.

A run writes the three summaries TensorBoard's HParams plugin reads: the experiment (which
hyperparameter and metric columns exist), the session start (this run's values) and the
session end (completed or not). The metric columns name the run's own scalar tags; the plugin
shows each tag's last point, which is the final epoch's value, so no number is logged twice.

The table puts every shown hyperparameter column before the metric columns and shows the
first five declared hyperparameters (`differs` first, then by name) and the first five
metrics, each column 10em wide; nothing in the summaries hides a declared column, and at
1,400 px five columns fit. So the experiment declares only what a user compares, the
regulariser, its strength and, in a sweep, the swept keys (a single run: the keys typed), and
the metrics start with test accuracy, test loss and the gap. The session start holds every
value still (the plugin's data API returns them all).
"""

import time
from pathlib import Path

from wdbench.config.compose import REPORTED_GROUPS
from wdbench.internals import add_summary
from wdbench.metrics.catalog import HPARAMS_FIRST, placed
from wdbench.outputs.run_names import find_plan, planned_swept_keys

NOT_HPARAMS = {"_target_", "_partial_", "root", "download"}  # plumbing, not hyperparameters

# The columns every run declares, whatever its command line: TensorBoard takes one run's
# experiment (arbitrarily) for a whole log directory.
STRING, NUMBER = "DATA_TYPE_STRING", "DATA_TYPE_FLOAT64"
COMPARED = {"regularizer": STRING, "regularizer.strength": NUMBER}
NOT_COLUMNS = {"experiment"}  # the run's name starts with it already


def hparam_value(value):
    """Numbers, strings and booleans as they are; lists and the rest as short strings."""
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def run_hparams(config: dict, choices: dict, status: str) -> dict:
    """One run's row: the experiment, each group's option and its keys, seed, length, status."""
    hparams = {
        "experiment": config.get("name"),
        "seed": config.get("seed"),
        "trainer.max_epochs": (config.get("trainer") or {}).get("max_epochs"),
        "status": status,
    }
    for group in REPORTED_GROUPS:
        hparams[group] = choices.get(group)
        for key, value in (config.get(group) or {}).items():
            if key not in NOT_HPARAMS:
                hparams[f"{group}.{key}"] = value
    return {name: hparam_value(v) for name, v in hparams.items() if v is not None}


def override_keys(overrides: list[str]) -> set[str]:
    """`+experiment=x`, `regularizer.strength=0.1`, `~a.b` -> experiment, regularizer.strength."""
    return {item.split("=", 1)[0].lstrip("+~") for item in overrides}


def compared_keys(run_dir: Path, overrides: list[str]) -> set[str]:
    """A sweep's swept keys; a single run's keys typed on the command line."""
    sweep_dir = find_plan(Path(run_dir))
    return set(planned_swept_keys(sweep_dir)) if sweep_dir else override_keys(overrides)


def declared_columns(hparams: dict, compared: set[str]) -> dict[str, str]:
    """Hyperparameter column -> data type: the regulariser and its strength, and each compared
    key the run has a value for (`threads`, `hydra.*` have none)."""
    keys = sorted((compared & hparams.keys()) - COMPARED.keys() - NOT_COLUMNS)
    return {**COMPARED, **{name: type_name(hparams[name]) for name in keys}}


def metric_columns(classification: bool) -> list[tuple[str, str]]:
    """(tag, display name) of each metric column, the task's first five first. A tag the run
    lacks (accuracy in regression) shows empty cells."""
    columns = [(m.tag, m.label) for m in placed("hparams")]
    first = HPARAMS_FIRST["classification" if classification else "regression"]
    return sorted(columns, key=lambda column: first.index(column[0]) if column[0] in first
                  else len(first))


def write_hparams(writer, hparams: dict, completed: bool, compared: set[str],
                  classification: bool, started: float, step: int) -> None:
    """Experiment, session start and session end into the run's own event file (built from
    tensorboard's protos: its summary helpers need TensorFlow), at the last epoch's step:
    tensorboard's reader treats a step that goes back as a restart."""
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import metadata as tags
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    # `differs` puts the compared columns first (the plugin sorts by it, then by name).
    experiment = api_pb2.Experiment(
        hparam_infos=[api_pb2.HParamInfo(name=n, type=api_pb2.DataType.Value(t),
                                         differs=n in compared)
                      for n, t in declared_columns(hparams, compared).items()],
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=label)
                      for tag, label in metric_columns(classification)],
    )
    start = SessionStartInfo(start_time_secs=started)
    for name, value in hparams.items():
        field = {"DATA_TYPE_BOOL": "bool_value", NUMBER: "number_value"}.get(type_name(value))
        setattr(start.hparams[name], field or "string_value", value)
    status = api_pb2.Status.Value("STATUS_SUCCESS" if completed else "STATUS_FAILURE")
    end = SessionEndInfo(status=status, end_time_secs=time.time())
    for tag, content in ((tags.EXPERIMENT_TAG, {"experiment": experiment}),
                         (tags.SESSION_START_INFO_TAG, {"session_start_info": start}),
                         (tags.SESSION_END_INFO_TAG, {"session_end_info": end})):
        add_summary(writer, plugin_summary(tag, **content), step)
    writer.flush()


def plugin_summary(tag: str, **content):
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    plugin_metadata = metadata.create_summary_metadata(HParamsPluginData(**content))
    value = Summary.Value(tag=tag, metadata=plugin_metadata, tensor=metadata.NULL_TENSOR)
    return Summary(value=[value])


def type_name(value) -> str:
    if isinstance(value, bool):
        return "DATA_TYPE_BOOL"
    return NUMBER if isinstance(value, (int, float)) else STRING
