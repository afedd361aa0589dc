"""MSSR replay in a `transformers.Trainer`.

`ReplayMixin` overrides a handful of the host trainer's hooks and leaves the rest alone:
`get_train_dataloader` (each step's batch is composed when the trainer asks for it, after the
previous step's losses reached the strategy; MIR's virtual step runs there, before the batch is
composed), `compute_loss` (per-example losses read from the
trainer's own forward pass, prompt tokens masked by the batch's labels; FOREVER's anchor
penalty added), `create_scheduler` (the schedule restarts at every task), `_save_checkpoint`
and `train` (the replay state travels in the trainer's checkpoints). Scoring, probes, batch
composition and results are the engine's own (src/mssr/engine). `ReplayTrainer` is the mixin
on `Trainer`; TRL's `SFTTrainer` gets it in `mssr.integrations.trl`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate.utils import DistributedType, broadcast
from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

from mssr.data.formatting import TARGET_DELIMITER, stop_token_ids
from mssr.engine.data_order import local_micro_batches
from mssr.engine.interference import virtual_step_losses
from mssr.engine.model import trainable_parameters
from mssr.engine.optim import update_norm
from mssr.engine.scoring import (
    answer_rows,
    answer_spans,
    evaluate_tasks,
    probe_accuracy,
    probe_drift,
)
from mssr.engine.tasks import ID_STRIDE, check_self_targets
from mssr.errors import ConfigError, MSSRError
from mssr.integrations.continual import (
    ContinualConfig,
    ContinualTask,
    TrainerReplay,
    check_tasks,
)
from mssr.losses import per_example_mean, token_losses
from mssr.replay.driver import StepPlan, TaskAnswers

ID_KEY = "mssr_ids"  # the example ids a batch carries from the dataloader to compute_loss
# replay.targets: self rebuilds a replayed row around the model's answer: these per-token keys
# by rule (`ReplayMixin._answer_row`); a row with any other key is refused
ANSWER_ROW_KEYS = frozenset({"input_ids", "labels", "attention_mask", "completion_mask",
                             "assistant_masks"})


class ReplayMixin:
    """Replay for a `Trainer` subclass: put it first in the bases (see `ReplayTrainer`).

    `tasks` replace `train_dataset`; `continual` holds what `mssr run` configures beyond the
    trainer's arguments. `args.max_steps` becomes steps_per_task x tasks and
    `args.ignore_data_skip` True (the data order resumes from the replay state)."""

    def __init__(self, *args: Any, tasks: list[ContinualTask], continual: ContinualConfig,
                 **kwargs: Any):
        if "train_dataset" in kwargs:
            raise ConfigError("train_dataset", "give the task sequence as tasks=[ContinualTask]")
        if kwargs.get("processing_class") is None:
            raise ConfigError("processing_class", "pass the tokenizer: it scores the tasks")
        tasks = check_tasks(tasks)  # eval data as mssr Examples, scorers resolved
        continual.validate()
        if continual.replay.targets == "self":
            for task in tasks:
                check_self_targets(task.name, task.scorer, "continual.replay.targets")
        super().__init__(*args, train_dataset=tasks[0].train, **kwargs)
        sharded = self.accelerator.distributed_type
        if sharded in (DistributedType.FSDP, DistributedType.DEEPSPEED):
            raise ConfigError("args.fsdp / args.deepspeed", f"{sharded.value} is not supported "
                              "by the replay trainers (update norms and FOREVER's anchor need "
                              "unsharded weights); launch with DDP or on one process")
        self.tasks = tasks
        self.task_rows = [self._prepare_task_rows(index, task) for index, task in enumerate(tasks)]
        self.token_counts = [np.array([len(rows[i]["input_ids"]) for i in range(len(rows))])
                             for rows in self.task_rows]
        self.replaced: dict[int, dict[str, list[int]]] = {}  # replay.targets: self's rows
        batch_size = (self.args.per_device_train_batch_size
                      * self.args.gradient_accumulation_steps * self.accelerator.num_processes)
        self.replay = TrainerReplay(continual, [len(rows) for rows in self.task_rows], batch_size,
                                   seed=self.args.seed)
        self.replay.check_reference(tasks)
        if self.replay.answers_targets:  # replay.targets: self, on a strategy that replays
            self._check_answer_rows()
        if self.args.max_steps > 0 and self.args.max_steps != self.replay.total_steps:
            raise ConfigError("args.max_steps", f"{self.args.max_steps} does not match "
                              f"{self.replay.total_steps} = steps_per_task x tasks; leave it "
                              "unset and set ContinualConfig.steps_per_task")
        self.args.max_steps = self.replay.total_steps
        self.args.ignore_data_skip = True
        self._step_plan: StepPlan | None = None
        self._step_ids: list[torch.Tensor] = []
        self._step_losses: list[torch.Tensor] = []
        self._params_before: list[torch.Tensor] | None = None
        self._update_norm: float | None = None
        self.add_callback(_ReplayCallback(self))

    def _prepare_task_rows(self, index: int, task: ContinualTask) -> Any:
        """A task's rows as the collator takes them: tokenized `input_ids` and `labels`
        (-100 on prompt tokens), unused columns dropped as the trainer drops them."""
        import datasets

        rows = task.train
        if isinstance(rows, datasets.Dataset):
            rows = self._remove_unused_columns(rows, description=f"task {task.name!r}")
        if "input_ids" not in rows[0]:
            raise ConfigError(f"tasks[{task.name}].train", "rows need tokenized input_ids "
                              "(and labels with -100 on prompt tokens)")
        return rows

    # ---------------------------------------------------------------- batches
    def get_train_dataloader(self) -> _ReplayBatches:
        return _ReplayBatches(self)

    def _step_micro_batches(self) -> list[dict[str, torch.Tensor]]:
        """This process's micro-batches of the next optimizer step, split as the engine splits
        a global batch: every `world`-th example, then `gradient_accumulation_steps` parts."""
        replay = self.replay
        if (replay.start_step(trainable_parameters(self.model)) and replay.progress.task > 0
                and replay.continual.reset_optimizer):
            self.optimizer.state.clear()  # a fresh AdamW, as the engine makes at every task
        probe_ids = replay.probe_ids()
        if probe_ids is not None:
            self._probe(probe_ids)
        self._step_plan = replay.plan_step()
        if self._step_plan.candidates is not None:  # MIR: measure the candidates, driver picks
            self._step_plan = self._choose_replay(self._step_plan)
        self._step_ids, self._step_losses = [], []
        batch_ids = self._step_plan.ids
        parts = local_micro_batches(len(batch_ids), self.accelerator.process_index,
                                    self.accelerator.num_processes,
                                    self.args.gradient_accumulation_steps)
        return [self._collate(batch_ids[part]) for part in parts]

    def _choose_replay(self, plan: StepPlan) -> StepPlan:
        """MIR's pick, as the engine's (`ContinualRun.choose_replay`): every process measures
        each candidate's loss before and after a virtual SGD step at the step's LR on the
        plan's current-task examples (engine/interference.py), in the trainer's micro-batch
        size; process 0's numbers are shared so that all pick alike; the driver fills the
        replay slots with the largest rises and counts the measurement's tokens."""
        size, device = self.args.per_device_train_batch_size, self.args.device

        def batches(ids: np.ndarray) -> list[dict[str, torch.Tensor]]:
            found = []
            for start in range(0, len(ids), size):
                batch = self._collate(ids[start:start + size])
                found.append({key: batch[key].to(device) for key in
                              ("input_ids", "attention_mask", "labels") if key in batch})
            return found

        before, after = virtual_step_losses(
            self.model, trainable_parameters(self.model), self.optimizer.param_groups[0]["lr"],
            batches(plan.ids), batches(plan.candidates), self.accelerator.autocast)
        before, after = broadcast(torch.stack([before, after])).cpu().numpy()
        return self.replay.choose(plan, before, after,
                                  train_tokens=int(self._token_counts(plan.ids).sum()),
                                  eval_tokens=2 * int(self._token_counts(plan.candidates).sum()))

    def _stored_row(self, example_id: int) -> Any:
        """The task's own row behind an id."""
        return self.task_rows[example_id // ID_STRIDE][example_id % ID_STRIDE]

    def _row(self, example_id: int) -> Any:
        """The row behind an id: its replacement (`replay.targets: self`'s accepted answer),
        else the task's own row."""
        replaced = self.replaced.get(example_id)
        return replaced if replaced is not None else self._stored_row(example_id)

    def _collate_rows(self, rows: list[Any]) -> dict[str, torch.Tensor]:
        """The collator's batch of `rows`, which must carry labels."""
        batch = dict(self.data_collator(rows))
        if "labels" not in batch:
            raise ConfigError("data_collator", "batches need labels (-100 on prompt tokens): "
                              "per-example losses are read from them")
        return batch

    def _collate(self, ids: np.ndarray) -> dict[str, torch.Tensor]:
        batch = self._collate_rows([self._row(int(i)) for i in ids])
        batch[ID_KEY] = torch.as_tensor(ids, dtype=torch.long)
        return batch

    def _token_counts(self, ids: np.ndarray) -> np.ndarray:
        return np.array([len(self.replaced[int(i)]["input_ids"]) if int(i) in self.replaced
                         else self.token_counts[int(i) // ID_STRIDE][int(i) % ID_STRIDE]
                         for i in ids], dtype=np.int64)

    # ---------------------------------------------------------------- the loss
    def compute_loss(self, model: torch.nn.Module, inputs: dict[str, Any],
                     return_outputs: bool = False, num_items_in_batch: Any = None) -> Any:
        """The host trainer's loss; its forward pass also gives each example's mean
        response-token loss, kept for the strategy. On a step's last micro-batch FOREVER's
        anchor penalty is added, as the engine adds it."""
        ids = inputs.pop(ID_KEY, None)
        if ids is None:  # evaluation or prediction batches
            return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)
        labels = inputs["labels"]
        with _first_output(model) as captured:
            result = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                          num_items_in_batch=num_items_in_batch)
        last = len(self._step_ids) == self.args.gradient_accumulation_steps - 1
        self._step_ids.append(ids)
        self._step_losses.append(per_example_losses(captured["output"], labels))
        if not last or not self.replay.anchor.enabled:
            return result
        loss, *outputs = result if return_outputs else (result,)
        loss = loss + self._anchor_penalty(num_items_in_batch)
        return (loss, *outputs) if return_outputs else loss

    def _anchor_penalty(self, num_items_in_batch: Any) -> torch.Tensor | float:
        """The anchor penalty, scaled so that it enters the step's gradient once, whole: the
        trainer divides a loss it did not normalise itself by the accumulation steps
        (Trainer.training_step)."""
        penalty = self.replay.anchor.penalty(trainable_parameters(self.model),
                                             self.replay.anchor_weight())
        scaled = self.loss_is_scaled_for_ga
        if scaled is None:
            scaled = ((self.model_accepts_loss_kwargs and num_items_in_batch is not None)
                      or self.compute_loss_func is not None)
        return penalty if scaled else penalty * self.current_gradient_accumulation_steps

    # ---------------------------------------------------------------- after the step
    def _before_optimizer_step(self) -> None:
        if self.replay.needs_update_norm:
            self._params_before = [p.detach().clone() for p in trainable_parameters(self.model)]

    def _after_optimizer_step(self) -> None:
        """The update norm the strategy asks for (FOREVER, `replay.clock.mode: update`)."""
        self._update_norm = (None if self._params_before is None else
                             update_norm(trainable_parameters(self.model), self._params_before))
        self._params_before = None

    def _finish_step(self) -> bool:
        """Gather the step's ids and losses from every process, let the strategy observe
        them; at a task's last step, score the tasks. True when a task ended."""
        if not self._step_ids:
            raise MSSRError("an optimizer step without replay batches: train() must be the "
                            "mssr trainer's own")
        ids = self.accelerator.gather(torch.cat(self._step_ids)).cpu().numpy()
        losses = self.accelerator.gather(torch.cat(self._step_losses)).cpu().numpy()
        replay = self.replay
        replay.finish_step(self._step_plan, self._token_counts(self._step_plan.ids), ids, losses,
                           self._update_norm)
        if replay.progress.global_step != self.state.global_step:
            raise MSSRError(f"replay state at step {replay.progress.global_step}, trainer at "
                            f"{self.state.global_step}: resume from a checkpoint this trainer "
                            "wrote, with the same arguments")
        if not replay.task_done:
            return False
        replay.end_task(self._score_tasks(replay.evaluated_upto()), answer=self._answer_buffered)
        self._encode_targets()
        return True

    # ---------------------------------------------------------------- replay.targets: self
    def _check_answer_rows(self) -> None:
        """Before any training: every task's rows carry only per-token keys that
        `_answer_row` can rebuild around an answer."""
        for task, rows in zip(self.tasks, self.task_rows, strict=True):
            unknown = sorted(set(rows[0]) - ANSWER_ROW_KEYS)
            if unknown:
                raise ConfigError(f"tasks[{task.name}].train", f"row key {unknown[0]!r} "
                                  "cannot be rebuilt around the model's answer for "
                                  "continual.replay.targets: self (rows may carry "
                                  f"{', '.join(sorted(ANSWER_ROW_KEYS))}); drop it, or use "
                                  "stored targets")

    def _answer_buffered(self, ids: np.ndarray) -> TaskAnswers:
        """`replay.targets: self`: the current model's greedy answers to the finished task's
        buffered rows' prompts (token space: the collated row up to its first label), each
        judged by the task's scorer against the row's response, on every process alike."""
        replay = self.replay
        size, settings = replay.continual.eval.batch_size, replay.continual.eval
        batches = (self._collate(ids[start:start + size]) for start in range(0, len(ids), size))
        answers = answer_rows(self.model, self.processing_class, batches,
                              self.tasks[replay.progress.task].scorer, settings.max_new_tokens)
        return TaskAnswers(texts=answers.texts, accepted=answers.accepted,
                           tokens=answers.tokens)

    def _encode_targets(self) -> None:
        """Each accepted answer the driver holds becomes its id's row (at a task end, and
        after a checkpoint is loaded): from then on replaying (or probing) it trains on the
        model's own answer."""
        for example_id, answer in self.replay.targets().items():
            if example_id not in self.replaced:
                self.replaced[example_id] = self._answer_row(example_id, answer)

    def _answer_row(self, example_id: int, answer: str) -> dict[str, list[int]]:
        """The stored row of `example_id` with `answer` as its response, in the row's own
        format: its prompt tokens (as the collator's labels split them), the answer's tokens
        (after the delimiter the stored response starts with, if the answer lacks it), then
        the stored response's last token if that ends an answer (EOS, end-of-turn);
        labels, attention and completion/assistant masks rebuilt to match."""
        row = self._stored_row(example_id)
        (prompt, response), = answer_spans(self._collate_rows([row]))
        tokenizer = self.processing_class
        stored = tokenizer.decode(response, skip_special_tokens=True)
        if stored[:1].isspace() and not answer[:1].isspace():  # the delimiter, as `mssr run`
            answer = TARGET_DELIMITER + answer  # encodes a response after its prompt
        answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
        if response and response[-1] in stop_token_ids(tokenizer):
            answer_ids.append(response[-1])
        rebuilt = {"input_ids": prompt + answer_ids,
                   "labels": [-100] * len(prompt) + answer_ids,
                   "attention_mask": [1] * (len(prompt) + len(answer_ids)),
                   "completion_mask": [0] * len(prompt) + [1] * len(answer_ids),
                   "assistant_masks": [0] * len(prompt) + [1] * len(answer_ids)}
        return {key: rebuilt[key] for key in row}

    # ---------------------------------------------------------------- scoring
    def _score_tasks(self, upto: int | None) -> list[float | None]:
        """Score every task (or those up to `upto`) as the engine does; every process gets
        the scores."""
        started = time.perf_counter()
        settings = self.replay.continual
        scores = evaluate_tasks(self.accelerator, self.model, self.processing_class,
                                [(task.eval, task.scorer) for task in self.tasks],
                                settings.eval, settings.max_length, upto)
        self.replay.add_eval_seconds(time.perf_counter() - started)
        return scores

    def _probe(self, probe_ids: np.ndarray) -> None:
        """The schedule's probe of buffered examples (the accuracy baseline's, the drift
        law's: engine/scoring.py), batched by the collator, on every process identically."""
        replay = self.replay
        size, answer_tokens = replay.continual.eval.batch_size, replay.probe_answer_tokens
        batches = (self._collate(probe_ids[start:start + size])
                   for start in range(0, len(probe_ids), size))
        if answer_tokens:
            scores, tokens = probe_drift(self.model, self.processing_class, batches,
                                         answer_tokens)
        else:
            scores = probe_accuracy(self.model, batches, self.model.device)
            tokens = int(self._token_counts(probe_ids).sum())
        replay.report_probe(probe_ids, scores, tokens)

    # ---------------------------------------------------------------- schedule
    def create_scheduler(self, num_training_steps: int,
                         optimizer: torch.optim.Optimizer | None = None) -> Any:
        """With `reset_optimizer`, the trainer's schedule over one task, restarted at every
        task (as the engine's fresh schedule per task)."""
        continual = self.replay.continual
        if not continual.reset_optimizer or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        scheduler = super().create_scheduler(continual.steps_per_task, optimizer)
        if not isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR):
            raise ConfigError("lr_scheduler_type", f"{type(scheduler).__name__} cannot restart "
                              "at every task; set ContinualConfig.reset_optimizer=False")
        scheduler.lr_lambdas = [_restarting(schedule, continual.steps_per_task)
                                for schedule in scheduler.lr_lambdas]
        return scheduler

    # ---------------------------------------------------------------- checkpoints
    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any) -> Any:
        """Train every task in order, scoring all tasks before the first and after each
        (results: `save_results`). `resume_from_checkpoint` (a folder, or True for the latest
        in output_dir) continues a run exactly, replay state included."""
        if resume_from_checkpoint is True:
            resume_from_checkpoint = get_last_checkpoint(self.args.output_dir)
            if resume_from_checkpoint is None:
                raise MSSRError(f"no checkpoint to resume in {self.args.output_dir}")
        if resume_from_checkpoint:
            self.replay.load_checkpoint(Path(resume_from_checkpoint))
            self._encode_targets()
        elif self.replay.progress.global_step:
            raise MSSRError("this trainer has already trained its tasks; build a new one")
        self.replay.start_clock()
        if self.replay.progress.base_scores is None:
            self.replay.progress.base_scores = self._score_tasks(None)
        return super().train(resume_from_checkpoint=resume_from_checkpoint or None, **kwargs)

    def _save_checkpoint(self, model: torch.nn.Module, trial: Any) -> None:
        """The replay state and progress go into the checkpoint folder first, so a folder with
        the trainer's state always has them (trainer_state.json stays the trainer's)."""
        if self.args.should_save:
            folder = (Path(self._get_output_dir(trial=trial))
                      / f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}")
            folder.mkdir(parents=True, exist_ok=True)
            self.replay.save(folder)
        super()._save_checkpoint(model, trial)

    # ---------------------------------------------------------------- results
    def results(self) -> dict[str, Any]:
        """results.json's content, as `mssr run` writes it."""
        args = self.args
        run_config = {
            "trainer": type(self).__name__, "seed": args.seed,
            "batch_size": self.replay.batch_size,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "processes": self.accelerator.num_processes, "learning_rate": args.learning_rate,
            "lr_scheduler_type": getattr(args.lr_scheduler_type, "value",
                                         str(args.lr_scheduler_type)),
            "warmup_steps": args.warmup_steps}
        return self.replay.results(self.tasks, run_config)

    def save_results(self, directory: str | Path | None = None) -> dict[str, Any]:
        """Write results.json, report.md and the plots (default: args.output_dir)."""
        from mssr.report import write_report, write_results

        results = self.results()
        if self.accelerator.is_main_process:
            run_dir = Path(directory or self.args.output_dir)
            write_results(run_dir, results)
            write_report(run_dir, results)
        self.accelerator.wait_for_everyone()
        return results


class ReplayTrainer(ReplayMixin, Trainer):
    """`transformers.Trainer` with MSSR replay over a task sequence:

        trainer = ReplayTrainer(model=model, args=TrainingArguments(...), tasks=tasks,
                                continual=ContinualConfig(steps_per_task=200),
                                data_collator=DataCollatorForSeq2Seq(tokenizer),
                                processing_class=tokenizer)
        trainer.train()          # every task in order, scored after each
        trainer.save_results()   # results.json + report.md, as `mssr run`
    """


class _ReplayBatches:
    """The trainer's train "dataloader": each step's micro-batches, composed only when the
    trainer asks for the step's first one. No length, so the trainer counts `max_steps`."""

    def __init__(self, trainer: ReplayMixin):
        self.trainer = trainer

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        while not self.trainer.replay.finished:
            yield from self.trainer._step_micro_batches()


class _ReplayCallback(TrainerCallback):
    """Hands the optimizer-step events to the trainer; saves a checkpoint at every task end
    (when the trainer saves at all)."""

    def __init__(self, trainer: ReplayMixin):
        self.trainer = trainer

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.trainer._before_optimizer_step()

    def on_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.trainer._after_optimizer_step()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.trainer._finish_step() and args.save_strategy != "no":
            control.should_save = True


def per_example_losses(output: Any, labels: torch.Tensor) -> torch.Tensor:
    """Each example's mean loss over its label tokens (-100 masked), from a forward pass's
    output: the logits of a plain causal LM, or the per-token log-probabilities of TRL's fused
    LM head (zero where masked). Detached: it feeds the strategy, not the gradient."""
    with torch.no_grad():
        log_probs = getattr(output, "log_probs", None)
        if log_probs is not None:
            counts = output.label_mask.sum(dim=1).clamp(min=1)
            return -log_probs.detach().float().sum(dim=1) / counts
        logits = getattr(output, "logits", None)
        if logits is None:
            raise MSSRError("the model's output has no logits (return_dict=False?): "
                            "per-example losses are read from them")
        losses, mask = token_losses(logits.detach(), labels.to(logits.device))
        return per_example_mean(losses, mask)


@contextlib.contextmanager
def _first_output(model: torch.nn.Module) -> Iterator[dict[str, Any]]:
    """The output of the first forward call of `model` inside the block."""
    captured: dict[str, Any] = {}

    def keep(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        captured.setdefault("output", output)

    handle = model.register_forward_hook(keep)
    try:
        yield captured
    finally:
        handle.remove()
    if "output" not in captured:
        raise MSSRError("compute_loss ran no forward pass of the model: per-example losses "
                        "need the trainer's own forward")


def _restarting(schedule: Any, period: int) -> Any:
    """`schedule` (step -> LR factor) restarted every `period` steps. A plain function, so the
    scheduler's state_dict stays loadable with weights_only."""
    return lambda step: schedule(step % period)
