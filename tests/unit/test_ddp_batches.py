"""Under DDP each rank trains on its own share of every epoch (as DistributedSampler with
drop_last does): disjoint, together the whole shuffled epoch but the remainder, equal steps."""

import pytest
import torch

from wdbench.data.loader import TensorBatches


@pytest.mark.parametrize("count,world,batch", [(20, 2, 5), (23, 4, 3), (7, 1, 2)])
def test_ranks_split_each_epoch(count, world, batch):
    x = torch.arange(count, dtype=torch.float32).reshape(-1, 1)
    loaders = [TensorBatches(x, x.squeeze(1), batch, seed=3, block_rows=1, rank=r,
                             world_size=world) for r in range(world)]
    for loader in loaders:
        loader.sampler.set_epoch(2)
    seen = [torch.cat([xb for block in loader for xb, _ in block]).squeeze(1).long().tolist()
            for loader in loaders]
    assert len({len(loader) for loader in loaders}) == 1  # every rank takes the same steps
    assert all(len(list(loader)) == len(loader) for loader in loaders)
    flat = [i for rank in seen for i in rank]
    assert len(flat) == len(set(flat)) == count - count % world
    epoch_order = loaders[0].sampler.order(count).tolist()[: count - count % world]
    assert sorted(flat) == sorted(epoch_order)
