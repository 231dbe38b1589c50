"""What a run measures each epoch: the callback, the measurers behind it."""
