"""The continual fine-tuning recipe: one class whose `run()` reads top to bottom.

For each task: the batch is current-task examples plus the replay examples the strategy asks
for; one forward pass gives per-example losses, which drive both the backward pass and the
replay tracker. After the base model and after every task, every task is scored. Checkpoints
(atomic, verified) at every task end and every `train.checkpoint_every` steps let a killed run
resume exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed
from tqdm.auto import tqdm

from mssr.config import RunConfig, config_to_dict
from mssr.data.formatting import collate
from mssr.engine import model as model_io
from mssr.engine.anchor import WeightAnchor
from mssr.engine.checkpoint import CheckpointManager, load_tree, save_tree
from mssr.engine.data_order import stream_indices
from mssr.engine.ledger import ComputeLedger
from mssr.engine.losses import per_example_mean, response_exact, token_losses
from mssr.engine.replay_setup import resolve_replay
from mssr.engine.tasks import lookup, prepare_tasks
from mssr.errors import ConfigError, TrainingError
from mssr.evaluation.model_mode import inference
from mssr.replay import build_strategy

MEMORY_STRATEGIES = ("mssr", "mssr-sampler", "mssr-scheduler")


@dataclasses.dataclass
class Progress:
    """Where the run stands; saved in every checkpoint."""

    phase: int = 0
    phase_step: int = 0
    global_step: int = 0
    cursor: int = 0
    nonfinite_streak: int = 0
    base_scores: list[float] | None = None
    acc_rows: list[list[float | None]] = dataclasses.field(default_factory=list)
    task_boundaries: list[int] = dataclasses.field(default_factory=list)
    replay_timeline: list[dict] = dataclasses.field(default_factory=list)
    memory_snapshots: list[dict] = dataclasses.field(default_factory=list)
    ledger: dict = dataclasses.field(default_factory=lambda: ComputeLedger().as_dict())


class ContinualRun:
    """A continual fine-tuning run of one strategy and seed in one run directory."""

    def __init__(self, config: RunConfig, run_dir: Path, accelerator: Accelerator | None = None,
                 show_progress: bool = True):
        self.config = config
        self.run_dir = Path(run_dir)
        self.accelerator = accelerator or Accelerator()
        self.show_progress = show_progress and self.accelerator.is_main_process
        self.checkpoints = CheckpointManager(self.run_dir)
        self.stop_requested = False

    # ---------------------------------------------------------------- setup
    def setup(self, resume: bool = False) -> None:
        config, accelerator = self.config, self.accelerator
        world = accelerator.num_processes
        if config.train.batch_size % (world * config.train.grad_accum):
            raise ConfigError("train.batch_size", f"{config.train.batch_size} is not divisible "
                              f"by processes x grad_accum = {world * config.train.grad_accum}")
        set_seed(config.seed)
        self.tokenizer = model_io.load_tokenizer(config.model)
        self.tasks = prepare_tasks(config, self.tokenizer, self.run_dir / "data")
        self.replay_config, self.budget = resolve_replay(config)
        self.strategy = build_strategy(self.replay_config, seed=config.seed)
        self.anchor = WeightAnchor(enabled=self.strategy.anchors)
        self.phases = self._phases()
        model = model_io.load_model(config.model, config.lora, accelerator.device)
        self.model = accelerator.prepare_model(model)
        self.progress = Progress()
        ledger = ComputeLedger()
        ledger.skipped_lines = sum(t.data.skipped_lines for t in self.tasks)
        ledger.truncated_examples = sum(e.truncated for t in self.tasks for e in t.encoded)
        self.progress.ledger = ledger.as_dict()
        self._new_optimizer()
        checkpoint = self.checkpoints.latest() if resume else None
        if checkpoint is not None:
            self._load_checkpoint(checkpoint)

    def _phases(self) -> list[tuple[str, np.ndarray, int]]:
        """(name, ids to draw from, steps) per training phase: one per task, or one for joint."""
        steps = self.config.train.steps_per_task
        if self.config.joint:
            ids = np.concatenate([task.ids for task in self.tasks])
            return [("joint", ids, steps * len(self.tasks))]
        return [(task.name, task.ids, steps) for task in self.tasks]

    def _new_optimizer(self) -> None:
        """AdamW and its LR schedule, over one task (reset_optimizer) or the whole run."""
        from transformers import get_scheduler

        train = self.config.train
        optimizer = torch.optim.AdamW(model_io.trainable_parameters(self.model), lr=train.lr,
                                      weight_decay=train.weight_decay)
        self.optimizer = self.accelerator.prepare_optimizer(optimizer)
        phase = min(self.progress.phase, len(self.phases) - 1)
        steps = (self.phases[phase][2] if train.reset_optimizer
                 else sum(phase_steps for _, _, phase_steps in self.phases))
        self.lr_scheduler = get_scheduler(train.lr_schedule, self.optimizer,
                                          num_warmup_steps=train.warmup_steps,
                                          num_training_steps=steps)

    # ---------------------------------------------------------------- the loop
    def run(self) -> dict[str, Any]:
        """Train every phase, evaluating and checkpointing after each; return the results."""
        progress, train = self.progress, self.config.train
        wall_start = time.perf_counter() - progress.ledger["wall_seconds"]
        with self._sigint_stops_cleanly():
            if progress.base_scores is None:
                progress.base_scores = self.evaluate(upto=None)
                self._checkpoint("base")
            while progress.phase < len(self.phases):
                name, ids, steps = self.phases[progress.phase]
                if progress.phase_step == 0:
                    self.start_phase(ids)
                bar = tqdm(total=steps, initial=progress.phase_step, disable=not self.show_progress,
                           desc=f"task {progress.phase + 1}/{len(self.phases)} {name}",
                           dynamic_ncols=True, leave=False)
                while progress.phase_step < steps:
                    self.train_step(ids, bar)
                    progress.ledger["wall_seconds"] = time.perf_counter() - wall_start
                    if self.stop_requested:
                        self._checkpoint("interrupted")
                        raise KeyboardInterrupt
                    every = train.checkpoint_every
                    if every and progress.phase_step % every == 0 and progress.phase_step < steps:
                        self._checkpoint("step")
                bar.close()
                self._end_phase()
                progress.ledger["wall_seconds"] = time.perf_counter() - wall_start
                self._checkpoint("task")
        return self.results()

    def start_phase(self, ids: np.ndarray) -> None:
        progress = self.progress
        if progress.phase > 0 and self.config.train.reset_optimizer:
            self._new_optimizer()
        progress.cursor = 0
        progress.task_boundaries.append(progress.global_step)
        self.strategy.start_task(progress.phase, progress.global_step, ids)
        self.anchor.start_task(model_io.trainable_parameters(self.model))

    def _end_phase(self) -> None:
        progress = self.progress
        self.strategy.end_task(progress.phase, progress.global_step)
        if self.replay_config.strategy in MEMORY_STRATEGIES:
            snapshot = self.strategy.memory_snapshot(progress.global_step)
            progress.memory_snapshots.append({
                "task": progress.phase,
                "retention": snapshot["retention"].tolist(),
                "strength": snapshot["strength"].tolist()})
        seen = None if self.config.joint or self.config.eval.tasks == "all" else progress.phase
        progress.acc_rows.append(self.evaluate(upto=seen))
        progress.phase += 1
        progress.phase_step = 0

    def train_step(self, phase_ids: np.ndarray, bar: tqdm) -> None:
        """One optimizer step: plan replay, one forward pass, backward, step, tell the tracker."""
        config, progress, accelerator = self.config, self.progress, self.accelerator
        ledger = progress.ledger
        step, batch_size = progress.global_step, config.train.batch_size
        started = time.perf_counter()
        self._probe_if_due(step)
        replay_ids = self.strategy.plan(step, batch_size)
        current_count = self.strategy.current_count(batch_size, len(replay_ids))
        rows = stream_indices(config.seed, progress.phase, len(phase_ids), progress.cursor,
                              current_count)
        batch_ids = np.concatenate([phase_ids[rows], replay_ids]).astype(np.int64)
        examples = lookup(self.tasks, batch_ids)
        response_tokens = sum(e.response_tokens for e in examples)

        local_ids, local_losses = self._forward_backward(batch_ids, examples, response_tokens)
        ids = accelerator.gather(local_ids).cpu().numpy()
        losses = accelerator.gather(local_losses).cpu().numpy()
        progress.cursor += current_count
        progress.global_step += 1
        progress.phase_step += 1
        task_loss = float(losses[np.isin(ids, phase_ids)].mean())
        if not np.isfinite(losses).all():
            self._skip_nonfinite_step()
        else:
            progress.nonfinite_streak = 0
            update_norm = self._optimizer_step()
            self.strategy.observe(step, ids, losses, task_loss=task_loss, update_norm=update_norm)
            ledger["optimizer_steps"] += 1

        replayed = len(replay_ids)
        ledger["new_examples"] += current_count
        ledger["new_tokens"] += sum(len(e.input_ids) for e in examples[:current_count])
        ledger["replayed_examples"] += replayed
        ledger["replayed_tokens"] += sum(len(e.input_ids) for e in examples[current_count:])
        ledger["replay_events"] = self.strategy.stats["replay_events"]
        ledger["train_seconds"] += time.perf_counter() - started
        if replayed:
            progress.replay_timeline.append(
                {"step": step, "task": progress.phase, "replayed": replayed})
        bar.set_postfix(loss=f"{task_loss:.3f}", replay=f"{replayed / batch_size:.0%}")
        bar.update(1)

    def _forward_backward(self, batch_ids: np.ndarray, examples: list, response_tokens: int
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's share of the batch, in micro-batches; the loss is normalised by the
        response tokens of the whole global batch, so any split gives the same gradient."""
        accelerator, train = self.accelerator, self.config.train
        rank, world = accelerator.process_index, accelerator.num_processes
        local = list(range(rank, len(examples), world))
        micro_batches = np.array_split(np.array(local), train.grad_accum)
        self.model.train()
        losses = []
        for index, micro in enumerate(micro_batches):
            batch = collate([examples[i] for i in micro], self.tokenizer.pad_token_id)
            batch = {k: v.to(accelerator.device) for k, v in batch.items()}
            last = index == len(micro_batches) - 1
            sync = contextlib.nullcontext() if last else accelerator.no_sync(self.model)
            with sync:
                logits = self.model(input_ids=batch["input_ids"],
                                    attention_mask=batch["attention_mask"]).logits
                token_loss, mask = token_losses(logits, batch["labels"])
                loss = token_loss.sum() * world / max(response_tokens, 1)
                if last:  # once per optimizer step: FOREVER's pull to the previous task
                    loss = loss + self.anchor.penalty(model_io.trainable_parameters(self.model),
                                                      self.strategy.anchor_weight())
                accelerator.backward(loss)
            losses.append(per_example_mean(token_loss.detach(), mask))
        local_ids = torch.as_tensor(batch_ids[np.concatenate(micro_batches)],
                                    device=accelerator.device)
        return local_ids, torch.cat(losses)

    def _optimizer_step(self) -> float | None:
        """Clip, step, schedule; the update's norm when the clock needs it."""
        params = model_io.trainable_parameters(self.model)
        wants_norm = self.strategy.needs_update_norm
        before = [p.detach().clone() for p in params] if wants_norm else None
        if self.config.train.max_grad_norm is not None:
            self.accelerator.clip_grad_norm_(params, self.config.train.max_grad_norm)
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if before is None:
            return None
        squares = sum(((p.detach() - b) ** 2).sum() for p, b in zip(params, before, strict=True))
        return float(torch.sqrt(squares))

    def _skip_nonfinite_step(self) -> None:
        progress = self.progress
        self.optimizer.zero_grad(set_to_none=True)
        progress.ledger["skipped_nonfinite_steps"] += 1
        progress.nonfinite_streak += 1
        if progress.nonfinite_streak >= self.config.train.max_nonfinite_steps:
            self._checkpoint("nonfinite")
            raise TrainingError(
                f"{progress.nonfinite_streak} non-finite losses in a row at step "
                f"{progress.global_step}: lower train.lr or check the data; the last good state "
                f"is checkpointed in {self.checkpoints.root}")

    def _probe_if_due(self, step: int) -> None:
        """The accuracy baseline's probe: greedy response accuracy on buffered examples,
        through the same model; its tokens are the method's own evaluation cost."""
        probe_ids = self.strategy.probe_ids(step)
        if probe_ids is None:
            return
        examples = lookup(self.tasks, probe_ids)
        correct = 0
        with inference(self.model):
            for start in range(0, len(examples), self.config.eval.batch_size):
                chunk = examples[start:start + self.config.eval.batch_size]
                batch = collate(chunk, self.tokenizer.pad_token_id)
                batch = {k: v.to(self.accelerator.device) for k, v in batch.items()}
                logits = self.model(input_ids=batch["input_ids"],
                                    attention_mask=batch["attention_mask"]).logits
                correct += int(response_exact(logits, batch["labels"]).sum())
        tokens = sum(len(e.input_ids) for e in examples)
        self.strategy.report_probe(step, correct / max(len(examples), 1), tokens)
        self.progress.ledger["method_eval_tokens"] += tokens

    # ---------------------------------------------------------------- evaluation
    def evaluate(self, upto: int | None) -> list[float | None]:
        """Score every task, or those up to index `upto`, on the main process; every process
        gets the scores."""
        from mssr.evaluation import score_task

        started = time.perf_counter()
        scores: list[float | None] = [None] * len(self.tasks)
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            for task in self.tasks[:None if upto is None else upto + 1]:
                result = score_task(model, self.tokenizer, task.data.eval, task.data.scorer,
                                    batch_size=self.config.eval.batch_size,
                                    max_new_tokens=self.config.eval.max_new_tokens,
                                    max_length=self.config.model.max_length)
                score = result.score if result.higher_is_better else float(np.exp(-result.score))
                scores[task.index] = score
        scores = _broadcast(scores)
        self.progress.ledger["eval_seconds"] += time.perf_counter() - started
        return scores

    # ---------------------------------------------------------------- results
    def results(self) -> dict[str, Any]:
        """results.json's content (schema in the README)."""
        from mssr.evaluation.metrics import continual_metrics

        progress = self.progress
        tasks = [task.name for task in self.tasks]
        if self.config.joint:
            final = progress.acc_rows[-1]
            rows = [[None] * len(tasks) for _ in tasks[:-1]] + [final]
            metrics = {"ap": float(np.mean(final)), "bwt": None, "fwt": None, "forgetting": None}
        else:
            rows = progress.acc_rows
            metrics = continual_metrics(rows, progress.base_scores)
        return {
            "schema_version": 1,
            "strategy": self.config.strategy_name,
            "seed": self.config.seed,
            "tasks": tasks,
            "scorers": {task.name: task.data.scorer for task in self.tasks},
            "base_scores": progress.base_scores,
            "acc_matrix": rows,
            "metrics": metrics,
            "compute": progress.ledger,
            "replay_budget": self.budget,
            "replay_timeline": progress.replay_timeline,
            "task_boundaries": progress.task_boundaries,
            "memory_snapshots": progress.memory_snapshots,
            "calibration": self.strategy.calibration_record(),
            "config": config_to_dict(self.config),
        }

    # ---------------------------------------------------------------- checkpoints
    def _checkpoint(self, reason: str) -> None:
        """Everything needed to continue exactly: weights, optimizer, schedule, replay state,
        RNG states, data position and results so far."""
        progress = self.progress
        name = f"step-{progress.global_step:08d}-task-{progress.phase:03d}-{reason}"
        if self.accelerator.is_main_process:
            model = self.accelerator.unwrap_model(self.model)
            estimate = 3 * sum(p.numel() * p.element_size()
                               for p in model_io.trainable_parameters(model)) + (16 << 20)

            def write(directory: Path) -> None:
                model_io.save_weights(model, directory / "weights")
                torch.save({"optimizer": self.optimizer.state_dict(),
                            "lr_scheduler": self.lr_scheduler.state_dict(),
                            "torch_rng": torch.get_rng_state(),
                            "python_rng": random.getstate(),
                            "anchor": self.anchor.state_dict()}, directory / "training_state.pt")
                save_tree(directory, "replay", self.strategy.state_dict())
                save_tree(directory, "progress", dataclasses.asdict(progress))

            self.checkpoints.save(name, write, min_free_bytes=estimate)
        self.accelerator.wait_for_everyone()

    def _load_checkpoint(self, checkpoint: Path) -> None:
        progress = load_tree(checkpoint, "progress")
        self.progress = Progress(**progress)
        self._new_optimizer()
        model_io.load_weights(self.accelerator.unwrap_model(self.model), checkpoint / "weights")
        state = torch.load(checkpoint / "training_state.pt", weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["python_rng"])
        self.anchor.load_state_dict(state.get("anchor"))
        self.strategy.load_state_dict(load_tree(checkpoint, "replay"))

    @contextlib.contextmanager
    def _sigint_stops_cleanly(self):
        """Ctrl-C finishes the current step, writes a checkpoint, then stops."""
        def request_stop(signum, frame):
            self.stop_requested = True

        try:
            previous = signal.signal(signal.SIGINT, request_stop)
        except ValueError:  # not the main thread: leave signals alone
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _broadcast(value: Any) -> Any:
    holder = [value]
    broadcast_object_list(holder)
    return holder[0]
