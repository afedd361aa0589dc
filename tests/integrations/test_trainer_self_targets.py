"""`replay.targets: self` in the replay trainers: at each task end the model answers the
buffered rows' prompts in token space, accepted answers become those rows (rebuilt in the
row's own format), replay trains on them as `mssr run` does, and they survive a resume."""

from __future__ import annotations

import dataclasses

import datasets
import pytest
from runs import (
    assert_same_observations,
    continual_inputs,
    record_plans,
    run_engine_recorded,
    training_arguments,
)
from test_transformers_trainer import StopAt, make_trainer
from transformers import TrainingArguments

from mssr.engine.scoring import Scoring
from mssr.engine.tasks import ID_STRIDE
from mssr.errors import ConfigError
from mssr.integrations.transformers import ReplayMixin, ReplayTrainer

SELF = ("replay.strategy=uniform", "replay.targets=self", "replay.targets_rejected=drop",
        "lora.enabled=false", "train.checkpoint_every=0")
ANSWER = "7"


def pin_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both trainers keep the model's real answering (what is answered, the tokens it costs)
    but every other answered example is accepted, with the answer "7", so the tiny model has
    accepted answers to replay."""
    def pinned(answers):
        accepted = [text is not None and row % 2 == 0
                    for row, text in enumerate(answers.texts)]
        texts = [ANSWER if ok else text for ok, text in zip(accepted, answers.texts,
                                                            strict=True)]
        return dataclasses.replace(answers, texts=texts, accepted=accepted)

    engine_answer, trainer_answer = Scoring.answer, ReplayMixin._answer_buffered
    monkeypatch.setattr(Scoring, "answer", lambda *a, **k: pinned(engine_answer(*a, **k)))
    monkeypatch.setattr(ReplayMixin, "_answer_buffered",
                        lambda *a, **k: pinned(trainer_answer(*a, **k)))


def record_collated(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, dict]]:
    """Every batch the trainer collates, with the task it trains at the time."""
    collated: list[tuple[int, dict]] = []
    original = ReplayMixin._collate

    def collate(self, ids):
        batch = original(self, ids)
        collated.append((self.replay.progress.task, batch))
        return batch

    monkeypatch.setattr(ReplayMixin, "_collate", collate)
    return collated


@pytest.mark.slow
def test_self_targets_answer_and_replay_as_mssr_run_does(make_config, tmp_path, monkeypatch):
    config = make_config(*SELF)
    pin_answers(monkeypatch)
    engine, (engine_plans, engine_observed), (planned, observed) = run_engine_recorded(
        config, tmp_path / "engine", monkeypatch)

    collated = record_collated(monkeypatch)
    trainer = make_trainer(config, tmp_path, "trainer")
    trainer.train()
    results = trainer.save_results(tmp_path / "trainer")

    first, second = results["replay_targets"]
    assert (first["task"], first["buffered"], first["answered"], first["accepted"]) == (0, 8, 8,
                                                                                         4)
    assert (second["answered"], second["accepted"]) == (0, 0)  # multiple choice: stored
    assert results["compute"]["target_tokens"] == first["tokens"] > 8
    assert results["replay_targets"] == engine["replay_targets"]  # same prompts, same tokens
    assert planned == engine_plans  # rejected answers dropped from the same buffer
    # the rebuilt rows are the engine's encoding of the answer: the same losses
    assert_same_observations(observed, engine_observed)

    accepted = trainer.replay.targets()
    assert len(accepted) == 4 and set(accepted.values()) == {ANSWER}
    # after the prompt's delimiter, as `mssr run` encodes a response
    answer_ids = trainer.processing_class(" " + ANSWER, add_special_tokens=False)["input_ids"]
    eos = trainer.processing_class.eos_token_id
    seen = 0
    for current, batch in collated:
        for row, example_id in enumerate(batch["mssr_ids"].tolist()):
            if example_id not in accepted or example_id // ID_STRIDE == current:
                continue
            seen += 1
            kept = batch["attention_mask"][row].bool()
            ids, labels = batch["input_ids"][row][kept].tolist(), batch["labels"][row][kept]
            assert ids[-len(answer_ids) - 1:] == answer_ids + [eos]
            assert labels[labels != -100].tolist() == answer_ids + [eos]
    assert seen > 0


@pytest.mark.slow
def test_self_targets_resume_from_checkpoint_equals_an_unbroken_run(make_config, tmp_path,
                                                                    monkeypatch):
    config = make_config(*SELF)
    pin_answers(monkeypatch)
    planned = record_plans(monkeypatch)
    saving = {"save_strategy": "steps", "save_steps": 4}
    unbroken = make_trainer(config, tmp_path, "unbroken", **saving)
    unbroken.train()
    reference_plans, reference = list(planned), unbroken.results()

    planned.clear()
    broken = make_trainer(config, tmp_path, "broken", **saving)
    broken.add_callback(StopAt(8))  # mid-task 2: task 1's answers are in checkpoint-8
    broken.train()
    resumed = make_trainer(config, tmp_path, "broken", **saving)
    resumed.train(resume_from_checkpoint=str(tmp_path / "broken" / "checkpoint-8"))

    assert planned == reference_plans
    assert set(resumed.replaced) == set(unbroken.replaced) and len(resumed.replaced) == 4
    for example_id, row in unbroken.replaced.items():
        assert resumed.replaced[example_id] == row
    results = resumed.results()
    for key in ("replay_targets", "replay_timeline", "acc_matrix"):
        assert results[key] == reference[key], key
    assert results["compute"]["target_tokens"] == reference["compute"]["target_tokens"] > 0


def test_self_targets_refuse_a_row_key_or_a_loss_scorer_before_training(make_config,
                                                                        tmp_path):
    config = make_config(*SELF)
    inputs = continual_inputs(config, tmp_path / "data")
    args = TrainingArguments(**training_arguments(config, tmp_path / "run"))
    common = {"model": inputs["model"], "continual": inputs["continual"],
              "processing_class": inputs["tokenizer"]}
    tasks = inputs["tasks"]
    rows = tasks[1].train.to_list()
    with_positions = [{**row, "position_ids": list(range(len(row["input_ids"])))}
                      for row in rows]
    positioned = [tasks[0], dataclasses.replace(
        tasks[1], train=datasets.Dataset.from_list(with_positions)), *tasks[2:]]
    with pytest.raises(ConfigError, match=r"position_ids.*replay\.targets: self") as raised:
        ReplayTrainer(args=args, tasks=positioned, **common)
    assert raised.value.field == f"tasks[{tasks[1].name}].train"
    stored = dataclasses.replace(inputs["continual"], replay=dataclasses.replace(
        inputs["continual"].replay, targets="stored"))
    ReplayTrainer(args=args, tasks=positioned, **{**common, "continual": stored})  # no refusal

    loss_scored = [tasks[0], dataclasses.replace(tasks[1], scorer="loss"), *tasks[2:]]
    with pytest.raises(ConfigError, match=r"task '[a-z]+' is scored by 'loss'") as raised:
        ReplayTrainer(args=args, tasks=loss_scored, **common)
    assert raised.value.field == "continual.replay.targets"
