"""MSSR replay in TRL's `SFTTrainer` (install the extra: `pip install mssr[trl]`).

Each task's rows are prepared by SFTTrainer itself (prompt/completion, messages or text;
tokenized, completion_only_loss / assistant_only_loss masks turned into labels), so the
per-example losses cover exactly the tokens SFTTrainer trains on. Packing and padding-free
batches put several examples in one row, which per-example losses cannot separate: refused.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trl import SFTConfig, SFTTrainer

from mssr.data.trainer_rows import sft_train_data
from mssr.errors import ConfigError
from mssr.integrations.continual import ContinualTask
from mssr.integrations.transformers import ReplayMixin


class ReplaySFTTrainer(ReplayMixin, SFTTrainer):
    """`trl.SFTTrainer` with MSSR replay over a task sequence:

        trainer = ReplaySFTTrainer(model=model, args=SFTConfig(...), tasks=tasks,
                                   continual=ContinualConfig(steps_per_task=200),
                                   processing_class=tokenizer)
        trainer.train()          # every task in order, scored after each
        trainer.save_results()   # results.json + report.md, as `mssr run`
    """

    def __init__(self, *args: Any, **kwargs: Any):
        sft_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        if isinstance(sft_args, SFTConfig):
            refuse_mixed_rows(sft_args)
        tokenizer = kwargs.get("processing_class")
        if tokenizer is not None and kwargs.get("tasks"):  # else ReplayMixin names what is missing
            kwargs["tasks"] = [dataclasses.replace(task, train=sft_train_data(
                task.train, f"tasks[{task.name}].train", tokenizer)) for task in kwargs["tasks"]]
        super().__init__(*args, **kwargs)

    def _prepare_task_rows(self, index: int, task: ContinualTask) -> Any:
        """Task 0 was prepared by SFTTrainer.__init__ as its train_dataset; the others go
        through the same preparation."""
        if index == 0:
            prepared = self.train_dataset
        else:
            prepared = self._prepare_dataset(task.train, self.processing_class, self.args,
                                             False, self._formatting_func, task.name)
        return super()._prepare_task_rows(index, ContinualTask(task.name, prepared, task.eval,
                                                               task.scorer))


def refuse_mixed_rows(args: SFTConfig) -> None:
    """Packing and padding-free training mix examples in one row: per-example losses, and so
    the replay tracker, would see a blend of examples."""
    if args.packing:
        raise ConfigError("SFTConfig.packing", "packing puts several examples in one row, so "
                          "per-example losses (which MSSR's tracker needs) are lost; set "
                          "packing=False")
    if args.padding_free:
        raise ConfigError("SFTConfig.padding_free", "padding-free batches concatenate examples "
                          "into one row, so per-example losses are lost; set padding_free=False")
