#!/usr/bin/env bash
# Reproduce results/: each report's sweeps, then its report (tables, CSV, plots).
#
#   bash scripts/results.sh            # all reports (1-14)
#   bash scripts/results.sh 1 5        # some of them
#   STAGE=runs bash scripts/results.sh 2     # only the sweeps; STAGE=report: only the report
#   JOBS=4 bash scripts/results.sh 2         # parallel jobs (threads per job = cores / JOBS)
#
# Every sweep writes into a fixed directory under runs/results/, so running this again
# resumes: finished runs are skipped, failed or interrupted ones run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
JOBS=${JOBS:-2}
STAGE=${STAGE:-all}
PAR="hydra/launcher=parallel hydra.launcher.n_jobs=$JOBS"
OUT=runs/results

sweep() {  # sweep DIR ARGS...: one resumable sweep in runs/results/DIR
  local dir=$1; shift
  [ "$STAGE" = report ] && return 0
  echo "[results] python -m wdbench $* hydra.sweep.dir=$OUT/$dir"
  $PY -m wdbench "$@" "hydra.sweep.dir=$OUT/$dir" > /dev/null || echo "[results] some runs of $dir failed: the report lists them"
}

report() {  # report NAME ARGS...: scripts/report.py over runs into results/NAME
  local name=$1; shift
  [ "$STAGE" = runs ] && return 0
  $PY scripts/report.py "$@" --out "results/$name"
}

result_1() {  # the lecture's experiment: synthetic regression, lambda grid incl. 0 and 3
  sweep 1_lecture/grid +experiment=lambda_grid_synthetic $PAR
  sweep 1_lecture/kfold +experiment=lambda_kfold_synthetic $PAR
  sweep 1_lecture/optuna +experiment=lambda_search_synthetic
  # the part of w outside the span of the 20 inputs, for several lr and lambda (null_collapse.png)
  sweep 1_lecture/null_collapse -m +experiment=d2l_synthetic optimizer.lr=0.001,0.003,0.01 \
    regularizer.strength=0.3,1,3,10 $PAR
  report 1_lecture "$OUT/1_lecture/grid" --curves --title "The lecture experiment"
  report 1_lecture/kfold "$OUT/1_lecture/kfold" --title "lambda by 5-fold cross-validation"
  report 1_lecture/optuna "$OUT/1_lecture/optuna" --title "lambda by Optuna on validation"
  [ "$STAGE" = runs ] || $PY scripts/null_collapse.py "$OUT/1_lecture/null_collapse" \
    --out results/1_lecture --grid "$OUT/1_lecture/grid"
}

result_2() {  # Fashion-MNIST lambda sweeps: softmax regression and MLP, 1k and full set
  sweep 2_fashion/linear_1k +experiment=lambda_grid_linear $PAR
  sweep 2_fashion/mlp_1k +experiment=lambda_grid_mlp $PAR
  sweep 2_fashion/linear_full +experiment=lambda_grid_linear data.train_size=null \
    data.batch_size=256 trainer.max_epochs=10 $PAR
  sweep 2_fashion/mlp_full +experiment=lambda_grid_mlp data.train_size=null \
    data.batch_size=256 trainer.max_epochs=5 regularizer.strength=0,1e-4,1e-3,1e-2 $PAR
  report 2_fashion "$OUT"/2_fashion/* --title "Fashion-MNIST lambda sweeps"
}

result_3() {  # every regulariser at its validation-tuned strength, same MLP task
  sweep 3_every_regularizer/strength +experiment=lambda_grid_mlp \
    regularizer=l2,weight_decay,decoupled,l1,l1_prox,elastic_net \
    regularizer.strength=0,1e-6,1e-5,1e-4,1e-3,1e-2,3e-2,1e-1 $PAR
  # SGD's momentum 0.9 amplifies a gradient term (l2) about tenfold but not decoupled decay:
  # decoupled's best strength lies higher
  sweep 3_every_regularizer/decoupled +experiment=lambda_grid_mlp regularizer=decoupled \
    regularizer.strength=0.3,1,3 $PAR
  # the constraints are tuned by their radius (they have no strength): mlp_norm_ball and
  # mlp_max_norm are the same task without lambda_grid_mlp's strength list
  sweep 3_every_regularizer/norm_ball -m +experiment=mlp_norm_ball \
    regularizer.radius=2,4,8,16,32 seed=0,1,2 $PAR
  sweep 3_every_regularizer/max_norm -m +experiment=mlp_max_norm \
    regularizer.radius=0.125,0.25,0.5,1,2,4 seed=0,1,2 $PAR
  sweep 3_every_regularizer/none -m +experiment=mlp_l2 regularizer=none '~regularizer.strength' \
    seed=0,1,2 $PAR
  # cautious decay (decoupled, on the coordinates where update and weight share a sign) around
  # its optimum, which lies near decoupled's
  sweep 3_every_regularizer/cautious +experiment=lambda_grid_mlp regularizer=cautious \
    regularizer.strength=0,0.1,0.3,1,3,10 $PAR
  report 3_every_regularizer "$OUT"/3_every_regularizer/* --knob regularizer.strength \
    --knob regularizer.radius --title "Every regulariser at its validation-tuned strength"
}

result_4() {  # Adam + L2 in the loss vs AdamW's decoupled decay (the weight_decay kind)
  # ~optimizer.momentum: the experiment's SGD momentum is no Adam argument
  sweep 4_adam_vs_adamw/adam_l2 +experiment=lambda_grid_mlp optimizer=adam '~optimizer.momentum' \
    optimizer.lr=1e-3 regularizer=l2 \
    regularizer.strength=0,1e-5,3e-5,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,1e-1 $PAR
  sweep 4_adam_vs_adamw/adamw +experiment=lambda_grid_mlp optimizer=adamw '~optimizer.momentum' \
    optimizer.lr=1e-3 regularizer=weight_decay \
    regularizer.strength=0,1e-3,3e-3,1e-2,3e-2,0.1,0.3,1,3,10,30 $PAR
  # AdamW-style cautious decay (torch's AdamW step, then lr*lambda decay where update and weight
  # share a sign) on AdamW's grid around its optimum
  sweep 4_adam_vs_adamw/cautious +experiment=lambda_grid_mlp optimizer=adamw '~optimizer.momentum' \
    optimizer.lr=1e-3 regularizer=cautious regularizer.strength=0,0.3,1,3,10,30,100,300 $PAR
  report 4_adam_vs_adamw "$OUT"/4_adam_vs_adamw/* --title "Adam + L2 vs AdamW"
}

result_5() {  # bias regularised or not: L2 on weights only ([1d] excluded) vs on everything
  sweep 5_bias/synthetic +experiment=lambda_grid_synthetic 'regularizer.exclude=[1d],[]' $PAR
  sweep 5_bias/mlp +experiment=lambda_grid_mlp 'regularizer.exclude=[1d],[]' \
    regularizer.strength=0,3e-3,1e-2,3e-2,1e-1 $PAR
  report 5_bias/synthetic "$OUT/5_bias/synthetic" --title "Bias regularised or not: the lecture task"
  report 5_bias/mlp "$OUT/5_bias/mlp" --title "Bias regularised or not: MLP on 1k Fashion-MNIST"
}

result_6() {  # label noise 0 / 20% / 40%: the best lambda, memorising, and stopping early
  sweep 6_label_noise +experiment=lambda_grid_mlp data.label_noise=0,0.2,0.4 \
    regularizer.strength=0,1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,1e-1,3e-1 $PAR
  report 6_label_noise "$OUT/6_label_noise" --title "Label noise"
  [ "$STAGE" = runs ] || $PY scripts/label_noise.py "$OUT/6_label_noise" --out results/6_label_noise
}

result_7() {  # the best lambda in closed form, and double descent, trained by wdbench
  sweep 7/ridge_optimum +experiment=ridge_optimum
  sweep 7/double_descent +experiment=double_descent
  [ "$STAGE" = runs ] || $PY scripts/ridge_report.py --optimum "$OUT/7/ridge_optimum" \
    --descent "$OUT/7/double_descent" --out results/7_ridge_optimum_double_descent
}

result_9() {  # the lr x lambda plane, five arms (Loshchilov & Hutter 2019, Fig. 2)
  # stacked grids train in the sweep's own process: Hydra's basic launcher, one thread
  local arm
  for arm in sgd_l2 sgdw adam_l2 adamw adamw_unscaled; do
    local preset=lr_lambda_plane_$arm
    [ "$arm" = adamw ] && preset=lr_lambda_plane
    OMP_NUM_THREADS=1 sweep "9_lr_lambda_plane/$arm" +experiment=$preset
  done
  report 9_lr_lambda_plane "$OUT"/9_lr_lambda_plane/* --plane optimizer.lr regularizer.strength \
    --title "The learning-rate x lambda plane"
  # the same five pairings with batch norm after the hidden Linear
  for arm in sgd_l2 sgdw adam_l2 adamw adamw_unscaled; do
    local preset=lr_lambda_plane_bn_$arm
    [ "$arm" = adamw ] && preset=lr_lambda_plane_bn
    OMP_NUM_THREADS=1 sweep "9_lr_lambda_plane_bn/$arm" +experiment=$preset
  done
  report 9_lr_lambda_plane/batch_norm "$OUT"/9_lr_lambda_plane_bn/* --plane optimizer.lr \
    regularizer.strength --title "The learning-rate x lambda plane with batch norm"
}

result_10() {  # the best lambda against the training-set size (Wang & Aitchison 2024)
  OMP_NUM_THREADS=1 sweep 10_data_size +experiment=lambda_vs_data_size
  report 10_data_size "$OUT/10_data_size" --plane data.train_size regularizer.strength \
    --data-size --title "The best lambda against the training-set size"
  # where the rule can apply: 40% label noise (decay helps at every size) and 60 epochs
  OMP_NUM_THREADS=1 sweep 10_data_size_noisy +experiment=lambda_vs_data_size_noisy
  report 10_data_size/label_noise "$OUT/10_data_size_noisy" --plane data.train_size \
    regularizer.strength --data-size --title "The best lambda against the training-set size, 40% label noise"
}

result_8() {  # weight decay with and without batch normalisation: rotational equilibrium
  sweep 8_normalised -m +experiment=mlp_bn_equilibrium model.norm=null,batch \
    regularizer.strength=0,1e-4,1e-3,3e-3,1e-2,3e-2,1e-1 seed=0,1,2 $PAR
  report 8_normalised "$OUT/8_normalised" --title "Weight decay with and without batch normalisation"
  [ "$STAGE" = runs ] || $PY scripts/plot_rotation.py "$OUT/8_normalised" --out results/8_normalised
  # with batch norm, 3 seeds: every matrix decayed, the output layer spared, or it alone decayed
  # (then up to lambda = 1, so that its choice lies inside the grid)
  local hidden_only="[1d,layers.6.weight]" output_only="[1d,layers.0.weight,layers.3.weight]"
  sweep 8_normalised_output/three -m +experiment=mlp_bn_equilibrium model.norm=batch \
    regularizer.strength=0,0.03,0.1 seed=0,1,2 $PAR "regularizer.exclude=[1d],$hidden_only,$output_only"
  sweep 8_normalised_output/output_only -m +experiment=mlp_bn_equilibrium model.norm=batch \
    regularizer.strength=0.3,1 seed=0,1,2 $PAR "regularizer.exclude=$output_only"
  report 8_normalised/output_layer "$OUT/8_normalised_output" \
    --title "Batch norm: decay on the hidden layers or on the output layer"
}

result_11() {  # AdamW as a box-constrained optimiser (Xie & Li 2024): distance to the box solution
  # the same linear regression at two sizes (n rows, d inputs), full batch, lambda = 2 (box 0.5)
  local small="data.train_size=100 data.batch_size=100 data.num_inputs=20"
  local large="data.train_size=400 data.batch_size=400 data.num_inputs=200"
  local task="data.noise_std=1.0 data.true_weight=0.5 model=linear model.init_std=0.001
    optimizer.lr=0.01 regularizer.strength=2 metrics.every_n_epochs=100000 metrics.figure=false
    seed=0,1,2"
  local adamw="optimizer=adamw regularizer=weight_decay" size
  # steps: the small size as in tests/science/test_adamw_box.py; the large one with beta2 0.999
  # (slow) at 20,000 steps and beta2 0.99 at 5,000 and 20,000; constant lr for comparison
  for size in small large; do
    local betas="[0.9,0.99],[0.9,0.999]" steps=5000 constant=5000
    # shellcheck disable=SC2086  # the settings are one word each
    [ $size = large ] && steps=20000 constant=10000 && sweep "11_adamw_box/large/adamw_cosine_short" \
      -m ${!size} $task $adamw scheduler=cosine 'optimizer.betas=[0.9,0.99]' trainer.max_epochs=5000 $PAR
    # shellcheck disable=SC2086
    sweep "11_adamw_box/$size/adamw_cosine" -m ${!size} $task $adamw scheduler=cosine \
      "optimizer.betas=$betas" trainer.max_epochs=$steps $PAR
    # shellcheck disable=SC2086
    sweep "11_adamw_box/$size/adamw_constant" -m ${!size} $task $adamw scheduler=none \
      'optimizer.betas=[0.9,0.99]' trainer.max_epochs=$constant $PAR
    # shellcheck disable=SC2086
    sweep "11_adamw_box/$size/adam_l2" -m ${!size} $task optimizer=adam regularizer=l2 \
      scheduler=cosine trainer.max_epochs=5000 $PAR
  done
  [ "$STAGE" = runs ] || $PY scripts/adamw_box.py "$OUT"/11_adamw_box/*/* --out results/11_adamw_box
}

result_12() {  # cautious decay on the lecture's task: does it keep the loss's minimisers?
  sweep 12_cautious/grid +experiment=lambda_grid_synthetic regularizer=decoupled,cautious \
    regularizer.strength=0,0.1,0.3,1,3,10,30,100,300,1000 $PAR
  report 12_cautious "$OUT/12_cautious/grid" --curves --title "Cautious weight decay on the lecture's task"
  # ||w_null(t)|| against the coin-flip prediction (null_collapse.png), the span/null table
  [ "$STAGE" = runs ] || $PY scripts/null_collapse.py "$OUT/12_cautious/grid" --out results/12_cautious \
    --grid "$OUT/12_cautious/grid"
}

result_13() {  # weight decay erases the initialisation: when the test loss reaches its floor
  # (Liu et al. 2023; Lyu et al. 2024); the run lasts about 1.3 times the predicted time
  local pair
  for pair in 0.3:2000 1:600 3:200; do
    sweep "13_null_space_eraser/lambda_${pair%:*}" -m +experiment=d2l_synthetic \
      regularizer.strength="${pair%:*}" model.init_std=0.3,1,3 seed=0,1,2 \
      trainer.max_epochs="${pair#*:}" metrics.figure=false $PAR
  done
  # the bias decayed too: no slow mode where the free bias and the inputs' mean trade off
  sweep 13_null_space_eraser/bias_decayed_lambda_1 -m +experiment=d2l_synthetic \
    regularizer.strength=1 'regularizer.exclude=[]' model.init_std=0.3,1,3 seed=0,1,2 \
    trainer.max_epochs=600 metrics.figure=false $PAR
  # an MLP on 1,000 Fashion-MNIST images from a large init: each run lasts 2.4 / (lr lambda) steps
  for pair in 0.05:240 0.1:120 0.2:60; do
    sweep "13_null_space_eraser/mlp_lambda_${pair%:*}" -m +experiment=eraser_mlp \
      regularizer.strength="${pair%:*}" model.init_std=0.05,0.1,0.2 seed=0,1,2 \
      trainer.max_epochs="${pair#*:}" threads=1 $PAR
  done
  [ "$STAGE" = runs ] && return 0
  $PY scripts/null_eraser.py "$OUT"/13_null_space_eraser/lambda_* \
    "$OUT"/13_null_space_eraser/bias_decayed_* --out results/13_null_space_eraser
  $PY scripts/eraser_mlp.py "$OUT"/13_null_space_eraser/mlp_* --out results/13_null_space_eraser/mlp
}

result_14() {  # decoupled decay under cosine decay to 0, fixed or following the schedule (AdamC)
  sweep 14_schedule_decay -m +experiment=schedule_decay regularizer.follow_schedule=false,true \
    seed=0,1,2 threads=1 $PAR
  report 14_schedule_decay "$OUT/14_schedule_decay" --title "Decay and the learning-rate schedule"
  [ "$STAGE" = runs ] || $PY scripts/schedule_decay.py "$OUT/14_schedule_decay" \
    --out results/14_schedule_decay
}

for n in "${@:-1 2 3 4 5 6 7 8 9 10 11 12 13 14}"; do
  for one in $n; do
    SECONDS=0
    "result_$one"
    echo "[results] report $one: $SECONDS s"
  done
done
