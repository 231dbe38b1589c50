"""Many runs: a job's share of the cores, a sweep's progress, its table, SLURM."""
