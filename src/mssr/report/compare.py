"""Several runs side by side: one table grouped by strategy (mean ± std over seeds), the
replay budget beside every score, each task's final score, and AP against replayed examples as
a plot. Given a reference (a `joint` run among them, or `reference_dirs`), every run also gets
its average normalised score."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mssr.errors import MSSRError
from mssr.files import atomic_write_bytes
from mssr.report import plots
from mssr.report.markdown import (
    MISSING,
    format_amount,
    format_budget,
    format_score,
    markdown_table,
)
from mssr.report.reference import Reference, load_reference, reference_from, with_normalised_score
from mssr.report.results import load_results

COMPARISON_FILE = "comparison.md"
COMPARISON_PLOT = "comparison.png"


@dataclass(frozen=True)
class Column:
    """A compared quantity: its header, how to read it from results, which way is better,
    and how to print it."""

    header: str
    read: Callable[[dict], float | None]
    higher_is_better: bool
    digits: int | None  # decimals of a score; None prints an amount


COLUMNS = (
    Column("AP", lambda r: r["metrics"]["ap"], True, 3),
    Column("BWT", lambda r: r["metrics"]["bwt"], True, 3),
    Column("FWT", lambda r: r["metrics"]["fwt"], True, 3),
    Column("Forgetting", lambda r: r["metrics"]["forgetting"], False, 3),
    Column("Norm. score", lambda r: r["metrics"].get("normalised_score"), True, 3),
    Column("Replayed examples", lambda r: r["compute"]["replayed_examples"], False, None),
    Column("Method eval tokens", lambda r: r["compute"]["method_eval_tokens"], False, None),
    Column("Wall seconds", lambda r: r["compute"]["wall_seconds"], False, None),
)
REFERENCE_STRATEGY = "joint"  # the multi-task upper bound: shown, never marked best


@dataclass(frozen=True)
class StrategyRuns:
    """The runs of one strategy: seeds, budgets, and every column's values."""

    strategy: str
    seeds: list[int]
    budgets: list[str]
    values: dict[str, list[float]]
    finals: list[list[float | None]]  # each seed's final score per task

    @property
    def is_reference(self) -> bool:
        return self.strategy == REFERENCE_STRATEGY

    def mean(self, header: str) -> float | None:
        present = self.values[header]
        return float(np.mean(present)) if present else None

    def std(self, header: str) -> float | None:
        """Sample standard deviation over seeds (ddof=1); None with fewer than two."""
        present = self.values[header]
        return float(np.std(present, ddof=1)) if len(present) > 1 else None

    def final_mean(self, task_index: int) -> float | None:
        present = [row[task_index] for row in self.finals if row[task_index] is not None]
        return float(np.mean(present)) if present else None


def compare_runs(run_dirs: list[Path], output_dir: Path | None = None,
                 reference_dirs: list[Path] | None = None) -> str:
    """The comparison tables of `run_dirs` as markdown; also writes comparison.md and
    comparison.png into `output_dir` (default: the runs' common parent directory). The
    normalised score's reference: `reference_dirs` if given, else the `joint` runs compared,
    else each run's own (from its `reference_runs`), if any."""
    if not run_dirs:
        raise MSSRError("compare needs at least one run directory")
    run_dirs = [Path(run_dir) for run_dir in run_dirs]
    runs = [(run_dir, load_results(run_dir)) for run_dir in run_dirs]
    _check_same_tasks(runs)
    reference = _reference(runs, reference_dirs)
    if reference is not None:
        runs = [(run_dir, with_normalised_score(results, reference, str(run_dir)))
                for run_dir, results in runs]
    groups = group_by_strategy([results for _, results in runs])
    table = render_comparison(groups, runs[0][1], reference)
    output_dir = Path(output_dir) if output_dir is not None else _common_parent(run_dirs)
    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(output_dir / COMPARISON_FILE, (table + "\n").encode())
    plot_comparison(groups, output_dir / COMPARISON_PLOT)
    return table


def group_by_strategy(runs: list[dict]) -> list[StrategyRuns]:
    """One group per strategy, in order of first appearance."""
    by_strategy: dict[str, list[dict]] = {}
    for results in runs:
        by_strategy.setdefault(results["strategy"], []).append(results)
    groups = []
    for strategy, members in by_strategy.items():
        values = {column.header: [value for value in map(column.read, members)
                                  if value is not None] for column in COLUMNS}
        budgets = list(dict.fromkeys(format_budget(r["replay_budget"]) for r in members))
        groups.append(StrategyRuns(strategy, [r["seed"] for r in members], budgets, values,
                                   [r["acc_matrix"][-1] for r in members]))
    return groups


def render_comparison(groups: list[StrategyRuns], first: dict,
                      reference: Reference | None = None) -> str:
    """Markdown: a title naming the tasks, the metrics table, each task's final score (with
    its scorer), and how to read them. `first` is one of the runs' results (tasks, scorers)."""
    tasks = first["tasks"]
    columns = [column for column in COLUMNS
               if any(group.values[column.header] for group in groups)
               or column.header != "Norm. score"]
    best = {column.header: _best_mean(groups, column) for column in columns}
    rows = []
    for group in groups:
        cells = [_cell(group, column, best[column.header]) for column in columns]
        rows.append([group.strategy, ", ".join(map(str, group.seeds)), "; ".join(group.budgets),
                     *cells])
    header = ["Strategy", "Seeds", "Replay budget", *(column.header for column in columns)]
    finals = markdown_table(
        ["Strategy", *(f"`{task}` ({first['scorers'][task]})" for task in tasks)],
        [[group.strategy, *(format_score(group.final_mean(index))
                            for index in range(len(tasks)))] for group in groups])
    notes = ("Mean ± sample std over seeds. Bold: best per column where strategies differ "
             "(highest AP, BWT, FWT, normalised score; lowest forgetting and cost), the `joint` "
             "upper bound excluded. Forgetting is max-based (Chaudhry et al.). Compare scores "
             "only at matching replay budgets.")
    if reference is not None:
        notes += (" Norm. score: the mean over tasks of each task's final score divided by its "
                  f"final score in the reference ({', '.join(reference.runs)}).")
    elif any(column.header == "Norm. score" for column in columns):
        notes += (" Norm. score: as each run's results.json gives it, against that run's own "
                  "`reference_runs`.")
    return "\n\n".join([
        "# Comparison on " + " → ".join(f"`{task}`" for task in tasks),
        markdown_table(header, rows, align_right_from=3),
        "## Final score per task (mean over seeds)\n\n" + finals,
        notes,
    ])


def plot_comparison(groups: list[StrategyRuns], path: Path) -> Path:
    """AP against replayed examples, one point per strategy with its seed spread."""
    figure = plots.new_figure(6.0, 4.0)
    axes = figure.add_subplot()
    for group in groups:
        ap, replayed = group.mean("AP"), group.mean("Replayed examples")
        if ap is None or replayed is None:
            continue
        axes.errorbar(replayed, ap, xerr=group.std("Replayed examples") or 0,
                      yerr=group.std("AP") or 0, fmt="D" if group.is_reference else "o",
                      markersize=7, capsize=3)
        axes.annotate(group.strategy, (replayed, ap), textcoords="offset points",
                      xytext=(7, -12), fontsize=9)
    axes.set_xlabel("replayed examples (whole run)")
    axes.set_ylabel("AP (average final score)")
    axes.set_ylim(0, max(1.0, axes.get_ylim()[1]) * 1.05)
    axes.margins(x=0.15)
    axes.grid(alpha=0.3)
    axes.set_title("Average performance against replay spent (mean ± std over seeds)")
    return plots.save_figure(figure, path)


def _cell(group: StrategyRuns, column: Column, best: float | None) -> str:
    mean, std = group.mean(column.header), group.std(column.header)
    if mean is None:
        return MISSING
    text = _format(mean, column)
    if std is not None:
        text += f" ± {_format(std, column)}"
    is_best = not group.is_reference and best is not None and np.isclose(mean, best)
    return f"**{text}**" if is_best else text


def _format(value: float, column: Column) -> str:
    return format_amount(round(value, 1)) if column.digits is None else f"{value:.{column.digits}f}"


def _best_mean(groups: list[StrategyRuns], column: Column) -> float | None:
    means = [mean for group in groups if not group.is_reference
             and (mean := group.mean(column.header)) is not None]
    if len(set(np.round(means, 9))) < 2:
        return None  # nothing to single out: one strategy, or all alike
    return max(means) if column.higher_is_better else min(means)


def _reference(runs: list[tuple[Path, dict]], reference_dirs: list[Path] | None
               ) -> Reference | None:
    if reference_dirs:
        return load_reference(reference_dirs)
    joint = [(run_dir, results) for run_dir, results in runs
             if results["strategy"] == REFERENCE_STRATEGY]
    if not joint:
        return None
    return reference_from([results for _, results in joint],
                          [str(run_dir) for run_dir, _ in joint])


def _check_same_tasks(runs: list[tuple[Path, dict]]) -> None:
    first_dir, first = runs[0]
    for run_dir, results in runs[1:]:
        if results["tasks"] != first["tasks"]:
            raise MSSRError(f"cannot compare {run_dir} with {first_dir}: different task lists "
                            f"({results['tasks']} vs {first['tasks']}); compare runs of the "
                            "same task sequence")


def _common_parent(run_dirs: list[Path]) -> Path:
    """The deepest directory holding every run (a single run's parent)."""
    resolved = [str(run_dir.resolve()) for run_dir in run_dirs]
    common = Path(os.path.commonpath(resolved))
    return common.parent if len(set(resolved)) == 1 else common
