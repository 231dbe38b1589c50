"""Reading a run back: tensorboard's own event reader, and the model evaluated by hand from
the saved checkpoint (no wdbench code in the loop)."""

import re
import struct
from pathlib import Path

import torch
import torch.nn.functional as F
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

KEEP_ALL = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def read_events(run_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(run_dir), size_guidance=KEEP_ALL)
    events.Reload()
    return events


def last_value(events: EventAccumulator, tag: str) -> float:
    return events.Scalars(tag)[-1].value


def curve(events: EventAccumulator, tag: str) -> list[float]:
    return [e.value for e in events.Scalars(tag)]


def hparams_data(events: EventAccumulator) -> dict[str, HParamsPluginData]:
    """The three HParams summaries of a run: experiment, session start and end."""
    contents = events.PluginTagToContent("hparams")
    return {tag.split("/")[-1]: HParamsPluginData.FromString(c) for tag, c in contents.items()}


def session_hparams(events: EventAccumulator) -> dict:
    start = hparams_data(events)["session_start_info"].session_start_info
    return {name: getattr(v, v.WhichOneof("kind")) for name, v in start.hparams.items()}


def checkpoint_state(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    return checkpoint["state_dict"]


def layer_indices(state: dict) -> list[int]:
    """The positions of the Linear layers (2-D weights; a batch norm's weight is 1-D)."""
    found = (re.fullmatch(r"model\.layers\.(\d+)\.weight", key) for key in state)
    return sorted(int(m.group(1)) for m in found if m and state[m.group(0)].ndim == 2)


BATCH_NORM_EPS = 1e-5  # torch.nn.BatchNorm1d's default


def batch_norm(state: dict, i: int, h: torch.Tensor) -> torch.Tensor:
    """Batch norm at evaluation: the running statistics training left, not the batch's."""
    layer = f"model.layers.{i}"
    scale = state[f"{layer}.weight"] / torch.sqrt(state[f"{layer}.running_var"] + BATCH_NORM_EPS)
    return (h - state[f"{layer}.running_mean"]) * scale + state[f"{layer}.bias"]


def forward(state: dict, x: torch.Tensor) -> torch.Tensor:
    """The MLP at evaluation by hand: Linear, [batch norm,] ReLU, ..., Linear; dropout passes
    everything through."""
    indices = layer_indices(state)
    h = x
    for position, i in enumerate(indices):
        h = h @ state[f"model.layers.{i}.weight"].T + state[f"model.layers.{i}.bias"]
        if position < len(indices) - 1:
            if f"model.layers.{i + 1}.running_mean" in state:
                h = batch_norm(state, i + 1, h)
            h = torch.relu(h)
    return h


def expected_loss_and_acc(state, x, y, classification: bool) -> tuple[float, float | None]:
    with torch.no_grad():
        output = forward(state, x)
        if classification:
            loss = F.cross_entropy(output, y).item()
            return loss, (output.argmax(dim=1) == y).double().mean().item()
        return ((output - y) ** 2).mean().item() / 2, None


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG file's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])
