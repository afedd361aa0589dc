"""Round 3's replay core: the learned-vs-forgotten ledger (`memory.risk: forgetting`) and the
adaptive schedule (`schedule.law: adaptive`)."""

from __future__ import annotations

import numpy as np
import pytest

from mssr.errors import ConfigError
from mssr.replay import ReplayConfig, build_strategy
from mssr.replay.config import BufferConfig, MemoryConfig, ScheduleConfig
from mssr.replay.driver import ReplayDriver, TaskAnswers
from mssr.replay.samplers import UniformSampler, gumbel_top_k, pooled
from mssr.replay.tracker import MemoryTracker

FORGETTING = MemoryConfig(risk="forgetting", learned_loss=1.0, unlearned_share=0.1)


def test_forgetting_evidence_is_the_rise_over_the_learned_loss():
    tracker = MemoryTracker(FORGETTING)
    tracker.insert(np.arange(4), np.array([0.2, 0.5, 2.0, 3.0]), task=0, clock=0.0)
    assert tracker.unlearned().tolist() == [False, False, True, True]
    # learned just now: no evidence of forgetting, so every example starts at S0
    assert np.allclose(tracker.column("strength"), FORGETTING.initial_strength)
    assert np.allclose(tracker.loss_rise(np.array([0, 2, 9]), np.array([1.2, 2.5, 7.0])),
                       [1.0, 0.5])  # id 9 is not buffered
    tracker.review(np.array([0, 1]), np.array([1.2, 0.5]), clock=10.0)
    assert tracker.column("last_loss")[:2].tolist() == pytest.approx([1.0, 0.0])
    # the example whose loss rose is predicted to forget faster than the one that held
    retention = tracker.retention(20.0)
    assert retention[0] < retention[1]


def test_loss_risk_keeps_the_raw_loss_and_still_knows_what_was_learned():
    tracker = MemoryTracker(MemoryConfig())
    tracker.insert(np.arange(2), np.array([0.2, 3.0]), task=0, clock=0.0)
    assert tracker.column("last_loss").tolist() == [0.2, 3.0]
    assert tracker.unlearned().tolist() == [False, True]


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5])
def test_the_never_learned_pool_gets_its_capped_share_of_the_draw(share):
    tracker = MemoryTracker(FORGETTING)
    losses = np.where(np.arange(200) < 150, 0.1, 2.0)  # 150 learned, 50 never learned
    tracker.insert(np.arange(200), losses, task=0, clock=0.0)
    log_weights = pooled(UniformSampler().log_probabilities(tracker, 0.0), tracker.unlearned(),
                         share)
    rng = np.random.default_rng(0)
    drawn = np.concatenate([gumbel_top_k(log_weights, 4, rng) for _ in range(3000)])
    assert np.mean(drawn >= 150) == pytest.approx(share, abs=0.02)


def test_a_forgetting_strategy_draws_within_the_cap():
    config = ReplayConfig(strategy="mssr-every-step", memory=FORGETTING,
                          buffer=BufferConfig(per_task=40))
    strategy = build_strategy(config, seed=0)
    strategy.start_task(0, 0, np.arange(40))
    strategy.observe(0, np.arange(40), np.where(np.arange(40) < 30, 0.1, 3.0), task_loss=0.5)
    strategy.end_task(0)
    drawn = np.concatenate([strategy.sample_ids(4) for _ in range(500)])
    assert np.mean(drawn >= 30) == pytest.approx(0.1, abs=0.03)


def run_driver(config: ReplayConfig, budget: int | None, loss_of_replay) -> ReplayDriver:
    """Three tasks of 50 steps, batch 8; replayed examples show `loss_of_replay(step)`."""
    tasks = [task * 1000 + np.arange(60) for task in range(3)]
    driver = ReplayDriver(config, budget, tasks, steps_per_task=50, batch_size=8, seed=0)
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        step = driver.progress.global_step
        losses = np.full(len(plan.ids), 0.2)
        losses[plan.current_count:] = loss_of_replay(step % 50)
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, losses)
        if driver.task_done:
            driver.end_task([0.0])
    return driver


ADAPTIVE = ReplayConfig(strategy="mssr", schedule=ScheduleConfig(law="adaptive"),
                        buffer=BufferConfig(per_task=20))


@pytest.mark.parametrize("budget", [7, 30, 120])
def test_the_adaptive_law_spends_exactly_the_budget_of_every_task(budget):
    driver = run_driver(ADAPTIVE, budget, lambda offset: 1.0)
    per_task = np.bincount([entry["task"] for entry in driver.progress.replay_timeline],
                           weights=[entry["replayed"] for entry in driver.progress.replay_timeline])
    assert per_task[1:].tolist() == [budget, budget]
    assert driver.budget == {"mode": str(budget), "per_task": budget}


def test_the_adaptive_law_moves_replay_to_where_replayed_examples_show_forgetting():
    def early_forgetting(offset: int) -> float:  # the format breaks in the first 15 steps
        return 3.0 if offset < 15 else 0.3

    def timeline(driver: ReplayDriver) -> np.ndarray:
        counts = np.zeros(150)
        for entry in driver.progress.replay_timeline:
            counts[entry["step"]] = entry["replayed"]
        return counts

    moved = timeline(run_driver(ADAPTIVE, 60, early_forgetting))
    even = timeline(run_driver(ADAPTIVE, 60, lambda offset: 1.0))
    assert moved[50:150].sum() == even[50:150].sum() == 120  # the same spend per task
    # the second replaying task knows the run's usual forgetting: its early steps get more
    assert moved[100:120].sum() > even[100:120].sum() + 5


def test_the_driver_records_how_many_buffered_examples_were_learned():
    config = ReplayConfig(strategy="uniform", buffer=BufferConfig(per_task=20))
    driver = run_driver(config, None, lambda offset: 0.2)
    assert driver.record()["buffer_learned"] == [
        {"task": task, "buffered": 20, "learned": 20} for task in range(3)]


def test_an_example_answered_wrong_at_its_task_end_was_never_learned():
    tracker = MemoryTracker(FORGETTING)
    tracker.insert(np.arange(4), np.array([0.2, 0.2, 0.2, 3.0]), task=0, clock=0.0)
    tracker.note_answers(np.array([0, 1, 9]), np.array([True, False, False]))  # 9: not buffered
    # low loss does not make a wrong answer learned; an unscored example keeps its loss verdict
    assert tracker.unlearned().tolist() == [False, True, False, True]
    state = tracker.state_dict()
    restored = MemoryTracker(FORGETTING)
    restored.load_state_dict(state)  # a checkpoint carries the answers
    assert restored.unlearned().tolist() == [False, True, False, True]
    del state["answered"]  # a checkpoint from before the column: nothing was scored
    tracker.load_state_dict(state)
    assert tracker.unlearned().tolist() == [False, False, False, True]


@pytest.mark.parametrize("risk", ["forgetting", "loss"])
def test_a_right_to_wrong_event_drops_the_strength_to_the_floor(risk):
    memory = MemoryConfig(risk=risk)
    tracker = MemoryTracker(memory)
    tracker.insert(np.arange(4), np.full(4, 0.2), task=0, clock=0.0)
    tracker.note_answers(np.arange(3), np.array([True, True, False]))
    before = tracker.column("strength").copy()
    # id 0 holds, id 1 is now wrong (an event), id 2 was never right, id 3 was never scored
    assert tracker.right_to_wrong(np.arange(4), np.array([True, False, False, False])) == 1
    expected = before.copy()
    if risk == "forgetting":  # only the ledger reads answers; `loss` keeps the paper's law
        expected[1] = memory.min_strength
    assert tracker.column("strength").tolist() == expected.tolist()


def test_answers_and_probes_reach_the_ledger_through_the_driver():
    """`targets: self` scores the buffered examples at each task end: the wrong ones count as
    never learned in `buffer_learned`; a later probe that finds a right one wrong is an event."""
    config = ReplayConfig(strategy="mssr-every-step", memory=FORGETTING, targets="self",
                          buffer=BufferConfig(per_task=20))
    tasks = [task * 1000 + np.arange(60) for task in range(3)]
    driver = ReplayDriver(config, None, tasks, steps_per_task=10, batch_size=8, seed=0)

    def answer(ids):  # ids below 20 of each task answered right
        return TaskAnswers(texts=["a"] * len(ids), accepted=(ids % 1000 < 20).tolist(),
                           tokens=len(ids))
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, np.full(len(plan.ids), 0.2))
        if driver.task_done:
            if driver.progress.task == 1:
                buffered = driver.strategy.buffer_ids
                driver.report_probe(buffered, np.zeros(len(buffered)), tokens=5)
            driver.end_task([0.0], answer=answer)
    first = driver.strategy.buffer_ids[:20]
    right = int((first % 1000 < 20).sum())
    learned = [entry["learned"] for entry in driver.record()["buffer_learned"]]
    assert learned[0] == right and learned[2] == 20  # the last task's buffer is not answered
    assert driver.record()["right_to_wrong"] == right


def test_bad_values_name_the_field():
    with pytest.raises(ConfigError, match="'risk'"):
        MemoryConfig(risk="hunch")
    with pytest.raises(ConfigError, match="'unlearned_share'"):
        MemoryConfig(unlearned_share=1.5)
    with pytest.raises(ConfigError, match="'adaptive_range'"):
        ScheduleConfig(adaptive_range=[2.0, 3.0])
