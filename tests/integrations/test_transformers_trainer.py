"""ReplayTrainer: a transformers Trainer takes the same replay decisions as `mssr run`, splits
its batches over gradient accumulation without changing them, and resumes exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from runs import (
    assert_same_observations,
    continual_inputs,
    record_plans,
    run_engine_recorded,
    training_arguments,
)
from transformers import DataCollatorForSeq2Seq, TrainerCallback, TrainingArguments

from mssr.errors import ConfigError, MSSRError
from mssr.evaluation.metrics import normalised_score
from mssr.integrations.transformers import ReplayTrainer
from mssr.report import load_results


def make_trainer(config, tmp_path, name: str, reference_runs=(), **argument_overrides
                 ) -> ReplayTrainer:
    inputs = continual_inputs(config, tmp_path / "data")
    args = TrainingArguments(**training_arguments(config, tmp_path / name, **argument_overrides))
    continual = dataclasses.replace(inputs["continual"], reference_runs=list(reference_runs))
    return ReplayTrainer(model=inputs["model"], args=args, tasks=inputs["tasks"],
                         continual=continual,
                         data_collator=DataCollatorForSeq2Seq(inputs["tokenizer"]),
                         processing_class=inputs["tokenizer"])


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [
    ["replay.strategy=mssr", "train.lr_schedule=cosine", "train.warmup_steps=2"],
    # the accuracy baseline's probes, and the clock driven by update norms
    ["replay.strategy=accuracy", "replay.clock.mode=update"],
    # replayed examples on top of a full batch of current-task examples
    ["replay.strategy=mssr", "replay.mode=append"],
    # model time from update norms, and a strong L2 anchor on replay steps
    ["replay.strategy=forever", "replay.forever.calibration_updates=2",
     "replay.schedule.window=6", "replay.forever.anchor_strength=20", "train.lr=0.05"],
    # MIR's virtual step in the trainer's hooks, from a warm-up step at LR 0 on
    ["replay.strategy=mir", "train.lr_schedule=cosine", "train.warmup_steps=2"],
    # the drift law's greedy probes on the collator's batches (the same tokens decoded)
    ["replay.strategy=mssr", "replay.schedule.law=drift", "replay.schedule.drift_every=2",
     "replay.schedule.drift_drop=0"]],
    ids=["mssr", "accuracy", "append", "forever", "mir", "drift"])
def test_replays_the_ids_mssr_run_replays_with_gradient_accumulation(make_config, tmp_path,
                                                                      monkeypatch, overrides):
    config = make_config(*overrides, "train.checkpoint_every=0")
    engine, (engine_plans, engine_observed), (planned, observed) = run_engine_recorded(
        config, tmp_path / "engine", monkeypatch)

    trainer = make_trainer(config, tmp_path, "trainer", per_device_train_batch_size=4,
                           gradient_accumulation_steps=2, reference_runs=[str(tmp_path / "engine")])
    trainer.train()
    results = trainer.save_results(tmp_path / "trainer")

    drift = engine["resolved_replay"]["schedule"]["law"] == "drift"
    work = "method_eval_tokens" if drift else {
        "mssr": "replayed_examples", "forever": "replayed_examples",
        "accuracy": "method_eval_tokens", "mir": "method_train_tokens"}[engine["strategy"]]
    # mssr and forever replayed, accuracy and drift probed, mir measured
    assert engine["compute"][work] > 0
    assert planned == engine_plans
    assert any(ids for _, ids in planned) == (engine["compute"]["replayed_examples"] > 0)
    assert_same_observations(observed, engine_observed)
    for key in ("replay_timeline", "task_boundaries", "tasks", "scorers", "replay_budget",
                "resolved_replay"):
        assert results[key] == engine[key], key
    calibration = ("mode", "measurements", "task")
    assert ({k: results["calibration"][k] for k in calibration}
            == {k: engine["calibration"][k] for k in calibration})
    assert engine["metrics"]["normalised_score"] is None  # the engine run is the reference here
    final = dict(zip(engine["tasks"], engine["acc_matrix"][-1], strict=True))
    assert results["reference"]["scores"] == final
    # against the engine run's final scores (None only if the tiny model scored 0 everywhere)
    assert results["metrics"]["normalised_score"] == normalised_score(
        results["acc_matrix"][-1], [final[task] for task in results["tasks"]])
    training = ("optimizer_steps", "new_examples", "new_tokens", "replayed_examples",
                "replayed_tokens", "replay_events", "method_eval_tokens", "method_train_tokens")
    assert {k: results["compute"][k] for k in training} == {k: engine["compute"][k]
                                                            for k in training}
    np.testing.assert_allclose(np.array(results["acc_matrix"], dtype=float),
                               np.array(engine["acc_matrix"], dtype=float), atol=0.15)
    assert load_results(tmp_path / "trainer")["metrics"] == results["metrics"]
    assert (tmp_path / "trainer" / "report.md").is_file()


class StopAt(TrainerCallback):
    """Stops training after `step` optimizer steps, like a killed job after a checkpoint."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


@pytest.mark.slow
@pytest.mark.parametrize("overrides", [
    ["replay.strategy=mssr"],
    # FOREVER's anchor weights and model time travel in the checkpoint too
    ["replay.strategy=forever", "replay.forever.calibration_updates=2",
     "replay.schedule.window=6", "replay.forever.anchor_strength=20", "train.lr=0.05"],
    ["replay.strategy=mir"]],  # its virtual steps after the resumed step
    ids=["mssr", "forever", "mir"])
def test_resume_from_checkpoint_equals_an_unbroken_run(make_config, tmp_path, monkeypatch,
                                                       overrides):
    config = make_config(*overrides)
    planned = record_plans(monkeypatch)
    saving = {"save_strategy": "steps", "save_steps": 4, "per_device_train_batch_size": 4,
              "gradient_accumulation_steps": 2}
    unbroken = make_trainer(config, tmp_path, "unbroken", **saving)
    unbroken.train()
    reference_plans = list(planned)
    reference = unbroken.results()

    planned.clear()
    broken = make_trainer(config, tmp_path, "broken", **saving)
    broken.add_callback(StopAt(8))  # mid-task 2, after the checkpoint at step 8
    broken.train()
    assert broken.replay.progress.global_step == 8
    for name in ("mssr_replay.json", "mssr_anchor.pt"):
        assert (tmp_path / "broken" / "checkpoint-8" / name).is_file()
    resumed = make_trainer(config, tmp_path, "broken", **saving)
    resumed.train(resume_from_checkpoint=True)

    assert planned == reference_plans  # 8 steps before the break, the rest after it
    results = resumed.results()
    for key in ("replay_timeline", "task_boundaries", "acc_matrix", "base_scores",
                "memory_snapshots", "calibration"):
        assert results[key] == reference[key], key


def test_refuses_a_train_dataset_no_tokenizer_wrong_max_steps_or_missing_references(
        make_config, tmp_path):
    config = make_config("replay.strategy=uniform")
    inputs = continual_inputs(config, tmp_path / "data")
    args = TrainingArguments(**training_arguments(config, tmp_path / "run", max_steps=5))
    common = {"model": inputs["model"], "tasks": inputs["tasks"],
              "continual": inputs["continual"], "processing_class": inputs["tokenizer"]}
    with pytest.raises(ConfigError, match="max_steps"):
        ReplayTrainer(args=args, **common)
    with pytest.raises(ConfigError, match="tasks=\\[ContinualTask\\]"):
        ReplayTrainer(args=args, train_dataset=inputs["tasks"][0].train, **common)
    with pytest.raises(ConfigError, match="processing_class"):
        ReplayTrainer(args=args, **{**common, "processing_class": None})
    missing = dataclasses.replace(inputs["continual"], reference_runs=[str(tmp_path / "none")])
    with pytest.raises(MSSRError, match="no such results file"):  # before any training
        ReplayTrainer(args=args, **{**common, "continual": missing})
