"""The PNG plots of a run report, drawn on bare matplotlib Figures (Agg, no pyplot state)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from mssr.files import atomic_write_bytes

DPI = 150


def save_figure(figure: Any, path: Path) -> Path:
    """Render `figure` to PNG and write it atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def score_rows(results: dict) -> tuple[list[str], np.ndarray]:
    """Row labels and scores: the base model, then after each trained task (NaN = absent)."""
    tasks = results["tasks"]
    rows = [results["base_scores"], *results["acc_matrix"]]
    labels = ["base model"] + [f"after {tasks[i]}" for i in range(len(results["acc_matrix"]))]
    values = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    return labels, values


def plot_acc_matrix(results: dict, path: Path) -> Path:
    """Heatmap of scores (rows: base model, then after each task; columns: task scored)."""
    labels, values = score_rows(results)
    tasks = results["tasks"]
    # wide enough for the title and the colour bar when there are only one or two tasks
    figure = new_figure(max(4.5, 1.3 + 0.9 * len(tasks)), 1.0 + 0.55 * len(labels))
    axes = figure.add_subplot()
    top = max(1.0, float(np.nanmax(values))) if np.isfinite(values).any() else 1.0
    image = axes.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0.0, vmax=top,
                        aspect="auto")
    axes.set_facecolor("#dddddd")
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            colour = "black" if value > 0.6 * top else "white"
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", color=colour,
                      fontsize=9)
    axes.set_xticks(range(len(tasks)), tasks, rotation=30, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.axhline(0.5, color="white", linewidth=2)
    axes.set_xlabel("task scored")
    axes.set_title(f"Scores: {results['strategy']}, seed {results['seed']}")
    figure.colorbar(image, ax=axes, label="score", shrink=0.9)
    return save_figure(figure, path)


def plot_task_scores(results: dict, path: Path) -> Path:
    """Each task's score along the sequence; a star marks the point right after its training."""
    labels, values = score_rows(results)
    tasks = results["tasks"]
    legend_columns = 1 + (len(tasks) - 1) // 12  # long sequences: a legend of 12 rows a column
    figure = new_figure(max(5.0, 1.1 * len(labels)) + 1.5 * legend_columns,
                        max(3.6, 0.25 * min(len(tasks), 12) + 1.0))
    axes = figure.add_subplot()
    positions = np.arange(len(labels))
    for index, task in enumerate(tasks):
        line, = axes.plot(positions, values[:, index], marker="o", label=task)
        if index + 1 < len(labels) and np.isfinite(values[index + 1, index]):
            axes.plot(index + 1, values[index + 1, index], marker="*", markersize=14,
                      color=line.get_color(), linestyle="none")
    axes.set_xticks(positions, labels, rotation=20, ha="right")
    axes.set_ylabel("score")
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    axes.set_ylim(-0.02, max(1.0, top) * 1.05)  # a fixed [0, 1] scale keeps runs comparable
    axes.grid(alpha=0.3)
    axes.set_title(f"Score of each task along the sequence (★ = just trained), "
                   f"{results['strategy']}")
    axes.legend(title="task", fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5),
                ncols=legend_columns)
    return save_figure(figure, path)


def plot_replay_timeline(results: dict, path: Path) -> Path:
    """Replayed examples per optimizer step, task boundaries dashed and named."""
    timeline, compute = results["replay_timeline"], results["compute"]
    figure = new_figure(8.0, 3.2)
    axes = figure.add_subplot()
    if timeline:
        steps = [entry["step"] for entry in timeline]
        counts = [entry["replayed"] for entry in timeline]
        axes.vlines(steps, 0, counts, color="tab:blue", linewidth=1.2)
        axes.plot(steps, counts, "o", color="tab:blue", markersize=2.5)
    else:
        axes.text(0.5, 0.5, "no replay", transform=axes.transAxes, ha="center", va="center",
                  color="gray", fontsize=12)
    end = max([compute["optimizer_steps"], *results["task_boundaries"],
               *[entry["step"] + 1 for entry in timeline]])
    for boundary, task in zip(results["task_boundaries"], results["tasks"], strict=False):
        axes.axvline(boundary, color="gray", linestyle="--", linewidth=0.9)
        axes.text(boundary, 1.0, f" {task}", transform=axes.get_xaxis_transform(), va="bottom",
                  ha="left", fontsize=8, color="dimgray")
    axes.set_xlim(0, max(end, 1))
    axes.set_ylim(bottom=0)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("replayed examples")
    axes.set_title(f"Replay: {compute['replay_events']:,} events, "
                   f"{compute['replayed_examples']:,} examples replayed "
                   f"({results['strategy']}, budget {results['replay_budget']['mode']})", pad=16)
    return save_figure(figure, path)


def plot_memory(results: dict, path: Path) -> Path:
    """Distribution of buffered examples' retention and strength at each task end."""
    snapshots = results["memory_snapshots"]
    tasks = results["tasks"]
    names = [f"{tasks[s['task']]}\nn={len(s['retention'])}" for s in snapshots]
    figure = new_figure(max(7.0, 2.0 * len(snapshots) + 2), 3.8)
    retention_axes, strength_axes = figure.subplots(1, 2)
    _boxes(retention_axes, [s["retention"] for s in snapshots], names)
    retention_axes.set_ylim(-0.02, 1.02)
    retention_axes.set_ylabel("retention R")
    retention_axes.set_title("Retention of buffered examples")
    _boxes(strength_axes, [s["strength"] for s in snapshots], names)
    strength_axes.set_yscale("log")
    strength_axes.set_ylabel("strength S (clock units)")
    strength_axes.set_title("Memory strength")
    figure.suptitle(f"Replay memory at each task end ({results['strategy']})")
    return save_figure(figure, path)


def plot_calibration(results: dict, path: Path) -> Path:
    """Predicted retention of each replayed example against the retention its loss shows
    (exp(-(loss now - loss at last training)), at most 1), coloured by task, with y = x."""
    calibration = results["calibration"]
    figure = new_figure(5.2, 4.6)
    axes = figure.add_subplot()
    if calibration["predicted"]:
        points = axes.scatter(calibration["predicted"], calibration["observed"], s=6, alpha=0.5,
                              c=calibration["task"], cmap="viridis")
        figure.colorbar(points, ax=axes, label="task index", shrink=0.9)
    else:
        axes.text(0.5, 0.5, "no replayed example measured", transform=axes.transAxes,
                  ha="center", va="center", color="gray", fontsize=12)
    axes.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=0.9)
    axes.set_xlim(-0.02, 1.02)
    axes.set_ylim(-0.02, 1.02)
    axes.set_xlabel("predicted retention (memory model)")
    axes.set_ylabel("observed retention (from the loss)")
    spearman, error = calibration["spearman"], calibration["mean_abs_error"]
    axes.set_title(f"Calibration ({results['strategy']}, calibrate: {calibration['mode']})\n"
                   f"{calibration['measurements']:,} replays, Spearman "
                   f"{'n/a' if spearman is None else f'{spearman:+.2f}'}, mean |error| "
                   f"{'n/a' if error is None else f'{error:.2f}'}", fontsize=9)
    axes.grid(alpha=0.3)
    return save_figure(figure, path)


def _boxes(axes: Any, samples: list[list[float]], names: list[str]) -> None:
    """Box plots with every point jittered on top; an empty buffer shows as a gap."""
    positions = np.arange(1, len(samples) + 1)
    filled = [(position, sample) for position, sample in zip(positions, samples, strict=True)
              if sample]
    if filled:
        axes.boxplot([sample for _, sample in filled], positions=[p for p, _ in filled],
                     widths=0.5, showfliers=False)
        jitter = np.random.default_rng(0)
        for position, sample in filled:
            axes.plot(position + jitter.uniform(-0.15, 0.15, len(sample)), sample, ".",
                      alpha=0.35, markersize=3, color="tab:blue")
    axes.set_xticks(positions, names, fontsize=8)
    axes.set_xlim(0.4, len(samples) + 0.6)
    axes.set_xlabel("buffer at the end of task")
    axes.grid(alpha=0.3, axis="y")
