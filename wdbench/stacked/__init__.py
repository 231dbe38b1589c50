"""A grid of runs trained as one stacked model (sweep.vectorize=true)."""
