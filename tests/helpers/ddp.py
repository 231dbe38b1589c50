"""What the DDP tests share: the synthetic task both sides of the equality train, the options of
two one-process nodes, and a run's final weights."""

import torch

# 2,000 rows, batch 10 per rank, 10 epochs (1,000 steps): a rank mix-up shows in the weights
# while the runs are still far from the minimum: one process at batch 10 instead of 20 ends
# with weights up to 0.2 away from batch 20's after 10 epochs, 0.007 after 30, against the
# equality's tolerance of 1e-5.
SYNTHETIC = ["data.train_size=2000", "data.batch_size=10", "trainer.max_epochs=10", "seed=5"]
NODES = ["+trainer.num_nodes=2", "trainer.devices=1", "trainer.strategy=ddp",
         "trainer.accelerator=cpu", "threads=1"]


def weights(run_dir) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                            weights_only=True)
    return checkpoint["state_dict"]
