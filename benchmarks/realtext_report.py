"""Issue 21's realtext table from finished frontier runs (`bench_frontier.py --suite realtext
--arms none uniform joint --budgets 0.03`): each task's score after its own training (A[j][j])
without replay and with uniform replay, its final score, `joint`'s score, each over the seeds
run (mean, and the lowest seed), beside the data-only learner of realtext_ceiling.py, with
issue 21's targets marked met or missed (met: on every seed).

    python benchmarks/realtext_report.py [runs/frontier/realtext-lora/default]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from realtext_ceiling import ceiling

from mssr.data.suites import realtext

TASK_TARGET, JOINT_TARGET, CHOICE_TARGET_TIMES_CHANCE = 0.6, 0.8, 3
BWT_BAND = (-0.5, -0.1)  # an LLM-like no-replay BWT


def task_target(name: str) -> float:
    task = realtext.TASKS[name]
    return CHOICE_TARGET_TIMES_CHANCE * task.chance if task.format == "multiple_choice" \
        else TASK_TARGET


def load_runs(directory: Path, arm: str) -> list[dict]:
    """Every seed's results.json of one arm, by seed."""
    paths = sorted(directory.glob(f"seed*/{arm}/results.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in paths]


def learned(run: dict) -> np.ndarray:
    """A[j][j]: each task's score right after its own training."""
    return np.diag(np.asarray(run["acc_matrix"], dtype=float))


def final(run: dict) -> np.ndarray:
    return np.asarray(run["acc_matrix"][-1], dtype=float)


def cell(values: np.ndarray) -> str:
    """Mean over seeds, and the lowest seed where there are several."""
    if len(values) == 0:
        return "-"
    return f"{values.mean():.2f}" + (f" ({values.min():.2f})" if len(values) > 1 else "")


def data_only(row: dict) -> str:
    if "word overlap" in row:
        return f"{row['word overlap']:.2f} (word overlap)"
    if "answer in passage" in row:
        return f"{row['answer in passage']:.2f} (answer in passage)"
    return f"{row['naive Bayes, all']:.2f} (naive Bayes)"


def report(directory: Path) -> str:
    none, uniform, joint = (load_runs(directory, arm) for arm in ("none", "uniform-0.03",
                                                                  "joint"))
    if not none:
        raise SystemExit(f"realtext_report: no finished `none` run under {directory}")
    tasks = none[0]["tasks"]
    columns = ("A[j][j] none", "A[j][j] uniform 3%", "final none", "final uniform 3%",
               "joint")
    series = {columns[0]: [learned(r) for r in none], columns[1]: [learned(r) for r in uniform],
              columns[2]: [final(r) for r in none], columns[3]: [final(r) for r in uniform],
              columns[4]: [final(r) for r in joint]}
    lines = [f"Seeds: none {len(none)}, uniform at 3% {len(uniform)}, joint {len(joint)}; each "
             "cell the mean over seeds (the lowest seed).", "",
             "| task | chance | target | data-only learner | " + " | ".join(columns) +
             " | target met |", "|---|---:|---:|---|" + "---:|" * len(columns) + "---|"]
    met_count = 0
    for index, name in enumerate(tasks):
        values = {column: np.array([run[index] for run in runs]) for column, runs in
                  series.items()}
        met = bool(np.all(values[columns[0]] >= task_target(name) - 1e-9))
        met_count += met
        lines.append(f"| {name} | {realtext.TASKS[name].chance:.2f} | {task_target(name):.2f} | "
                     f"{data_only(ceiling(name))} | " +
                     " | ".join(cell(values[column]) for column in columns) +
                     f" | {'met' if met else 'missed'} |")
    lines.append(f"| **tasks at target on every seed** | | | | | | | | | **{met_count} / "
                 f"{len(tasks)}** |")
    lines += ["", "| arm | AP | BWT |", "|---|---:|---:|"]
    for arm, runs in (("none", none), ("uniform 3%", uniform), ("joint", joint)):
        if runs:
            ap = np.array([run["metrics"]["ap"] for run in runs])
            bwt = "-" if arm == "joint" else cell(np.array([run["metrics"]["bwt"]
                                                            for run in runs]))
            lines.append(f"| {arm} | {cell(ap)} | {bwt} |")
    joint_ap = np.array([run["metrics"]["ap"] for run in joint])
    bwt_none = np.array([run["metrics"]["bwt"] for run in none])
    lines += ["", f"- joint AP >= {JOINT_TARGET}: " +
              ("not run" if not len(joint_ap) else
               "met" if np.all(joint_ap >= JOINT_TARGET) else "missed"),
              f"- no-replay BWT in [{BWT_BAND[0]}, {BWT_BAND[1]}]: " +
              ("inside" if np.all((bwt_none >= BWT_BAND[0]) & (bwt_none <= BWT_BAND[1]))
               else "outside")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", type=Path,
                        default=Path("runs/frontier/realtext-lora/default"))
    print(report(parser.parse_args().directory))


if __name__ == "__main__":
    main()
