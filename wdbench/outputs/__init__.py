"""What a run leaves in its directory: the directory itself, summary.json, HParams, the figure."""
