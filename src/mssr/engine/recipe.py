"""The continual fine-tuning recipe: the loop itself, read top to bottom.

For each task: the batch is current-task examples plus the replay examples the strategy asks
for; one forward pass gives per-example losses, which drive both the backward pass and the
replay tracker. After the base model and after every task, every task is scored. The pieces
the loop calls each have one owner: `optim` (AdamW, LR schedule), `scoring` (evaluation,
probes, results), `state` (progress, checkpoints), `signals` (agreed stop requests),
`train_log` (per-step metrics).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from mssr.data.formatting import Encoded, collate
from mssr.engine import model as model_io
from mssr.engine.anchor import WeightAnchor
from mssr.engine.data_order import local_micro_batches, step_ids
from mssr.engine.distributed import check_supported, make_accelerator
from mssr.engine.ledger import count_batch
from mssr.engine.optim import Optimization
from mssr.engine.precision import model_config_for_training
from mssr.engine.replay_setup import resolve_replay
from mssr.engine.scoring import Scoring
from mssr.engine.signals import StopRequests
from mssr.engine.state import Progress, RunCheckpoints
from mssr.engine.tasks import lookup, prepare_tasks
from mssr.engine.train_log import TrainLog
from mssr.errors import ConfigError, TrainingError
from mssr.losses import per_example_mean, token_losses
from mssr.replay import build_strategy
from mssr.replay.strategy import ReplayStrategy
from mssr.run_config import RunConfig

MEMORY_STRATEGIES = ("mssr", "mssr-sampler", "mssr-every-step", "mssr-scheduler")


def close_task(progress: Progress, strategy: ReplayStrategy, scores: list[float | None]
               ) -> None:
    """End the current task: the buffer takes its share, the memory model's snapshot (for the
    strategies that have one) and the task's accuracy row `scores` are recorded."""
    strategy.end_task(progress.phase, progress.global_step)
    if strategy.config.strategy in MEMORY_STRATEGIES:
        snapshot = strategy.memory_snapshot(progress.global_step)
        progress.memory_snapshots.append({"task": progress.phase,
                                          "retention": snapshot["retention"].tolist(),
                                          "strength": snapshot["strength"].tolist()})
    progress.acc_rows.append(scores)
    progress.phase += 1
    progress.phase_step = 0


@dataclasses.dataclass
class Batch:
    """One step's examples: the current task's first, then the replayed ones."""

    ids: np.ndarray
    examples: list[Encoded]
    current_count: int

    @property
    def replayed(self) -> int:
        return len(self.ids) - self.current_count


class ContinualRun:
    """A continual fine-tuning run of one strategy and seed in one run directory."""

    def __init__(self, config: RunConfig, run_dir: Path, accelerator: Accelerator | None = None,
                 show_progress: bool = True):
        self.config = config
        self.run_dir = Path(run_dir)
        self.accelerator = accelerator or make_accelerator(config, self.run_dir)
        check_supported(self.accelerator, config)
        self.show_progress = show_progress and self.accelerator.is_main_process
        self.stop = StopRequests(self.accelerator)
        self.checkpoints = RunCheckpoints(self.accelerator, self.run_dir)
        self.log = TrainLog(self.accelerator, self.run_dir, config)

    # ---------------------------------------------------------------- setup
    def setup(self, resume: bool = False) -> None:
        config, accelerator = self.config, self.accelerator
        world = accelerator.num_processes
        if config.train.batch_size % (world * config.train.grad_accum):
            raise ConfigError("train.batch_size", f"{config.train.batch_size} is not divisible "
                              f"by processes x grad_accum = {world * config.train.grad_accum}")
        model_config = model_config_for_training(config)
        set_seed(config.seed)
        self.tokenizer = model_io.load_tokenizer(config.model)
        self.tasks = prepare_tasks(config, self.tokenizer, self.run_dir / "data")
        self.replay_config, self.budget = resolve_replay(config)
        self.strategy = build_strategy(self.replay_config, seed=config.seed)
        self.anchor = WeightAnchor(enabled=self.strategy.anchors)
        accelerator.register_for_checkpointing(self.anchor)
        self.phases = self._phases()
        model = model_io.load_model(model_config, config.lora, accelerator.device)
        self.model = accelerator.prepare_model(model)
        self.scoring = Scoring(config, self.tasks, self.tokenizer, accelerator)
        checkpoint = self.checkpoints.latest() if resume else None
        self.progress = (self.checkpoints.load_progress(checkpoint) if checkpoint is not None
                         else self._new_progress())
        self.optim = Optimization(accelerator, model_io.trainable_parameters(self.model),
                                  config.train, [steps for _, _, steps in self.phases],
                                  phase=min(self.progress.phase, len(self.phases) - 1))
        if checkpoint is not None:
            self.strategy.load_state_dict(self.checkpoints.load(checkpoint, self.model))

    def _phases(self) -> list[tuple[str, np.ndarray, int]]:
        """(name, ids to draw from, steps) per training phase: one per task, or one for joint."""
        steps = self.config.train.steps_per_task
        if self.config.joint:
            ids = np.concatenate([task.ids for task in self.tasks])
            return [("joint", ids, steps * len(self.tasks))]
        return [(task.name, task.ids, steps) for task in self.tasks]

    def _new_progress(self) -> Progress:
        progress = Progress()
        progress.ledger["skipped_lines"] = sum(t.data.skipped_lines for t in self.tasks)
        progress.ledger["truncated_examples"] = sum(e.truncated for t in self.tasks
                                                    for e in t.encoded)
        return progress

    # ---------------------------------------------------------------- the loop
    def run(self) -> dict[str, Any]:
        """Train every phase, evaluating and checkpointing after each; return the results."""
        progress = self.progress
        self._wall_start = time.perf_counter() - progress.ledger["wall_seconds"]
        self.log.open(next_step=progress.global_step)
        with self.stop.installed(), contextlib.closing(self.log):
            if progress.base_scores is None:
                progress.base_scores = self.evaluate(upto=None)
                self.checkpoint("base")
            while progress.phase < len(self.phases):
                self.train_phase(*self.phases[progress.phase])
                self.end_phase()
                self.checkpoint("task")
        return self.scoring.results(progress, self.budget,
                                    self.strategy.calibration_record())

    def train_phase(self, name: str, ids: np.ndarray, steps: int) -> None:
        """The steps of one phase, with mid-phase checkpoints and agreed stop requests."""
        progress, every = self.progress, self.config.train.checkpoint_every
        if progress.phase_step == 0:
            self.start_phase(ids)
        bar = tqdm(total=steps, initial=progress.phase_step, disable=not self.show_progress,
                   desc=f"task {progress.phase + 1}/{len(self.phases)} {name}",
                   dynamic_ncols=True, leave=False)
        while progress.phase_step < steps:
            self.train_step(ids, bar)
            if self.stop.agreed():
                self.checkpoint("interrupted")
                raise KeyboardInterrupt
            if every and progress.phase_step % every == 0 and progress.phase_step < steps:
                self.checkpoint("step")
        bar.close()

    def start_phase(self, ids: np.ndarray) -> None:
        progress = self.progress
        self.optim.start_phase(progress.phase)
        progress.cursor = 0
        progress.task_boundaries.append(progress.global_step)
        self.strategy.start_task(progress.phase, progress.global_step, ids)
        self.anchor.start_task(model_io.trainable_parameters(self.model))

    def end_phase(self) -> None:
        progress = self.progress
        seen = None if self.config.joint or self.config.eval.tasks == "all" else progress.phase
        close_task(progress, self.strategy, self.evaluate(upto=seen))

    def train_step(self, phase_ids: np.ndarray, bar: tqdm) -> None:
        """One optimizer step: plan replay, one forward pass, backward, step, tell the tracker."""
        progress, step = self.progress, self.progress.global_step
        started = time.perf_counter()
        events = ["task_start"] if progress.phase_step == 0 else []
        if self.probe_if_due(step):
            events.append("probe")
        replay_events = self.strategy.stats["replay_events"]
        batch = self.next_batch(phase_ids)
        ids, losses = self.forward_backward(batch)
        progress.cursor += batch.current_count
        progress.global_step += 1
        progress.phase_step += 1
        task_loss = float(losses[np.isin(ids, phase_ids)].mean())
        outcome = None
        if np.isfinite(losses).all():
            progress.nonfinite_streak = 0
            outcome = self.optim.step(measure_update=self.strategy.needs_update_norm)
            self.strategy.observe(step, ids, losses, task_loss=task_loss,
                                  update_norm=outcome.update_norm)
            progress.ledger["optimizer_steps"] += outcome.stepped
            if not outcome.stepped:
                events.append("overflow_skipped")
        else:
            events.append("nonfinite_skipped")
            self.skip_nonfinite_step()
        if self.strategy.stats["replay_events"] > replay_events:
            events.append("replay")
        self.account(step, batch, started)
        self.log.write({"step": step, "task": progress.phase, "loss": float(losses.mean()),
                        "task_loss": task_loss, "lr": outcome and outcome.lr,
                        "grad_norm": outcome and outcome.grad_norm, "replayed": batch.replayed,
                        "events": events})
        bar.set_postfix(loss=f"{task_loss:.3f}", replay=f"{batch.replayed / len(ids):.0%}")
        bar.update(1)

    def next_batch(self, phase_ids: np.ndarray) -> Batch:
        """The current task's next examples and the replay examples the strategy plans."""
        progress = self.progress
        ids, current_count = step_ids(self.strategy, progress.global_step,
                                      self.config.train.batch_size, self.config.seed,
                                      progress.phase, phase_ids, progress.cursor)
        return Batch(ids=ids, examples=lookup(self.tasks, ids), current_count=current_count)

    def forward_backward(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """This process's share of the batch, in micro-batches; the loss is normalised by the
        response tokens of the whole global batch, so any split gives the same gradient.
        Returns every process's (ids, per-example losses), gathered."""
        accelerator, train = self.accelerator, self.config.train
        rank, world = accelerator.process_index, accelerator.num_processes
        response_tokens = sum(e.response_tokens for e in batch.examples)
        micro_batches = local_micro_batches(len(batch.examples), rank, world, train.grad_accum)
        self.model.train()
        losses = []
        for index, micro in enumerate(micro_batches):
            tensors = collate([batch.examples[i] for i in micro], self.tokenizer.pad_token_id)
            tensors = {k: v.to(accelerator.device) for k, v in tensors.items()}
            last = index == len(micro_batches) - 1
            with contextlib.nullcontext() if last else accelerator.no_sync(self.model):
                logits = self.model(input_ids=tensors["input_ids"],
                                    attention_mask=tensors["attention_mask"]).logits
                token_loss, mask = token_losses(logits, tensors["labels"])
                loss = token_loss.sum() * world / max(response_tokens, 1)
                if last:  # once per optimizer step: FOREVER's pull to the previous task
                    loss = loss + self.anchor.penalty(model_io.trainable_parameters(self.model),
                                                      self.strategy.anchor_weight())
                accelerator.backward(loss)
            losses.append(per_example_mean(token_loss.detach(), mask))
        local_ids = torch.as_tensor(batch.ids[np.concatenate(micro_batches)],
                                    device=accelerator.device)
        return (accelerator.gather(local_ids).cpu().numpy(),
                accelerator.gather(torch.cat(losses)).cpu().numpy())

    def account(self, step: int, batch: Batch, started: float) -> None:
        """The compute ledger and replay timeline of one step."""
        progress, ledger = self.progress, self.progress.ledger
        tokens = [len(e.input_ids) for e in batch.examples]
        count_batch(ledger, tokens[:batch.current_count], tokens[batch.current_count:])
        ledger["replay_events"] = self.strategy.stats["replay_events"]
        ledger["train_seconds"] += time.perf_counter() - started
        if batch.replayed:
            progress.replay_timeline.append(
                {"step": step, "task": progress.phase, "replayed": batch.replayed})

    def skip_nonfinite_step(self) -> None:
        progress = self.progress
        self.optim.skip()
        progress.ledger["skipped_nonfinite_steps"] += 1
        progress.nonfinite_streak += 1
        if progress.nonfinite_streak >= self.config.train.max_nonfinite_steps:
            self.checkpoint("nonfinite")
            raise TrainingError(
                f"{progress.nonfinite_streak} non-finite losses in a row at step "
                f"{progress.global_step}: lower train.lr or check the data; the last good state "
                f"is checkpointed in {self.checkpoints.root}")

    def probe_if_due(self, step: int) -> bool:
        """The accuracy baseline's probe on buffered examples; its tokens are the method's own
        evaluation cost."""
        probe_ids = self.strategy.probe_ids(step)
        if probe_ids is None:
            return False
        examples = lookup(self.tasks, probe_ids)
        accuracy = self.scoring.probe(self.model, examples)
        tokens = sum(len(e.input_ids) for e in examples)
        self.strategy.report_probe(step, accuracy, tokens)
        self.progress.ledger["method_eval_tokens"] += tokens
        return True

    # ---------------------------------------------------------------- evaluation, checkpoints
    def evaluate(self, upto: int | None) -> list[float | None]:
        """Score every task, or those up to index `upto`; every process gets the scores."""
        started = time.perf_counter()
        scores = self.scoring.evaluate(self.model, upto)
        self.progress.ledger["eval_seconds"] += time.perf_counter() - started
        return scores

    def checkpoint(self, reason: str) -> None:
        """Everything needed to continue exactly (see engine/state.py)."""
        progress = self.progress
        progress.ledger["wall_seconds"] = time.perf_counter() - self._wall_start
        name = f"step-{progress.global_step:08d}-task-{progress.phase:03d}-{reason}"
        self.checkpoints.save(name, self.model, progress, self.strategy.state_dict())
