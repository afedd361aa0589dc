"""`replay.targets: self` in the replay driver: at a task end the answers the scorer accepts
become the buffered ids' targets, rejected ones keep the stored target or leave the buffer, and
the answering's tokens go to the ledger and results.json."""

from __future__ import annotations

import numpy as np
import pytest

from mssr.errors import ConfigError, MSSRError
from mssr.replay.config import ReplayConfig
from mssr.replay.driver import ReplayDriver, TaskAnswers
from mssr.simulation import simulate_strategy

STEPS, BATCH, TASKS, PER_TASK = 4, 4, 3, 6
STRIDE = 1_000_000_000


def drive(replay: ReplayConfig, answer=None) -> ReplayDriver:
    """A driver over three 20-example tasks, fed constant losses, `answer` at every task end."""
    driver = ReplayDriver(replay, None, [task * STRIDE + np.arange(20) for task in range(TASKS)],
                          STEPS, BATCH, seed=0)
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        driver.finish_step(plan, [5] * len(plan.ids), plan.ids, np.full(len(plan.ids), 0.5))
        if driver.task_done:
            driver.end_task([0.0] * TASKS, answer=answer)
    return driver


def alternate(asked: list[np.ndarray]):
    """Answers every id `answer-<id>`, accepted for every other one; 7 tokens per answer."""
    def answer(ids: np.ndarray) -> TaskAnswers:
        asked.append(ids.copy())
        return TaskAnswers(texts=[f"answer-{i}" for i in ids],
                           accepted=[row % 2 == 0 for row in range(len(ids))],
                           tokens=7 * len(ids))
    return answer


def settings(**replay) -> ReplayConfig:
    config = ReplayConfig(**{"strategy": "uniform", **replay})
    config.buffer.per_task = PER_TASK
    return config


@pytest.mark.parametrize("rejected", ["stored", "drop"])
def test_accepted_answers_become_targets_and_rejected_ones_stay_or_leave(rejected):
    asked: list[np.ndarray] = []
    driver = drive(settings(targets="self", targets_rejected=rejected), alternate(asked))
    assert len(asked) == TASKS - 1  # the last task's buffer is never replayed: not answered
    accepted = np.concatenate([ids[0::2] for ids in asked])
    refused = np.concatenate([ids[1::2] for ids in asked])
    assert driver.targets() == {int(i): f"answer-{i}" for i in accepted}
    buffered = set(driver.strategy.buffer_ids.tolist())
    assert set(accepted.tolist()) <= buffered
    assert set(refused.tolist()).isdisjoint(buffered) == (rejected == "drop")
    assert len(buffered) == TASKS * PER_TASK - (len(refused) if rejected == "drop" else 0)
    half = PER_TASK // 2
    assert driver.record()["replay_targets"] == [
        {"task": task, "buffered": PER_TASK, "answered": PER_TASK, "accepted": half,
         "dropped": half if rejected == "drop" else 0, "tokens": 7 * PER_TASK}
        for task in range(TASKS - 1)]
    ledger = driver.record()["compute"]
    assert ledger["target_tokens"] == 7 * PER_TASK * (TASKS - 1)
    assert ledger["target_seconds"] >= 0
    assert ledger["method_eval_tokens"] == 0


def test_nothing_generated_keeps_the_stored_targets_and_drops_nothing():
    """A multiple-choice task: no text, nothing accepted, nothing dropped."""
    def choices(ids):
        return TaskAnswers(texts=[None] * len(ids), accepted=[False] * len(ids), tokens=0)
    driver = drive(settings(targets="self", targets_rejected="drop"), choices)
    assert driver.targets() == {} and len(driver.strategy.buffer_ids) == TASKS * PER_TASK
    assert [record["answered"] for record in driver.progress.replay_targets] == [0, 0]


def test_stored_targets_ask_nothing_and_change_nothing():
    asked: list[np.ndarray] = []
    stored = drive(settings(), alternate(asked))
    assert asked == [] and stored.targets() == {} and stored.record()["replay_targets"] == []
    assert stored.record()["compute"]["target_tokens"] == 0
    kept = drive(settings(targets="self"), alternate(asked))  # kept rejected ones: same buffer
    assert kept.strategy.buffer_ids.tolist() == stored.strategy.buffer_ids.tolist()
    assert drive(settings(strategy="none", targets="self"), alternate(asked)).targets() == {}
    assert len(asked) == TASKS - 1  # `none` replays nothing: its buffer is not answered


def test_self_targets_without_an_answerer_or_in_the_simulation_are_errors():
    with pytest.raises(MSSRError, match="answer the buffered prompts"):
        drive(settings(targets="self"))
    with pytest.raises(ConfigError, match="replay.targets"):
        simulate_strategy(settings(targets="self"), tasks=2, steps_per_task=4, batch_size=4,
                          examples_per_task=20, seed=0)


def test_the_target_settings_are_checked_by_name():
    from mssr.typed_config import from_mapping

    with pytest.raises(ConfigError, match="targets"):
        from_mapping(ReplayConfig, {"targets": "model"}, prefix="replay")
    with pytest.raises(ConfigError, match="targets_rejected"):
        from_mapping(ReplayConfig, {"targets_rejected": "keep"}, prefix="replay")
