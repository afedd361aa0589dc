"""Scores during a run: every task after the base model and after each task, the accuracy
baseline's probes on buffered examples, and results.json's content."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType

from mssr.config import RunConfig, config_to_dict
from mssr.data.formatting import Encoded, collate
from mssr.engine.distributed import broadcast
from mssr.engine.state import Progress
from mssr.engine.tasks import PreparedTask
from mssr.evaluation.model_mode import inference
from mssr.losses import response_exact


class Scoring:
    """Evaluates the run's tasks with its model and tokenizer."""

    def __init__(self, config: RunConfig, tasks: list[PreparedTask], tokenizer: Any,
                 accelerator: Accelerator):
        self.config, self.tasks, self.tokenizer = config, tasks, tokenizer
        self.accelerator = accelerator

    def evaluate(self, model: torch.nn.Module, upto: int | None) -> list[float | None]:
        """Every task's score (or those up to index `upto`), the same on every process. Under
        FSDP every process scores (each forward pass gathers the shards); otherwise the main
        process scores the unwrapped model and shares its scores."""
        from mssr.evaluation import score_task

        accelerator, settings = self.accelerator, self.config.eval
        sharded = accelerator.distributed_type == DistributedType.FSDP
        scores: list[float | None] = [None] * len(self.tasks)
        if accelerator.is_main_process or sharded:
            scored = model if sharded else accelerator.unwrap_model(model)
            for task in self.tasks[:None if upto is None else upto + 1]:
                result = score_task(scored, self.tokenizer, task.data.eval, task.data.scorer,
                                    batch_size=settings.batch_size,
                                    max_new_tokens=settings.max_new_tokens,
                                    max_length=self.config.model.max_length)
                scores[task.index] = (result.score if result.higher_is_better
                                      else float(np.exp(-result.score)))
        return broadcast(scores)

    def probe(self, model: torch.nn.Module, examples: list[Encoded]) -> float:
        """The accuracy baseline's probe: the share of `examples` whose every response token
        greedy next-token prediction gets right, through the training model (on every process,
        identically)."""
        correct = 0
        batch_size = self.config.eval.batch_size
        with inference(model):
            for start in range(0, len(examples), batch_size):
                batch = collate(examples[start:start + batch_size], self.tokenizer.pad_token_id)
                batch = {k: v.to(self.accelerator.device) for k, v in batch.items()}
                logits = model(input_ids=batch["input_ids"],
                               attention_mask=batch["attention_mask"]).logits
                correct += int(response_exact(logits, batch["labels"]).sum())
        return correct / max(len(examples), 1)

    def results(self, progress: Progress, budget: dict[str, Any],
                calibration: dict[str, Any]) -> dict[str, Any]:
        """results.json's content (schema in the README); `calibration` is the replay
        strategy's record of predicted against observed retention."""
        from mssr.evaluation.metrics import continual_metrics

        config = self.config
        tasks = [task.name for task in self.tasks]
        if config.joint:
            final = progress.acc_rows[-1]
            rows = [[None] * len(tasks) for _ in tasks[:-1]] + [final]
            metrics = {"ap": float(np.mean(final)), "bwt": None, "fwt": None, "forgetting": None}
        else:
            rows = progress.acc_rows
            metrics = continual_metrics(rows, progress.base_scores)
        return {
            "schema_version": 1,
            "strategy": config.strategy_name,
            "seed": config.seed,
            "tasks": tasks,
            "scorers": {task.name: task.data.scorer for task in self.tasks},
            "base_scores": progress.base_scores,
            "acc_matrix": rows,
            "metrics": metrics,
            "compute": progress.ledger,
            "replay_budget": budget,
            "replay_timeline": progress.replay_timeline,
            "task_boundaries": progress.task_boundaries,
            "memory_snapshots": progress.memory_snapshots,
            "calibration": calibration,
            "config": config_to_dict(config),
        }
