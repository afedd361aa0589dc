"""The replay protocol of a continual run, step by step, for any trainer: the engine's recipe,
the Trainer/TRL integrations and `mssr simulate` all drive it (numpy only).

Per optimizer step the trainer calls

    driver.begin_step()            # True at a task's first step (the task starts here)
    driver.probe_ids()             # a probe of buffered examples, if due -> report_probe
    plan = driver.plan_step()      # the step's global batch: current-task ids, then replayed
    if plan.candidates is not None:  # MIR: measure the candidates' loss rise, the driver picks
        plan = driver.choose(plan, loss_before, loss_after, train_tokens, eval_tokens)
    ... forward, backward, optimizer step on plan.ids ...
    driver.finish_step(plan, token_counts, ids, losses, update_norm, stepped)

and `end_task(scores, answer)` after a task's last step (`task_done`); with `replay.targets:
self`, `answer` is the trainer's answering of the task's buffered prompts (`TaskAnswers`). The
driver owns the strategy,
the current task's data order, the compute ledger, the replay timeline and the accuracy rows
(`progress`); it knows nothing of models, tensors or files. Same seed, same losses: same ids,
whichever trainer drives it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mssr.errors import MSSRError
from mssr.replay.budget import resolve
from mssr.replay.config import ReplayConfig
from mssr.replay.progress import Progress
from mssr.replay.registry import build_strategy, spec_for
from mssr.replay.samplers import most_interfered


@dataclasses.dataclass
class StepPlan:
    """One step's global batch: the current task's `current_count` ids first, then the
    replayed ones; `replay_event` when a replay event started at this step. A strategy that
    picks by interference (MIR) leaves `pending` replay slots open and names the
    `candidates` to measure for them (`ReplayDriver.choose` fills the slots)."""

    ids: np.ndarray
    current_count: int
    replay_event: bool
    candidates: np.ndarray | None = None
    pending: int = 0

    @property
    def replayed(self) -> int:
        return len(self.ids) - self.current_count


@dataclasses.dataclass
class TaskAnswers:
    """The model's answers to a finished task's buffered prompts, in the order of the ids it
    was asked about: `texts[i]` (None where nothing was generated: a multiple-choice task keeps
    its stored choice), `accepted[i]` whether the task's scorer accepts it, and the `tokens`
    the answering processed (prompts + generated)."""

    texts: list[str | None]
    accepted: Sequence[bool]
    tokens: int


Answerer = Callable[[np.ndarray], TaskAnswers]


class ReplayDriver:
    """The replay decisions and the record of one run over `tasks` (each task's training ids,
    or one joint task of all of them), `steps_per_task` optimizer steps each.

    `replay` and `budget` are the run's settings; the driver resolves them (`config` is what
    runs, `budget` the record for results.json)."""

    def __init__(self, replay: ReplayConfig, budget: int | str | None,
                 tasks: Sequence[np.ndarray], steps_per_task: int, batch_size: int, seed: int,
                 joint: bool = False):
        per_task_steps = steps_per_task * (len(tasks) if joint else 1)
        self.config, self.budget = resolve(replay, budget, steps_per_task, batch_size, joint)
        self.spec = spec_for(self.config.strategy)
        self.strategy = build_strategy(self.config, seed=seed)
        self.tasks = ([np.concatenate(tasks)] if joint else
                      [np.asarray(ids, np.int64) for ids in tasks])
        self.steps_per_task, self.batch_size, self.seed = per_task_steps, batch_size, seed
        self.progress = Progress()
        self._wall_start = time.perf_counter()
        self._step_start = 0.0

    # ---------------------------------------------------------------- where the run stands
    @property
    def total_steps(self) -> int:
        return self.steps_per_task * len(self.tasks)

    @property
    def finished(self) -> bool:
        return self.progress.task >= len(self.tasks)

    @property
    def task_done(self) -> bool:
        return self.progress.task_step == self.steps_per_task

    @property
    def needs_update_norm(self) -> bool:
        return self.strategy.needs_update_norm

    def anchor_weight(self) -> float:
        """Weight of the pull to the previous task's weights in this step's loss."""
        return self.strategy.anchor_weight()

    # ---------------------------------------------------------------- one step
    def begin_step(self) -> bool:
        """Open a step; True when it is a task's first (the task starts here)."""
        self._step_start = time.perf_counter()
        progress = self.progress
        if progress.task_step:
            return False
        progress.cursor = 0
        progress.task_boundaries.append(progress.global_step)
        self.strategy.start_task(progress.task, progress.global_step,
                                 self.tasks[progress.task], self.steps_per_task)
        return True

    def probe_ids(self) -> np.ndarray | None:
        """Buffered ids the schedule wants scored before this step's plan (the accuracy
        baseline's probe, the drift law's), scored as `probe_answer_tokens` says."""
        return self.strategy.probe_ids(self.progress.global_step)

    @property
    def probe_answer_tokens(self) -> int:
        """How the trainer scores each probed example: 0, 1.0 when greedy next-token
        prediction gets every response token right, else 0.0 (the accuracy baseline); n > 0,
        the share of the first n answer tokens, greedily decoded from the prompt, that match
        the target's (the drift law)."""
        return self.strategy.scheduler.probe_answer_tokens

    def report_probe(self, ids: np.ndarray, scores: np.ndarray, tokens: int) -> None:
        """The probe of `ids`: each one's score, in `ids` order; its `tokens` (those the
        probe's forward passes processed) are the method's own evaluation cost."""
        self.strategy.report_probe(self.progress.global_step, ids, scores, tokens)
        self.progress.ledger.method_eval_tokens += int(tokens)

    def plan_step(self) -> StepPlan:
        """The step's global batch: the current task's next examples from its stream, then
        the replay ids the strategy plans (in place of current examples, or on top of them in
        `replay.mode: append`)."""
        progress, strategy = self.progress, self.strategy
        events = strategy.stats["replay_events"]
        drawn, count = strategy.draw(progress.global_step, self.batch_size)
        current_count = strategy.current_count(self.batch_size, count)
        task_ids = self.tasks[progress.task]
        rows = stream_indices(self.seed, progress.task, len(task_ids), progress.cursor,
                              current_count)
        started = strategy.stats["replay_events"] > events
        if len(drawn) > count:  # candidates: the trainer measures them, `choose` picks
            return StepPlan(task_ids[rows].astype(np.int64), current_count, started,
                            candidates=drawn, pending=count)
        ids = np.concatenate([task_ids[rows], drawn]).astype(np.int64)
        return StepPlan(ids, current_count, started)

    def choose(self, plan: StepPlan, loss_before: np.ndarray, loss_after: np.ndarray,
               train_tokens: int, eval_tokens: int) -> StepPlan:
        """The plan with its pending slots filled by the candidates whose loss rose most
        (`most_interfered`): `loss_before`/`loss_after` are each candidate's mean loss at the
        current weights and after a virtual step on the plan's current-task examples. The
        measurement's cost goes into the ledger: `train_tokens` went through a forward and
        backward pass (the virtual step), `eval_tokens` through forward passes only."""
        if plan.candidates is None:
            raise ValueError("this plan has no candidates to choose from")
        chosen = most_interfered(plan.candidates, loss_before, loss_after, plan.pending)
        ledger = self.progress.ledger
        ledger.method_train_tokens += int(train_tokens)
        ledger.method_eval_tokens += int(eval_tokens)
        return StepPlan(np.concatenate([plan.ids, chosen]), plan.current_count,
                        plan.replay_event)

    def finish_step(self, plan: StepPlan, token_counts: Sequence[int], ids: np.ndarray,
                    losses: np.ndarray, update_norm: float | None = None,
                    stepped: bool = True) -> float:
        """After the optimizer step (or its skip): `token_counts` are the planned batch's
        examples' tokens in plan order; `ids`/`losses` every trained example of the global
        batch (gathered across processes). A step with a non-finite loss feeds the strategy
        nothing. Returns the current task's mean loss in the batch."""
        if plan.pending:
            raise ValueError(f"{plan.pending} replay slots are open: measure the plan's "
                             "candidates and `choose` before training on it")
        progress, ledger = self.progress, self.progress.ledger
        step = progress.global_step
        task_loss = float(losses[np.isin(ids, self.tasks[progress.task])].mean())
        if np.isfinite(losses).all():
            progress.nonfinite_streak = 0
            self.strategy.observe(step, ids, losses, task_loss=task_loss,
                                  update_norm=update_norm)
            ledger.optimizer_steps += int(stepped)
        else:
            progress.nonfinite_streak += 1
            ledger.skipped_nonfinite_steps += 1
        ledger.count_batch(token_counts[:plan.current_count], token_counts[plan.current_count:])
        ledger.replay_events = self.strategy.stats["replay_events"]
        ledger.train_seconds += time.perf_counter() - self._step_start
        if plan.replayed:
            progress.replay_timeline.append({"step": step, "task": progress.task,
                                             "replayed": plan.replayed})
        progress.cursor += plan.current_count
        progress.global_step += 1
        progress.task_step += 1
        self.note_wall_time()
        return task_loss

    @property
    def answers_targets(self) -> bool:
        """Whether task ends ask the model for replay targets (`replay.targets: self`)."""
        return self.config.targets == "self" and self.spec.replays

    def end_task(self, scores: list[float | None], answer: Answerer | None = None) -> None:
        """Close the current task: the buffer takes its share; with `replay.targets: self`,
        `answer` answers those ids' prompts with the current model (`take_answers`); then how
        many of the task's buffered examples were learned (by their loss, and by their answer
        where it was scored), the memory model's snapshot (strategies whose decisions it
        drives) and the task's accuracy row `scores` are recorded."""
        progress, tracker = self.progress, self.strategy.tracker
        kept = self.strategy.end_task(progress.task)
        if self.answers_targets and progress.task + 1 < len(self.tasks):
            if answer is None:
                raise MSSRError("replay.targets: self needs the trainer to answer the buffered "
                                "prompts at each task end (end_task's `answer`)")
            started = time.perf_counter()
            answers = answer(kept)
            self.take_answers(kept, answers, time.perf_counter() - started)
        rows = tracker.positions(kept)
        rows = rows[rows >= 0]  # `targets_rejected: drop` may have taken some out
        progress.buffer_learned.append({"task": progress.task, "buffered": len(rows),
                                        "learned": int(len(rows) - tracker.unlearned(rows).sum())})
        if self.spec.memory:
            snapshot = self.strategy.memory_snapshot()
            progress.memory_snapshots.append({"task": progress.task,
                                              "retention": snapshot["retention"].tolist(),
                                              "strength": snapshot["strength"].tolist()})
        progress.acc_rows.append(scores)
        progress.task += 1
        progress.task_step = 0
        self.note_wall_time()

    def take_answers(self, ids: np.ndarray, answers: TaskAnswers, seconds: float) -> None:
        """The finished task's answers to its buffered `ids`: accepted answers become those
        ids' replay targets (`targets`), rejected ones keep the stored target or leave the
        buffer (`replay.targets_rejected: drop`); the memory ledger notes which were answered
        right (those answered wrong were never learned); the answering's tokens and seconds go
        to the ledger, the task's counts to `replay_targets`. (The buffer of the last task is never
        replayed, so it is not answered.)"""
        progress, ledger = self.progress, self.progress.ledger
        accepted = np.asarray(answers.accepted, bool)
        answered = np.array([text is not None for text in answers.texts], bool)
        if not (len(accepted) == len(answered) == len(ids)):
            raise MSSRError(f"{len(answers.texts)} answers for {len(ids)} buffered ids")
        accepted &= answered
        self.strategy.tracker.note_answers(ids[answered], accepted[answered])
        progress.self_targets += [[int(i), answers.texts[row]]
                                  for row, i in zip(np.flatnonzero(accepted), ids[accepted],
                                                    strict=True)]
        dropped = 0
        if self.config.targets_rejected == "drop":
            dropped = self.strategy.remove(ids[answered & ~accepted])
        ledger.target_tokens += int(answers.tokens)
        ledger.target_seconds += seconds
        progress.replay_targets.append({
            "task": progress.task, "buffered": len(ids), "answered": int(answered.sum()),
            "accepted": int(accepted.sum()), "dropped": dropped, "tokens": int(answers.tokens)})

    def targets(self) -> dict[int, str]:
        """Each buffered id whose replay target is the model's accepted answer: that answer."""
        return {int(i): text for i, text in self.progress.self_targets}

    # ---------------------------------------------------------------- time and state
    def start_clock(self) -> None:
        """Wall time counts from here, on top of what a resumed run had already spent."""
        self._wall_start = time.perf_counter() - self.progress.ledger.wall_seconds

    def note_wall_time(self) -> None:
        self.progress.ledger.wall_seconds = time.perf_counter() - self._wall_start

    def record(self) -> dict[str, Any]:
        """What results.json takes from the driver."""
        progress = self.progress
        return {"compute": progress.ledger.as_dict(), "replay_budget": self.budget,
                "replay_timeline": progress.replay_timeline,
                "task_boundaries": progress.task_boundaries,
                "memory_snapshots": progress.memory_snapshots,
                "buffer_learned": progress.buffer_learned,
                "right_to_wrong": self.strategy.stats["right_to_wrong"],
                "replay_targets": progress.replay_targets,
                "calibration": self.strategy.calibration_record(),
                "resolved_replay": dataclasses.asdict(self.config)}

    def load(self, progress: Progress, strategy_state: dict[str, Any]) -> None:
        """Continue from a checkpoint's progress and strategy state."""
        self.progress = progress
        self.strategy.load_state_dict(strategy_state)


def stream_indices(seed: int, task_index: int, num_examples: int, start: int,
                   count: int) -> np.ndarray:
    """Indices at positions [start, start + count) of the task's endless stream of epochs, each
    epoch a fresh permutation seeded by (seed, task, epoch): a pure function, so a resumed run
    continues the exact same stream (no sampler state to rebuild)."""
    positions = np.arange(start, start + count)
    epochs = positions // num_examples
    result = np.empty(count, dtype=np.int64)
    for epoch in np.unique(epochs):
        permutation = np.random.default_rng([seed, task_index, int(epoch)]).permutation(
            num_examples)
        chosen = epochs == epoch
        result[chosen] = permutation[positions[chosen] % num_examples]
    return result
