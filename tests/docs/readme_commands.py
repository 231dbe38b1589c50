"""Every command README.md and docs/*.md show, normalised (one line, single spaces, comments
dropped), and the tests that run it. test_readme_commands.py checks both ways: each command
shown is listed here, each command listed here is still shown in README.md or docs/, each test
named here exists.

To declare a new command, add one line: "COMMAND": (TEST, ...). A TEST is
"tests/FILE.py::FUNCTION", or CI_SCRIPT for what `.ci/run` runs itself, or SHRUNK: then
test_readme_commands.py runs the command as written plus overrides that only make it smaller
(one epoch, 200 images, the first value of each swept list). A command that needs hardware CI
lacks (a GPU, several GPUs or nodes) is marked where it is shown, with a comment on its line:
`# needs a GPU`, `# needs 4 GPUs`, `# needs a SLURM cluster`."""

CI_SCRIPT = ".ci/run"
SHRUNK = "tests/docs/test_readme_commands.py::test_readme_command_runs_shrunk"
CLI = "tests/integration/test_cli.py::"
PERFORMANCE = ("tests/integration/test_performance_script.py::"
               "test_performance_script_writes_every_section_quick")
FIRST_STEPS = "tests/docs/test_readme_first_steps.py::test_first_steps_run_as_printed_in_a_plain_shell"

RUN_BY = {
    "bash scripts/setup.sh +experiment=mlp_l2": (CI_SCRIPT,),
    ".venv/bin/python -m pytest -rs": (CI_SCRIPT,),
    ". .venv/bin/activate": (FIRST_STEPS,),
    "python -m wdbench": (FIRST_STEPS,),
    "bash scripts/lock.sh": ("tests/docs/test_setup.py::test_lock_is_what_uv_resolves_from_pyproject",),
    "python -m wdbench -m +experiment=d2l_synthetic regularizer.strength=0,3 seed=0,1": (
        "tests/integration/test_sweep_end.py::test_basic_sweep_prints_progress_table_and_next_commands",),
    "python -m wdbench +experiment=mlp_l2": (CLI + "test_mlp_l2_from_another_cwd",),
    "python -m wdbench -m +experiment=d2l_synthetic regularizer.strength=0,3": (
        CLI + "test_two_job_multirun_names_dirs_by_overrides",
        "tests/integration/test_tensorboard_server.py::test_lecture_picture_in_the_event_files"),
    "python -m wdbench -m +experiment=mlp_l2 regularizer.strength=0,1e-4,1e-3,1e-2 seed=0,1,2":
        (SHRUNK,),
    "python -m wdbench -m +experiment=mlp_l2 regularizer.strength=0,1e-3,1e-2": (SHRUNK,),
    "tensorboard --logdir runs/": (
        "tests/integration/test_tensorboard_server.py::test_tensorboard_server_shows_runs_tags_and_hparams",),
    "python -m wdbench +experiment=mlp_l2 regularizer.strength=0": (SHRUNK,),
    "for e in mlp_l2 mlp_wd mlp_decoupled mlp_l1 mlp_l1_prox mlp_elastic_net mlp_norm_ball "
    "mlp_max_norm mlp_dropout; do python -m wdbench +experiment=$e; done": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_mlp": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_linear": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_synthetic": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_mlp regularizer.strength=0,1e-3 seed=0": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_mlp hydra/launcher=parallel "
    "hydra.launcher.n_jobs=2": (SHRUNK,),
    "python -m wdbench +experiment=lambda_search_synthetic": (
        "tests/integration/test_sweeps.py::test_optuna_search_optimises_validation_and_resumes",),
    "python -m wdbench +experiment=lambda_search_mlp hydra.sweeper.n_trials=30 "
    "'optimizer.lr=tag(log,interval(1e-3,0.3))'": (SHRUNK,),
    "python -m wdbench +experiment=lambda_search_mlp hydra/launcher=parallel "
    "hydra.launcher.n_jobs=2 hydra.sweeper.n_jobs=2": (SHRUNK,),
    "python -m wdbench +experiment=lambda_kfold_synthetic": (SHRUNK,),
    "python -m wdbench -m +experiment=mlp_l2 data.folds=5 data.fold=0,1,2,3,4 "
    "regularizer.strength=0,1e-3,1e-2": (SHRUNK,),
    "python -m wdbench +experiment=lambda_grid_mlp hydra.sweep.dir=runs/my_grid": (SHRUNK,),
    "python scripts/report.py runs/my_grid --out results/my_report [--curves] "
    "[--source tensorboard]": ("tests/integration/test_report.py::test_script_writes_curves",
                               "tests/integration/test_report.py::test_tensorboard_reader_agrees_with_summaries"),
    "python -m wdbench +experiment=lambda_grid_mlp sweep.vectorize=true": (SHRUNK,),
    "python -m wdbench -m regularizer=l2 regularizer.strength=0,1e-3,1e-2,1e-1 "
    "sweep.vectorize=true": ("tests/integration/test_stacked.py::test_vectorized_sweep_from_the_command_line",),
    "bash scripts/results.sh 1": ("tests/integration/test_scripts.py::test_results_script_stage",),
    **{f"bash scripts/results.sh {n}": ("tests/integration/test_scripts.py::test_results_script_other_stages",)
       for n in range(2, 7)},
    "sudo bash scripts/slurm_local.sh": (
        "tests/integration/test_slurm.py::test_cluster_script_is_idempotent_and_restarts",),
    "sudo bash scripts/slurm_local.sh stop": (
        "tests/integration/test_slurm.py::test_cluster_script_is_idempotent_and_restarts",),
    "python -m wdbench -m seed=0,1 trainer.max_epochs=2 hydra/launcher=slurm "
    "hydra.launcher.cpus_per_task=1 hydra.launcher.mem_gb=1 hydra.launcher.timeout_min=10 "
    "hydra.launcher.array_parallelism=1 hydra.sweep.dir=runs/grid": (
        "tests/integration/test_slurm.py::test_interrupted_sweep_reruns_only_its_unfinished_job",),
    "python -m wdbench +experiment=linear_l2 trainer.devices=2 trainer.strategy=ddp "
    "trainer.accelerator=cpu threads=1": (
        "tests/integration/test_ddp.py::test_two_ranks_equal_one_process_with_twice_the_batch",),
    "NODE_RANK=0 MASTER_ADDR=node0 MASTER_PORT=29500 python -m wdbench +experiment=linear_l2 "
    "+trainer.num_nodes=2 trainer.strategy=ddp trainer.accelerator=cpu threads=1 "
    "hydra.run.dir=/shared/runs/two_nodes": (
        "tests/integration/test_ddp_nodes.py::test_two_nodes_equal_one_process_with_twice_the_batch",),
    "srun --nodes=2 --ntasks-per-node=1 --job-name=wdbench python -m wdbench "
    "+experiment=linear_l2 +trainer.num_nodes=2 trainer.strategy=ddp": (
        "tests/integration/test_slurm.py::test_srun_tasks_as_two_nodes_equal_one_process",),
    "python -m wdbench +experiment=lr_lambda_plane": (SHRUNK,),
    "python -m wdbench +experiment=lr_lambda_plane_sgd_l2": (SHRUNK,),
    "python -m wdbench +experiment=lr_lambda_plane_bn": (
        SHRUNK, "tests/integration/test_plane_presets.py::test_batch_norm_plane_preset_stacks_and_reports"),
    "python -m wdbench +experiment=lambda_vs_data_size": (SHRUNK,),
    "python scripts/report.py runs/my_plane --out results/my_plane --plane optimizer.lr "
    "regularizer.strength": (
        "tests/integration/test_plane_presets.py::test_lr_lambda_plane_preset_stacks_and_reports",),
    "python scripts/report.py runs/my_sizes --out results/my_sizes --plane data.train_size "
    "regularizer.strength --data-size": (
        "tests/integration/test_plane_presets.py::test_lambda_vs_data_size_preset_counts_the_whole_training_set",),
    **{f"bash scripts/results.sh {n}": ("tests/integration/test_scripts.py::test_results_script_other_stages",)
       for n in (7, 8, 9, 10, 11, 12, 13, 14)},
    "python -m wdbench +experiment=d2l_synthetic": (SHRUNK,),
    "python -m wdbench +experiment=ridge_optimum": (
        "tests/science/test_ridge_optimum.py::test_ridge_optimum_preset_reaches_closed_form_and_lambda_star_wins",),
    "python -m wdbench +experiment=double_descent": (
        SHRUNK, "tests/science/test_double_descent.py::test_double_descent_peaks_at_n_equals_d_and_tuned_ridge_does_not"),
    "python -m wdbench +experiment=mlp_bn_equilibrium": (
        SHRUNK, "tests/integration/test_normalised_report.py::test_mlp_bn_equilibrium_sweep_and_rotation_plot"),
    "python -m pytest tests/science/test_equilibrium.py": (
        "tests/science/test_equilibrium.py::test_sgd_momentum_reaches_spherical_motion_equilibrium",
        "tests/science/test_equilibrium.py::test_adamw_reaches_rotational_equilibrium"),
    "python scripts/bench_stacked.py": (PERFORMANCE,),
    "python scripts/bench_stacked.py --quick": (PERFORMANCE,),
    "python scripts/benchmark.py --quick": (PERFORMANCE,),
    "python scripts/benchmark.py": (PERFORMANCE,),
    "bash scripts/performance.sh": (PERFORMANCE,),
}
