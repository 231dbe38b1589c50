"""Weight histograms for TensorBoard, computed on the device and written at a few epochs."""

import math

import torch

BINS = 60
HISTOGRAMS_PER_RUN = 20  # at most about this many epochs get histograms, the last always


def histogram_epochs(max_epochs) -> set[int]:
    """Epochs spread evenly from 0 (before training) to the last; with no fixed length
    (max_epochs null or -1), powers of two. The epoch a run really ends at is added then."""
    if not isinstance(max_epochs, int) or max_epochs < 1:
        return {0} | {2**k for k in range(40)}
    count = min(HISTOGRAMS_PER_RUN, max_epochs + 1)
    return {round(i * max_epochs / (count - 1)) for i in range(count)}


@torch.no_grad()
def histogram_stats(param: torch.Tensor, bins: int = BINS) -> torch.Tensor:
    """[min, max, count, sum, sum of squares, right bucket edges (bins), counts (bins)] as one
    device vector: equal-width buckets between min and max, no host sync (torch.histc would
    need min and max as Python numbers)."""
    flat = param.detach().reshape(-1).float()
    low, high = flat.min(), flat.max()
    width = (high - low).clamp(min=1e-12) / bins
    position = torch.nan_to_num((flat - low) / width, nan=0.0, posinf=bins - 1, neginf=0.0)
    index = position.floor().clamp(0, bins - 1).long()
    counts = torch.bincount(index, minlength=bins).float()
    edges = low + width * torch.arange(1, bins + 1, device=flat.device)
    head = torch.stack([low, high, torch.tensor(float(flat.numel()), device=flat.device),
                        flat.sum(), flat.pow(2).sum()])
    return torch.cat([head, edges, counts])


def write_histogram(writer, tag: str, stats: list[float], step: int) -> bool:
    """Write one histogram from host numbers; skipped (False) if the weights are not finite."""
    low, high, count, total, squares = stats[:5]
    bins = (len(stats) - 5) // 2
    edges, counts = stats[5 : 5 + bins], stats[5 + bins :]
    if not all(map(math.isfinite, (low, high, total, squares))):
        return False
    edges[-1] = high  # the last edge is the maximum exactly, whatever the rounding
    writer.add_histogram_raw(tag, min=low, max=high, num=int(count), sum=total,
                             sum_squares=squares, bucket_limits=edges,
                             bucket_counts=[int(c) for c in counts], global_step=step)
    return True
