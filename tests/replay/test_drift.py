"""The format-drift trigger (`replay.schedule.law: drift`, issue 20): its probes, the drop that
starts replay of the task that drifted (and of it alone), its budget, its cost in the ledger,
its resume, and the configs it refuses."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mssr.engine.checkpoint import load_tree, save_tree
from mssr.errors import ConfigError
from mssr.replay import build_strategy, planned_replays, with_allowance
from mssr.replay.config import BufferConfig, ReplayConfig, ScheduleConfig
from mssr.replay.driver import ReplayDriver
from mssr.replay.progress import Progress
from mssr.replay.schedulers import DriftSchedule
from mssr.run_config import load_config
from mssr.simulation import simulate_strategy
from mssr.typed_config import from_mapping

STRIDE, SIZE, STEPS, BATCH, PROMPTS = 1000, 40, 20, 8, 3
TOKENS_PER_PROMPT = 7


def drift_config(strategy: str = "mssr", budget_per_task: int | None = 100,
                 **schedule) -> ReplayConfig:
    """The drift law, probing every 5 steps; each event replays 4 of 8 in 2 batches; a cap
    far above what the tests spend, unless given."""
    values = {"law": "drift", "drift_every": 5, "drift_prompts": PROMPTS, "drift_drop": 0.2,
              "window": 2, "initial_ratio": 0.5, "min_ratio": 0.5, **schedule}
    return ReplayConfig(strategy=strategy, buffer=BufferConfig(per_task=10),
                        budget_per_task=budget_per_task, schedule=ScheduleConfig(**values))


def drive(driver: ReplayDriver, rates, probes: list | None = None,
          until: int | None = None) -> list[tuple]:
    """The trainer's step protocol with synthetic losses: a probe scores each probed id
    `rates(task of the id, step)` and costs TOKENS_PER_PROMPT tokens a prompt; returns every
    step's (step, replayed ids). Stops before global step `until`."""
    progress, log = driver.progress, []
    while not driver.finished and progress.global_step != until:
        step = progress.global_step
        driver.begin_step()
        probe = driver.probe_ids()
        if probe is not None:
            scores = np.array([rates(int(i) // STRIDE, step) for i in probe])
            driver.report_probe(probe, scores, TOKENS_PER_PROMPT * len(probe))
            if probes is not None:
                probes.append((step, probe.tolist(), driver.probe_answer_tokens))
        plan = driver.plan_step()
        rng = np.random.default_rng(step)
        driver.finish_step(plan, [10] * len(plan.ids), plan.ids,
                           rng.gamma(2.0, 0.5, len(plan.ids)))
        log.append((step, plan.ids[plan.current_count:].tolist()))
        if driver.task_done:
            driver.end_task([])
    return log


def make_driver(config: ReplayConfig, budget: int | str | None = None,
                tasks: int = 3) -> ReplayDriver:
    return ReplayDriver(config, budget, [t * STRIDE + np.arange(SIZE) for t in range(tasks)],
                        STEPS, BATCH, seed=0)


def task0_drifts_in_task2(task: int, step: int) -> float:
    """Task 0's answers drift 8 steps into task 2 (step 48); task 1's hold."""
    return 0.5 if task == 0 and step >= 2 * STEPS + 8 else 1.0


def test_probes_the_same_few_prompts_of_each_past_task_every_drift_every_steps():
    probes = []
    drive(make_driver(drift_config()), lambda task, step: 1.0, probes)
    assert [step for step, _, _ in probes] == [20, 25, 30, 35, 40, 45, 50, 55]
    assert all(tokens == 4 for _, _, tokens in probes)  # drift_tokens, the default
    by_step = {step: ids for step, ids, _ in probes}
    assert len(by_step[20]) == PROMPTS and {i // STRIDE for i in by_step[20]} == {0}
    assert by_step[40][:PROMPTS] == by_step[20]  # task 0's prompts stay the same
    assert [i // STRIDE for i in by_step[40]] == [0] * PROMPTS + [1] * PROMPTS


def test_a_drop_replays_the_task_that_drifted_and_it_alone():
    driver = make_driver(drift_config())
    log = drive(driver, task0_drifts_in_task2)
    replaying = [(step, ids) for step, ids in log if ids]
    # the drop is seen at the probe of step 50 (the first after step 48): an event of
    # round(0.5 x 8) = 4 examples in each of its 2 batches; the probe of step 55 sees it again
    assert [step for step, _ in replaying] == [50, 51, 55, 56]
    assert all(len(ids) == 4 and {i // STRIDE for i in ids} == {0} for _, ids in replaying)
    ledger = driver.progress.ledger
    assert ledger.replay_events == 2 and ledger.replayed_examples == 16
    assert driver.strategy.scheduler.reference.tolist() == [1.0, 1.0]


def test_the_reference_is_the_rate_at_the_first_probe_after_the_task_ended():
    # task 0 is learned badly (0.5 when task 1 starts) and holds there: no drop, no replay
    log = drive(make_driver(drift_config()), lambda task, step: 0.5)
    assert not any(ids for _, ids in log)
    # a drop of exactly drift_drop is no drop
    log = drive(make_driver(drift_config()), lambda task, step: 1.0 if step < 30 else 0.8)
    assert not any(ids for _, ids in log)


def test_a_drifting_task_is_drawn_by_the_memory_sampler_and_by_the_uniform_one():
    for strategy in ("mssr", "mssr-scheduler"):
        config = drift_config(strategy, drift_every=1, window=1)
        log = drive(make_driver(config), lambda task, step: 0.0 if task == 1 and step > 40
                    else 1.0)
        replayed = [i for _, ids in log for i in ids]
        assert replayed and {i // STRIDE for i in replayed} == {1}
        assert len(set(replayed)) == 10  # the whole of task 1's buffer, not a fixed few


def test_the_budget_caps_the_replay_of_a_drift_law():
    every_step = drift_config(budget_per_task=None, drift_every=1, window=1)
    always = lambda task, step: 1.0 if step < STEPS + 1 else 0.0  # noqa: E731
    driver = make_driver(every_step, budget=9)
    log = drive(driver, always)
    for task in (1, 2):
        spent = sum(len(ids) for step, ids in log if task * STEPS <= step < (task + 1) * STEPS)
        assert spent == 9
    # without a budget it is allotted what the geometric law with its constants spends
    allotted = planned_replays(dataclasses.replace(
        every_step, schedule=dataclasses.replace(every_step.schedule, law="geometric")),
        STEPS, BATCH)
    assert with_allowance(every_step, STEPS, BATCH).budget_per_task == allotted < 4 * STEPS
    log = drive(make_driver(every_step), always)
    assert sum(len(ids) for step, ids in log if step >= 2 * STEPS) == allotted


def test_probe_tokens_go_into_the_method_eval_tokens():
    driver = make_driver(drift_config())
    probes = []
    drive(driver, task0_drifts_in_task2, probes)
    expected = TOKENS_PER_PROMPT * sum(len(ids) for _, ids, _ in probes)
    assert driver.progress.ledger.method_eval_tokens == expected > 0
    assert driver.strategy.stats["probe_tokens"] == expected
    assert driver.strategy.stats["probes"] == len(probes)


def test_a_probe_score_per_probed_id_is_required():
    driver = make_driver(drift_config())
    drive(driver, lambda task, step: 1.0, until=STEPS)
    driver.begin_step()
    probe = driver.probe_ids()
    with pytest.raises(ValueError, match="probe scores"):
        driver.report_probe(probe, np.ones(len(probe) + 1), 0)


def test_resume_from_a_saved_state_continues_exactly(tmp_path):
    unbroken = make_driver(drift_config())
    expected = drive(unbroken, task0_drifts_in_task2)
    broken = make_driver(drift_config())
    head = drive(broken, task0_drifts_in_task2, until=52)  # mid-task, inside an event
    assert broken.strategy.scheduler.replaying.tolist() == [0]
    save_tree(tmp_path, "strategy", broken.strategy.state_dict())  # a checkpoint's format
    save_tree(tmp_path, "progress", broken.progress.state_dict())
    resumed = make_driver(drift_config())
    resumed.load(Progress.from_state(load_tree(tmp_path, "progress")),
                 load_tree(tmp_path, "strategy"))
    assert head + drive(resumed, task0_drifts_in_task2) == expected
    assert resumed.progress.ledger.as_dict() | {"wall_seconds": 0, "train_seconds": 0} == (
        unbroken.progress.ledger.as_dict() | {"wall_seconds": 0, "train_seconds": 0})
    assert np.array_equal(resumed.strategy.scheduler.reference,
                          unbroken.strategy.scheduler.reference)


def test_only_mssrs_schedule_kind_reads_the_law():
    assert isinstance(build_strategy(drift_config("mssr"), seed=0).scheduler, DriftSchedule)
    uniform = make_driver(drift_config("uniform"))
    assert uniform.probe_answer_tokens == 0
    assert drive(uniform, task0_drifts_in_task2) and uniform.strategy.stats["probes"] == 0


@pytest.mark.parametrize("values, field", [
    ({"law": "drfit"}, "replay.schedule.law"),
    ({"drift_every": 0}, "replay.schedule.drift_every"),
    ({"drift_prompts": 0}, "replay.schedule.drift_prompts"),
    ({"drift_tokens": 0}, "replay.schedule.drift_tokens"),
    ({"drift_drop": 1.0}, "replay.schedule.drift_drop"),
    ({"drift_drop": -0.1}, "replay.schedule.drift_drop"),
])
def test_bad_drift_values_name_the_field(values, field):
    with pytest.raises(ConfigError) as error:
        from_mapping(ReplayConfig, {"schedule": values}, prefix="replay")
    assert error.value.field == field


def test_more_prompts_than_the_buffer_keeps_is_refused():
    with pytest.raises(ConfigError, match="buffer keeps 2") as error:
        from_mapping(ReplayConfig, {"buffer": {"per_task": 2},
                                    "schedule": {"law": "drift", "drift_prompts": 3}},
                     prefix="replay")
    assert error.value.field == "replay.schedule.drift_prompts"


@pytest.mark.parametrize("budget", ["replay_budget=40", "replay_budget=match:uniform", None])
def test_a_drift_law_that_cannot_see_a_drop_is_refused_at_load(budget):
    overrides = ["replay.strategy=mssr", "replay.schedule.law=drift",
                 "replay.schedule.drift_every=300", "train.steps_per_task=300"]
    with pytest.raises(ConfigError, match="could not spend its budget") as error:
        load_config("smoke", overrides + ([budget] if budget else []))
    assert error.value.field == "replay.schedule.drift_every"
    # the law is not read by uniform's schedule: nothing to refuse
    load_config("smoke", [*overrides[1:], "replay.strategy=uniform"])


def test_the_simulation_refuses_the_drift_law():
    with pytest.raises(ConfigError, match="no model to decode") as error:
        simulate_strategy(drift_config(), tasks=2, steps_per_task=STEPS, batch_size=BATCH,
                          examples_per_task=SIZE, seed=0)
    assert error.value.field == "replay.schedule.law"
