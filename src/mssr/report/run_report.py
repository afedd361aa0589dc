"""report.md and the plots of one run: what a person reads after `mssr run`."""

from __future__ import annotations

from pathlib import Path

from mssr.files import atomic_write_bytes
from mssr.report import plots
from mssr.report.markdown import (
    format_amount,
    format_budget,
    format_score,
    markdown_table,
)

REPORT_FILE = "report.md"
METRIC_NAMES = {"ap": "AP (average performance)", "bwt": "BWT (backward transfer)",
                "fwt": "FWT (forward transfer)", "forgetting": "Forgetting (max-based)",
                "normalised_score": "Average normalised score (final / reference)"}


def write_report(run_dir: Path, results: dict) -> list[Path]:
    """Write report.md and its PNG plots into `run_dir`; return every path written."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    written = [plots.plot_acc_matrix(results, run_dir / "acc_matrix.png"),
               plots.plot_task_scores(results, run_dir / "task_scores.png"),
               plots.plot_replay_timeline(results, run_dir / "replay_timeline.png")]
    if results["memory_snapshots"]:
        written.append(plots.plot_memory(results, run_dir / "memory.png"))
        if "calibration" in results:
            written.append(plots.plot_calibration(results, run_dir / "calibration.png"))
    report = run_dir / REPORT_FILE
    atomic_write_bytes(report, render_report(results, [path.name for path in written]).encode())
    return [report, *written]


def render_report(results: dict, plot_files: list[str]) -> str:
    """The markdown of a run report; `plot_files` are embedded in order."""
    tasks, compute = results["tasks"], results["compute"]
    sections = [
        f"# Run report: {results['strategy']}, seed {results['seed']}",
        "Tasks in training order: " + " → ".join(
            f"`{task}` ({results['scorers'][task]})" for task in tasks),
        "## Metrics\n\n" + _metrics_table(results),
        "## Scores\n\nRow: when the tasks were scored; column: the task scored "
        "(higher is better; the `loss` scorer shows exp(−loss)).\n\n" + _score_table(results),
        "## Replay budget\n\n" + markdown_table(["budget", "value"], [
            ["mode", results["replay_budget"]["mode"]],
            ["planned replayed examples per task",
             format_amount(results["replay_budget"]["per_task"])],
            ["replayed examples (actual)", format_amount(compute["replayed_examples"])],
            ["replay events", format_amount(compute["replay_events"])]]),
        "## Compute\n\n" + markdown_table(
            ["item", "value"], [[key.replace("_", " "), format_amount(value)]
                                for key, value in compute.items()]),
        "## Plots\n\n" + "\n\n".join(f"![{name.removesuffix('.png').replace('_', ' ')}]({name})"
                                     for name in plot_files),
    ]
    return "\n\n".join(sections) + "\n"


def _metrics_table(results: dict) -> str:
    metrics = results["metrics"]
    rows = [[label, format_score(metrics[key], signed=key in ("bwt", "fwt"))]
            for key, label in METRIC_NAMES.items() if key in metrics]
    rows.append(["replayed examples", format_amount(results["compute"]["replayed_examples"])])
    rows.append(["replay budget", format_budget(results["replay_budget"])])
    table = markdown_table(["metric", "value"], rows)
    reference = results.get("reference")
    if reference is None:
        return table
    scores = ", ".join(f"`{task}` {format_score(score)}"
                       for task, score in reference["scores"].items())
    return (f"{table}\n\nReference of the normalised score ({', '.join(reference['runs'])}): "
            f"{scores}.")


def _score_table(results: dict) -> str:
    labels, _ = plots.score_rows(results)
    rows = [results["base_scores"], *results["acc_matrix"]]
    return markdown_table(["", *(f"`{task}`" for task in results["tasks"])],
                          [[label, *(format_score(value) for value in row)]
                           for label, row in zip(labels, rows, strict=True)])
