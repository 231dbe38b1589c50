"""results/7: the ridge optimum and sample-wise double descent, wdbench's trained runs beside
the closed forms.

    python scripts/ridge_report.py --optimum runs/results/7/ridge_optimum \
        --descent runs/results/7/double_descent --out results/7_ridge_optimum_double_descent

Each trained run's risk is the exact expected test loss of its checkpoint's weights,
(sigma^2 + ||w - w*||^2 + (b - b*)^2) / 2 for x ~ N(0, I) (its test loss on 10,000 examples
estimates the same number); the closed form is the exact minimiser of the same objective on the
same training data (wdbench/report/ridge.py), so trained and closed-form points differ only where
training has not converged.
"""

import argparse
import csv
import json
import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from wdbench.data.synthetic import make_synthetic
from wdbench.report.ridge import expected_risk, optimal_strength, ridge_fit

REFERENCE_SEEDS = range(20)  # draws for the smooth closed-form curves (not trained)


def load_runs(sweep: Path) -> list[dict]:
    """One row per completed run: its data settings, lambda, seed and exact risks."""
    rows = []
    for summary_path in sorted(sweep.glob("*/summary.json")):
        summary = json.loads(summary_path.read_text())
        if summary["status"] != "completed":
            continue
        run_dir = summary_path.parent
        data = OmegaConf.load(run_dir / ".hydra" / "config.yaml").data
        state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
        weight = state["model.layers.0.weight"].double().numpy().reshape(-1)
        bias = state["model.layers.0.bias"].item()
        strength = float(OmegaConf.load(run_dir / ".hydra" / "config.yaml").regularizer.strength)
        splits = make_synthetic(batch_size=data.batch_size, train_size=data.train_size,
                                test_size=1, num_inputs=data.num_inputs,
                                noise_std=data.noise_std, true_weight=data.true_weight,
                                true_bias=data.true_bias, seed=summary["seed"]).splits
        truth = np.full(data.num_inputs, data.true_weight)
        exact_w, exact_b = ridge_fit(splits.train_x.numpy(), splits.train_y.numpy(), strength)
        rows.append({
            "n": data.train_size, "d": data.num_inputs, "lambda": strength,
            "seed": summary["seed"], "test_loss": summary["test_loss"],
            "risk_trained": expected_risk(weight, bias, truth, data.true_bias, data.noise_std),
            "risk_closed_form": expected_risk(exact_w, exact_b, truth, data.true_bias,
                                              data.noise_std),
            "distance_to_closed_form": float(np.linalg.norm(weight - exact_w)),
            "noise_std": data.noise_std, "truth_norm": data.true_weight * math.sqrt(
                data.num_inputs), "true_bias": data.true_bias, "true_weight": data.true_weight,
        })
    return rows


def mean_by(rows: list[dict], keys: tuple, value: str) -> dict:
    groups: dict = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row[value])
    return {k: float(np.mean(v)) for k, v in groups.items()}


def reference_curve(rows: list[dict], sizes, tuned: bool) -> list[float]:
    """Closed-form risk averaged over REFERENCE_SEEDS draws: at lambda = 0 (minimum norm) or
    at lambda*(n)."""
    first = rows[0]
    truth = np.full(first["d"], first["true_weight"])
    curve = []
    for n in map(int, sizes):
        strength = (optimal_strength(first["d"], n, first["noise_std"], first["truth_norm"])
                    if tuned else 0.0)
        risks = []
        for seed in REFERENCE_SEEDS:
            splits = make_synthetic(batch_size=n, train_size=n, test_size=1, num_inputs=first["d"],
                                    noise_std=first["noise_std"],
                                    true_weight=first["true_weight"],
                                    true_bias=first["true_bias"], seed=seed).splits
            w, b = ridge_fit(splits.train_x.numpy(), splits.train_y.numpy(), strength)
            risks.append(expected_risk(w, b, truth, first["true_bias"], first["noise_std"]))
        curve.append(float(np.mean(risks)))
    return curve


def slowest_rate(row: dict) -> float:
    """The smallest nonzero eigenvalue of the Hessian [X 1]^T [X 1] / n of the unregularised
    objective on this run's data: gradient descent's slowest direction."""
    splits = make_synthetic(batch_size=row["n"], train_size=row["n"], test_size=1,
                            num_inputs=row["d"], noise_std=row["noise_std"],
                            true_weight=row["true_weight"], true_bias=row["true_bias"],
                            seed=row["seed"]).splits
    x = splits.train_x.double().numpy()
    design = np.hstack([x, np.ones((len(x), 1))])
    eigenvalues = np.linalg.eigvalsh(design.T @ design / len(x))
    return float(eigenvalues[eigenvalues > eigenvalues[-1] * 1e-12].min())


def descent_table(rows: list[dict]) -> list[dict]:
    trained = mean_by(rows, ("n", "lambda"), "risk_trained")
    closed = mean_by(rows, ("n", "lambda"), "risk_closed_form")
    table = []
    first = rows[0]
    for n in sorted({r["n"] for r in rows}):
        grid = sorted(lam for (size, lam) in trained if size == n)
        positive = [lam for lam in grid if lam > 0]
        best = min(positive, key=lambda lam: trained[(n, lam)])
        best_closed = min(positive, key=lambda lam: closed[(n, lam)])
        star = optimal_strength(first["d"], n, first["noise_std"], first["truth_norm"])
        table.append({
            "n": n, "risk_lambda0_trained": trained[(n, 0.0)],
            "risk_lambda0_closed_form": closed[(n, 0.0)],
            "best_lambda_trained": best, "best_lambda_closed_form_on_grid": best_closed,
            "lambda_star": star, "risk_best_trained": trained[(n, best)],
            "risk_best_closed_form": closed[(n, best_closed)],
            "best_inside_grid": positive[0] < best < positive[-1],
            "slowest_eigenvalue_min_over_seeds": min(
                slowest_rate(r) for r in rows if r["n"] == n and r["lambda"] == 0),
        })
    return table


def plot_descent(rows: list[dict], table: list[dict], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    risk_axes, lambda_axes = figure.subplots(1, 2)
    sizes = np.arange(20, 501, 10)
    sizes = np.unique(np.concatenate([sizes, [r["n"] for r in rows]]))
    d = rows[0]["d"]
    risk_axes.plot(sizes, reference_curve(rows, sizes, tuned=False), color="tab:red",
                   label="closed form, λ = 0 (min-norm)")
    risk_axes.plot(sizes, reference_curve(rows, sizes, tuned=True), color="tab:blue",
                   label="closed form, λ = λ*(n)")
    ns = [t["n"] for t in table]
    for row in rows:
        if row["lambda"] == 0:
            risk_axes.plot(row["n"], row["risk_trained"], "o", color="tab:red", alpha=0.35,
                           markersize=4)
    risk_axes.plot(ns, [t["risk_lambda0_trained"] for t in table], "o", color="tab:red",
                   label="wdbench, λ = 0 (seed mean; dots: seeds)")
    risk_axes.plot(ns, [t["risk_best_trained"] for t in table], "s", color="tab:blue",
                   label="wdbench, best λ on the grid")
    risk_axes.axvline(d, color="grey", linestyle=":", linewidth=1)
    risk_axes.set(yscale="log", xlabel="training examples n (d = 200)",
                  ylabel="test risk  E(ŷ - y)² / 2", title="risk against n")
    risk_axes.legend(fontsize=8, loc="upper right")
    dense = np.linspace(min(ns), max(ns), 100)
    first = rows[0]
    lambda_axes.plot(dense, [optimal_strength(d, n, first["noise_std"], first["truth_norm"])
                             for n in dense], color="black", label="λ*(n) = dσ²/(n‖w*‖²)")
    lambda_axes.plot(ns, [t["best_lambda_trained"] for t in table], "s", color="tab:blue",
                     label="best on the grid, wdbench")
    lambda_axes.plot(ns, [t["best_lambda_closed_form_on_grid"] for t in table], "x",
                     color="tab:orange", markersize=9, label="best on the grid, closed form")
    lambda_axes.set(xscale="log", yscale="log", xlabel="training examples n",
                    ylabel="λ", title="the best λ against n")
    lambda_axes.legend(fontsize=8)
    for axes in (risk_axes, lambda_axes):
        axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def fmt(value: float) -> str:
    return f"{value:.4g}"


def optimum_section(rows: list[dict]) -> list[str]:
    trained = mean_by(rows, ("lambda",), "risk_trained")
    closed = mean_by(rows, ("lambda",), "risk_closed_form")
    test = mean_by(rows, ("lambda",), "test_loss")
    first = rows[0]
    star = optimal_strength(first["d"], first["n"], first["noise_std"], first["truth_norm"])
    distance = max(r["distance_to_closed_form"] for r in rows)
    lines = [f"## The ridge optimum at n = d = {first['n']}", "",
             (f"λ* = dσ²/(n‖w*‖²) = {fmt(star)}; {len(rows)} runs, seeds "
              f"{sorted({r['seed'] for r in rows})}. Largest distance ‖w − w_closed‖ between a "
              f"trained weight and the exact ridge solution on its data: {distance:.2g}."), "",
             "| λ | λ/λ* | risk, trained (seed mean) | risk, closed form | test loss |",
             "|---|---|---|---|---|"]
    for (lam,) in sorted(trained):
        lines.append(f"| {fmt(lam)} | {fmt(lam / star)} | {fmt(trained[(lam,)])} | "
                     f"{fmt(closed[(lam,)])} | {fmt(test[(lam,)])} |")
    (best,) = min(trained, key=trained.get)
    lines += ["", f"Best λ by trained risk: {fmt(best)} (λ* = {fmt(star)})", ""]
    return lines


def descent_section(table: list[dict]) -> list[str]:
    lines = ["## Double descent against n (d = 200)", "",
             ("| n | risk λ=0 trained | risk λ=0 closed form | best λ trained | best λ closed "
              "form (grid) | λ*(n) | risk at best λ trained | closed form | smallest nonzero "
              "eigenvalue of [X 1]ᵀ[X 1]/n (min over seeds) |"),
             "|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        lines.append(
            f"| {t['n']} | {fmt(t['risk_lambda0_trained'])} | "
            f"{fmt(t['risk_lambda0_closed_form'])} | {fmt(t['best_lambda_trained'])} | "
            f"{fmt(t['best_lambda_closed_form_on_grid'])} | {fmt(t['lambda_star'])} | "
            f"{fmt(t['risk_best_trained'])} | {fmt(t['risk_best_closed_form'])} | "
            f"{t['slowest_eigenvalue_min_over_seeds']:.2g} |")
    peak_trained = max(table, key=lambda t: t["risk_lambda0_trained"])["n"]
    peak_closed = max(table, key=lambda t: t["risk_lambda0_closed_form"])["n"]
    tuned = [t["risk_best_trained"] for t in table]
    monotone = all(b <= a for a, b in pairwise(tuned))
    inside = all(t["best_inside_grid"] for t in table)
    lines += ["", (f"- λ = 0: the closed-form risk peaks at n = {peak_closed}, the trained one "
                   f"at n = {peak_trained}."),
              (f"- Best λ on the grid: trained risk non-increasing in n: {monotone}; every best "
               f"λ strictly inside the grid: {inside}."), ""]
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--optimum", type=Path, required=True)
    p.add_argument("--descent", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    optimum = load_runs(args.optimum)
    descent = load_runs(args.descent)
    table = descent_table(descent)
    write_csv(args.out / "ridge_optimum_runs.csv", optimum)
    write_csv(args.out / "double_descent_runs.csv", descent)
    write_csv(args.out / "double_descent.csv", table)
    plot_descent(descent, table, args.out / "double_descent.png")
    text = ["# Ridge optimum and double descent: wdbench against closed forms", "",
            *optimum_section(optimum), *descent_section(table)]
    (args.out / "report.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
