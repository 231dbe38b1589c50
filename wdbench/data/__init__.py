"""Data sets as in-memory tensors: the lecture's synthetic regression and Fashion-MNIST."""
