"""The training log: one JSON line per optimizer step in `train_log.jsonl` (step, task, loss,
task_loss, lr, grad_norm, replayed, events), written by the main process and mirrored to
accelerate's trackers when `train.log_with` names one. A resumed run first drops the lines of
steps after its checkpoint, which it trains again, so no step appears twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accelerate import Accelerator

from mssr.run_config import RunConfig, config_to_dict

LOG_FILE = "train_log.jsonl"
TRACKED = ("loss", "task_loss", "lr", "grad_norm", "replayed")


class TrainLog:
    """Appends step records; `open(next_step)` keeps only the lines of earlier steps."""

    def __init__(self, accelerator: Accelerator, run_dir: Path, config: RunConfig):
        self.accelerator, self.config = accelerator, config
        self.path = Path(run_dir) / LOG_FILE
        self.handle = None

    def open(self, next_step: int) -> None:
        """Start logging at `next_step` (0 for a new run, the checkpoint's step on resume)."""
        if self.config.train.log_with is not None:
            self.accelerator.init_trackers(Path(self.config.output).name or "mssr",
                                           config=_flat(config_to_dict(self.config)))
        if not self.accelerator.is_main_process:
            return
        kept = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    if json.loads(line)["step"] < next_step:
                        kept.append(line + "\n")
                except (ValueError, KeyError, TypeError):  # a line torn by a kill
                    continue
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(kept))
        self.handle = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self.handle is not None:
            self.handle.write(json.dumps(record) + "\n")
            self.handle.flush()
        if self.config.train.log_with is not None:
            self.accelerator.log({key: record[key] for key in TRACKED
                                  if record.get(key) is not None}, step=record["step"])

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        if self.config.train.log_with is not None:
            self.accelerator.end_training()


def _flat(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config as `section.key` scalars, as trackers want their hyperparameters."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, f"{name}."))
        elif isinstance(value, (int, float, str, bool)):
            flat[name] = value
        else:
            flat[name] = json.dumps(value)
    return flat
