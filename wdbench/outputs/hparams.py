"""The HParams dashboard: each run's hyperparameters and final metrics, written at its end.

A run writes the three summaries TensorBoard's HParams plugin reads: the experiment (which
hyperparameter and metric columns exist), the session start (this run's values) and the
session end (completed or not). The metric columns name the run's own scalar tags; the plugin
shows each tag's last point, which is the final epoch's value, so no number is logged twice.

The dashboard shows five hyperparameter columns at first (those marked `differs` first, then
by name) and the first five metric columns; the rest are a tick away. So `differs` marks the
regulariser, its strength and every key set on the command line (in a sweep: the swept
ones), and the metrics start with test accuracy (or test loss in regression).
"""

import time

from wdbench.config.compose import REPORTED_GROUPS
from wdbench.internals import add_summary
from wdbench.metrics.catalog import HPARAMS_FIRST, placed
from wdbench.regularizers.registry import hparam_keys

NOT_HPARAMS = {"_target_", "_partial_", "root", "download"}  # plumbing, not hyperparameters
SHOWN_HPARAMS = {"regularizer", "regularizer.strength"}

# Hyperparameter columns every run declares, so that the experiment TensorBoard picks (it
# takes one run's, arbitrarily) has them all, whichever kinds a log directory mixes.
STRING, NUMBER = "DATA_TYPE_STRING", "DATA_TYPE_FLOAT64"
DECLARED_HPARAMS = {
    "experiment": STRING, "regularizer": STRING,
    **{f"regularizer.{key}": NUMBER for key in hparam_keys()}, "optimizer": STRING,
    "optimizer.lr": NUMBER, "optimizer.momentum": NUMBER, "model": STRING,
    "model.hidden": STRING, "model.dropout": NUMBER, "model.norm": STRING, "data": STRING, "data.train_size": NUMBER,
    "data.batch_size": NUMBER, "data.label_noise": NUMBER, "seed": NUMBER,
    "trainer.max_epochs": NUMBER, "status": STRING,
}


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


def metric_columns(classification: bool) -> list[tuple[str, str]]:
    """(tag, display name) of each metric column, the task's first five first. A tag the run
    lacks (accuracy in regression) shows empty cells."""
    columns = [(m.tag, m.label) for m in placed("hparams")]
    first = HPARAMS_FIRST["classification" if classification else "regression"]
    return sorted(columns, key=lambda column: first.index(column[0]) if column[0] in first
                  else len(first))


def write_hparams(writer, hparams: dict, completed: bool, overrides: list[str],
                  classification: bool, started: float, step: int) -> None:
    """Experiment, session start and session end into the run's own event file (built from
    tensorboard's protos: its summary helpers need TensorFlow), at the last epoch's step:
    tensorboard's reader treats a step that goes back as a restart."""
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import metadata as tags
    from tensorboard.plugins.hparams.plugin_data_pb2 import SessionEndInfo, SessionStartInfo

    types = {**DECLARED_HPARAMS,
             **{n: type_name(v) for n, v in hparams.items() if n not in DECLARED_HPARAMS}}
    shown = SHOWN_HPARAMS | override_keys(overrides)
    experiment = api_pb2.Experiment(
        hparam_infos=[api_pb2.HParamInfo(name=n, type=api_pb2.DataType.Value(t), differs=n in shown)
                      for n, t in types.items()],
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
