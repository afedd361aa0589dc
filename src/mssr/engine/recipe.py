"""The continual fine-tuning recipe: the loop itself, read top to bottom.

For each task: the batch is current-task examples plus the replay examples the replay driver
(replay/driver.py) plans; one forward pass gives per-example losses, which drive both the
backward pass and the replay strategy (MIR alone measures its candidates first:
`choose_replay`). After the base model and after every task, every task is scored. The pieces
the loop calls each have one owner: the replay driver (batch composition, replay decisions,
compute ledger, progress), `optim` (AdamW, LR schedule), `scoring` (evaluation, probes,
results), `state` (checkpoints), `signals` (agreed stop requests), `train_log` (per-step
metrics).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast, set_seed
from tqdm.auto import tqdm

from mssr.data.formatting import Encoded, collate
from mssr.engine import model as model_io
from mssr.engine.anchor import WeightAnchor
from mssr.engine.data_order import local_micro_batches
from mssr.engine.distributed import make_accelerator
from mssr.engine.interference import virtual_step_losses
from mssr.engine.optim import Optimization
from mssr.engine.precision import model_config_for_training
from mssr.engine.scoring import Scoring
from mssr.engine.signals import StopRequests
from mssr.engine.state import RunCheckpoints
from mssr.engine.tasks import encode_answer, examples_of, lookup, prepare_tasks
from mssr.engine.train_log import TrainLog
from mssr.errors import ConfigError, TrainingError
from mssr.losses import per_example_mean, token_losses
from mssr.replay.driver import ReplayDriver, StepPlan, TaskAnswers
from mssr.replay.progress import Progress
from mssr.run_config import RunConfig


class ContinualRun:
    """A continual fine-tuning run of one strategy and seed in one run directory."""

    def __init__(self, config: RunConfig, run_dir: Path, accelerator: Accelerator | None = None,
                 show_progress: bool = True):
        self.config = config
        self.run_dir = Path(run_dir)
        # an accelerator passed in comes from make_accelerator, which checked it
        self.accelerator = accelerator or make_accelerator(config.train, config.replay,
                                                           self.run_dir)
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
        model_config = model_config_for_training(config.model, config.lora, config.train)
        set_seed(config.seed)
        self.tokenizer = model_io.load_tokenizer(config.model)
        self.tasks = prepare_tasks(config, self.tokenizer, self.run_dir / "data")
        self.replay = ReplayDriver(config.replay, config.replay_budget,
                                   [task.ids for task in self.tasks], config.train.steps_per_task,
                                   config.train.batch_size, config.seed, joint=config.joint)
        self.task_names = ["joint"] if config.joint else [task.name for task in self.tasks]
        self.anchor = WeightAnchor(enabled=self.replay.spec.anchors)
        accelerator.register_for_checkpointing(self.anchor)
        model = model_io.load_model(model_config, config.lora, accelerator.device)
        self.model = accelerator.prepare_model(model)
        self.scoring = Scoring(config, self.tasks, self.tokenizer, accelerator)
        self.optim = Optimization(accelerator, model_io.trainable_parameters(self.model),
                                  config.train, self.replay.steps_per_task,
                                  len(self.replay.tasks))
        self.replaced: dict[int, Encoded] = {}  # replay.targets: self: accepted answers
        checkpoint = self.checkpoints.latest() if resume else None
        if checkpoint is not None:  # the optimizer and schedule too: registered above
            progress = self.checkpoints.load_progress(checkpoint)
            self.replay.load(progress, self.checkpoints.load(checkpoint, self.model))
            self.encode_targets()
        else:
            ledger = self.replay.progress.ledger
            ledger.skipped_lines = sum(t.data.skipped_lines for t in self.tasks)
            ledger.truncated_examples = sum(e.truncated for t in self.tasks for e in t.encoded)

    @property
    def progress(self) -> Progress:
        return self.replay.progress

    # ---------------------------------------------------------------- the loop
    def run(self) -> dict[str, Any]:
        """Train every task, evaluating and checkpointing after each; return the results."""
        progress, replay = self.progress, self.replay
        replay.start_clock()
        self.log.open(next_step=progress.global_step)
        with self.stop.installed(), contextlib.closing(self.log):
            if progress.base_scores is None:
                progress.base_scores = self.evaluate(upto=None)
                self.checkpoint("base")
            while not replay.finished:
                self.train_task()
                self.end_task()
                self.checkpoint("task")
        return self.scoring.results(progress, replay.record())

    def train_task(self) -> None:
        """The steps of one task, with mid-task checkpoints and agreed stop requests."""
        progress, replay, every = self.progress, self.replay, self.config.train.checkpoint_every
        bar = tqdm(total=replay.steps_per_task, initial=progress.task_step,
                   disable=not self.show_progress, dynamic_ncols=True, leave=False,
                   desc=f"task {progress.task + 1}/{len(self.task_names)} "
                        f"{self.task_names[progress.task]}")
        while not replay.task_done:
            self.train_step(bar)
            if self.stop.agreed():
                self.checkpoint("interrupted")
                raise KeyboardInterrupt
            if every and progress.task_step % every == 0 and not replay.task_done:
                self.checkpoint("step")
        bar.close()

    def end_task(self) -> None:
        seen = None if self.config.joint or self.config.eval.tasks == "all" else (
            self.progress.task)
        self.replay.end_task(self.evaluate(upto=seen), answer=self.answer_buffered)
        self.encode_targets()

    def answer_buffered(self, ids: np.ndarray) -> TaskAnswers:
        """`replay.targets: self`: the current model's greedy answers to the finished task's
        buffered prompts, each judged by the task's scorer."""
        task = self.tasks[self.progress.task]
        answers = self.scoring.answer(self.model, examples_of(self.tasks, ids), task.data.scorer)
        return TaskAnswers(texts=answers.texts, accepted=answers.accepted, tokens=answers.tokens)

    def encode_targets(self) -> None:
        """Encode each accepted answer the driver holds as its example's training view: from
        then on, replaying that id trains on the model's own answer."""
        for example_id, answer in self.replay.targets().items():
            if example_id not in self.replaced:
                self.replaced[example_id] = encode_answer(self.tasks, example_id, answer,
                                                          self.tokenizer,
                                                          self.config.model.max_length)

    def train_step(self, bar: tqdm) -> None:
        """One optimizer step: the driver plans the batch, one forward pass, backward, step,
        the driver takes the losses back."""
        replay, step = self.replay, self.progress.global_step
        events = []
        if replay.begin_step():
            events.append("task_start")
            self.optim.start_task()
            self.anchor.start_task(model_io.trainable_parameters(self.model))
        if self.probe_if_due():
            events.append("probe")
        plan = replay.plan_step()
        if plan.candidates is not None:  # MIR: measure the candidates, the driver picks
            plan = self.choose_replay(plan)
        examples = lookup(self.tasks, plan.ids, self.replaced)
        ids, losses = self.forward_backward(plan, examples)
        outcome = None
        if np.isfinite(losses).all():
            outcome = self.optim.step(measure_update=replay.needs_update_norm)
            if not outcome.stepped:
                events.append("overflow_skipped")
        else:
            events.append("nonfinite_skipped")
            self.optim.skip()
        if plan.replay_event:
            events.append("replay")
        task_loss = replay.finish_step(plan, [len(e.input_ids) for e in examples], ids, losses,
                                       update_norm=outcome and outcome.update_norm,
                                       stepped=bool(outcome and outcome.stepped))
        self.stop_if_diverged()
        self.log.write({"step": step, "task": self.progress.task, "loss": float(losses.mean()),
                        "task_loss": task_loss, "lr": outcome and outcome.lr,
                        "grad_norm": outcome and outcome.grad_norm, "replayed": plan.replayed,
                        "events": events})
        bar.set_postfix(loss=f"{task_loss:.3f}", replay=f"{plan.replayed / len(ids):.0%}")
        bar.update(1)

    def forward_backward(self, plan: StepPlan, examples: list[Encoded]
                         ) -> tuple[np.ndarray, np.ndarray]:
        """This process's share of the batch, in micro-batches; the loss is normalised by the
        response tokens of the whole global batch, so any split gives the same gradient.
        Returns every process's (ids, per-example losses), gathered."""
        accelerator, train = self.accelerator, self.config.train
        rank, world = accelerator.process_index, accelerator.num_processes
        response_tokens = sum(e.response_tokens for e in examples)
        micro_batches = local_micro_batches(len(examples), rank, world, train.grad_accum)
        self.model.train()
        losses = []
        for index, micro in enumerate(micro_batches):
            tensors = collate([examples[i] for i in micro], self.tokenizer.pad_token_id)
            tensors = {k: v.to(accelerator.device) for k, v in tensors.items()}
            last = index == len(micro_batches) - 1
            with contextlib.nullcontext() if last else accelerator.no_sync(self.model):
                logits = self.model(input_ids=tensors["input_ids"],
                                    attention_mask=tensors["attention_mask"]).logits
                token_loss, mask = token_losses(logits, tensors["labels"])
                loss = token_loss.sum() * world / max(response_tokens, 1)
                if last:  # once per optimizer step: FOREVER's pull to the previous task
                    loss = loss + self.anchor.penalty(model_io.trainable_parameters(self.model),
                                                      self.replay.anchor_weight())
                accelerator.backward(loss)
            losses.append(per_example_mean(token_loss.detach(), mask))
        local_ids = torch.as_tensor(plan.ids[np.concatenate(micro_batches)],
                                    device=accelerator.device)
        return (accelerator.gather(local_ids).cpu().numpy(),
                accelerator.gather(torch.cat(losses)).cpu().numpy())

    def choose_replay(self, plan: StepPlan) -> StepPlan:
        """MIR's pick: every process measures each candidate's loss before and after a virtual
        SGD step on the plan's current-task examples (engine/interference.py), process 0's
        numbers are shared so that all pick alike, and the driver fills the replay slots with
        the largest rises. The measurement's tokens go into the ledger."""
        accelerator, train = self.accelerator, self.config.train
        size = train.batch_size // (accelerator.num_processes * train.grad_accum)
        current = lookup(self.tasks, plan.ids, self.replaced)
        candidates = lookup(self.tasks, plan.candidates, self.replaced)

        def batches(examples: list[Encoded]) -> list[dict[str, torch.Tensor]]:
            return [{k: v.to(accelerator.device) for k, v in
                     collate(examples[i:i + size], self.tokenizer.pad_token_id).items()}
                    for i in range(0, len(examples), size)]

        before, after = virtual_step_losses(
            accelerator.unwrap_model(self.model), model_io.trainable_parameters(self.model),
            self.optim.lr, batches(current), batches(candidates), accelerator.autocast)
        before, after = broadcast(torch.stack([before, after])).cpu().numpy()
        return self.replay.choose(plan, before, after,
                                  train_tokens=sum(len(e.input_ids) for e in current),
                                  eval_tokens=2 * sum(len(e.input_ids) for e in candidates))

    def stop_if_diverged(self) -> None:
        """Too many non-finite losses in a row: checkpoint the last good state and stop."""
        progress = self.progress
        if progress.nonfinite_streak >= self.config.train.max_nonfinite_steps:
            self.checkpoint("nonfinite")
            raise TrainingError(
                f"{progress.nonfinite_streak} non-finite losses in a row at step "
                f"{progress.global_step}: lower train.lr or check the data; the last good state "
                f"is checkpointed in {self.checkpoints.root}")

    def probe_if_due(self) -> bool:
        """The schedule's probe of buffered examples (the accuracy baseline's, the drift
        law's), through the training model; the driver takes each one's score and the cost."""
        replay = self.replay
        probe_ids = replay.probe_ids()
        if probe_ids is None:
            return False
        examples = lookup(self.tasks, probe_ids, self.replaced)
        scores, tokens = self.scoring.probe(self.model, examples, replay.probe_answer_tokens)
        replay.report_probe(probe_ids, scores, tokens)
        return True

    # ---------------------------------------------------------------- evaluation, checkpoints
    def evaluate(self, upto: int | None) -> list[float | None]:
        """Score every task, or those up to index `upto`; every process gets the scores."""
        started = time.perf_counter()
        scores = self.scoring.evaluate(self.model, upto)
        self.progress.ledger.eval_seconds += time.perf_counter() - started
        return scores

    def checkpoint(self, reason: str) -> None:
        """Everything needed to continue exactly (see engine/state.py)."""
        progress = self.progress
        self.replay.note_wall_time()
        name = f"step-{progress.global_step:08d}-task-{progress.task:03d}-{reason}"
        self.checkpoints.save(name, self.model, progress, self.replay.strategy.state_dict())
