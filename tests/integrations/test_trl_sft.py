"""ReplaySFTTrainer: TRL's SFTTrainer, with its own data preparation and fused LM head, takes
the same replay decisions as `mssr run`; packing is refused."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

import datasets  # noqa: E402
import torch  # noqa: E402
from runs import (  # noqa: E402
    assert_same_observations,
    continual_inputs,
    run_engine_recorded,
    training_arguments,
)
from trl import SFTConfig  # noqa: E402
from trl.trainer.utils import add_fused_lm_head  # noqa: E402

from mssr.errors import ConfigError  # noqa: E402
from mssr.integrations import ContinualTask  # noqa: E402
from mssr.integrations.transformers import per_example_losses  # noqa: E402
from mssr.integrations.trl import ReplaySFTTrainer  # noqa: E402


def sft_config(config, output_dir, **overrides) -> SFTConfig:
    return SFTConfig(**training_arguments(config, output_dir, **overrides), bf16=False,
                     activation_checkpointing=False, completion_only_loss=True)


def as_completion_rows(task: ContinualTask) -> ContinualTask:
    """The engine's tokenized rows in SFTTrainer's pre-tokenized form: input_ids plus the
    completion_mask that SFTTrainer turns into labels."""
    rows = [{"input_ids": row["input_ids"],
             "completion_mask": [int(label != -100) for label in row["labels"]]}
            for row in task.train]
    return ContinualTask(task.name, datasets.Dataset.from_list(rows), task.eval, task.scorer)


def train_sft_on_completions(config, tmp_path) -> tuple[ReplaySFTTrainer, dict]:
    """ReplaySFTTrainer trained on the config's tasks as prompt/completion rows: the trainer and
    its results (saved under tmp_path / "sft")."""
    inputs = continual_inputs(config, tmp_path / "data")
    trainer = ReplaySFTTrainer(model=inputs["model"], args=sft_config(config, tmp_path / "sft"),
                               tasks=[as_completion_rows(task) for task in inputs["tasks"]],
                               continual=inputs["continual"],
                               processing_class=inputs["tokenizer"])
    trainer.train()
    return trainer, trainer.save_results(tmp_path / "sft")


@pytest.mark.slow
@pytest.mark.parametrize("law", ["geometric", "drift"])  # drift: greedy probes on SFT's batches
def test_sft_replays_the_ids_mssr_run_replays(make_config, tmp_path, monkeypatch, law):
    config = make_config("replay.strategy=mssr", "train.checkpoint_every=0",
                         f"replay.schedule.law={law}", "replay.schedule.drift_every=2",
                         "replay.schedule.drift_drop=0")
    engine, (engine_plans, engine_observed), (planned, observed) = run_engine_recorded(
        config, tmp_path / "engine", monkeypatch)

    trainer, results = train_sft_on_completions(config, tmp_path)

    if law == "drift":
        assert engine["compute"]["method_eval_tokens"] > 0
    else:
        assert sum(len(ids) for _, ids in engine_plans) > 0
    assert planned == engine_plans
    assert_same_observations(observed, engine_observed)  # losses from the fused LM head
    for key in ("replay_timeline", "task_boundaries", "replay_budget"):
        assert results[key] == engine[key], key
    assert results["compute"]["method_eval_tokens"] == engine["compute"]["method_eval_tokens"]


def test_fused_head_losses_equal_logit_losses_over_unmasked_tokens(engine_assets):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(engine_assets["model"])
    input_ids = torch.tensor([[1, 5, 6, 7, 8, 2], [1, 9, 10, 11, 2, 0]])
    labels = torch.tensor([[-100, -100, 6, 7, 8, 2], [-100, -100, -100, 11, 2, -100]])
    attention_mask = (labels != -100) | (input_ids != 0)
    plain = per_example_losses(model(input_ids=input_ids, attention_mask=attention_mask),
                               labels)
    add_fused_lm_head(model)
    fused = per_example_losses(model(input_ids=input_ids, attention_mask=attention_mask,
                                     labels=labels, fused_lm_head=True), labels)
    torch.testing.assert_close(fused, plain, rtol=1e-4, atol=1e-5)
    assert plain[0] != plain[1]


@pytest.mark.parametrize("setting", ["packing", "padding_free"])
def test_packing_and_padding_free_are_refused(make_config, tmp_path, setting):
    config = make_config("replay.strategy=uniform")
    inputs = continual_inputs(config, tmp_path / "data")
    args = sft_config(config, tmp_path / "sft", **{setting: True})
    with pytest.raises(ConfigError, match=setting):
        ReplaySFTTrainer(model=inputs["model"], args=args, tasks=inputs["tasks"],
                         continual=inputs["continual"], processing_class=inputs["tokenizer"])


def user_datasets(engine_assets, tokenizer) -> list[ContinualTask]:
    """What a TRL user holds: per task, a Dataset to train on and a Dataset to score, as
    prompt/completion rows and as chat messages (the tokenizer gets a chat template)."""
    import json

    from mssr.bundled import bundled_model_path

    tokenizer.chat_template = (bundled_model_path() / "chat_template.jinja").read_text()
    tasks = []
    for name in ("arithmetic", "chat"):
        lines = engine_assets["tasks"][name].read_text().splitlines()
        records = [json.loads(line) for line in lines]
        if name == "arithmetic":
            records = [{"prompt": r["prompt"], "completion": " " + r["response"]}
                       for r in records]
        tasks.append(ContinualTask(name, datasets.Dataset.from_list(records[8:]),
                                   eval=datasets.Dataset.from_list(records[:8])))
    return tasks


@pytest.mark.slow
def test_a_trl_script_with_dataset_eval_sets_runs(engine_assets, make_config, tmp_path):
    config = make_config("replay.strategy=mssr", "train.checkpoint_every=0")
    inputs = continual_inputs(config, tmp_path / "data")
    trainer = ReplaySFTTrainer(model=inputs["model"], args=sft_config(config, tmp_path / "sft"),
                               tasks=user_datasets(engine_assets, inputs["tokenizer"]),
                               continual=inputs["continual"],
                               processing_class=inputs["tokenizer"])
    trainer.train()
    results = trainer.save_results()
    assert results["scorers"] == {"arithmetic": "numeric", "chat": "exact_match"}  # auto
    assert len(results["acc_matrix"]) == 2 and results["compute"]["replayed_examples"] > 0
    assert (tmp_path / "sft" / "results.json").is_file()


@pytest.mark.parametrize("bad_row, field", [
    ({"prompt": "1 plus 1 is", "completion": ""}, "tasks[arithmetic].eval[3].completion"),
    ({"text": "1 plus 1 is 2"}, "tasks[arithmetic].eval[3].prompt"),
])
def test_a_malformed_eval_set_is_refused_by_the_constructor(engine_assets, make_config,
                                                            tmp_path, monkeypatch, bad_row,
                                                            field):
    config = make_config("replay.strategy=uniform")
    inputs = continual_inputs(config, tmp_path / "data")
    tasks = user_datasets(engine_assets, inputs["tokenizer"])
    rows = tasks[0].eval.to_list()
    rows[3] = bad_row
    tasks[0].eval = rows
    monkeypatch.setattr(ReplaySFTTrainer, "train", lambda self: pytest.fail("trained"))
    with pytest.raises(ConfigError) as raised:
        ReplaySFTTrainer(model=inputs["model"], args=sft_config(config, tmp_path / "sft"),
                         tasks=tasks, continual=inputs["continual"],
                         processing_class=inputs["tokenizer"])
    assert raised.value.field == field


@pytest.mark.slow
def test_sft_self_targets_rebuild_rows_as_mssr_run_encodes(make_config, tmp_path,
                                                           monkeypatch):
    """replay.targets: self on rows SFTTrainer prepared from input_ids + completion_mask: the
    accepted answers replay with the engine's losses (the rebuilt rows, in SFTTrainer's own
    columns, train the same tokens)."""
    from test_trainer_self_targets import SELF, pin_answers

    config = make_config(*SELF)
    pin_answers(monkeypatch)
    engine, (engine_plans, engine_observed), (planned, observed) = run_engine_recorded(
        config, tmp_path / "engine", monkeypatch)

    trainer, results = train_sft_on_completions(config, tmp_path)

    assert [r["accepted"] for r in results["replay_targets"]] == [4, 0]
    assert results["replay_targets"] == engine["replay_targets"]
    assert planned == engine_plans
    assert_same_observations(observed, engine_observed)
    stored = set(trainer.task_rows[0][0])  # SFTTrainer's prepared columns
    for row in trainer.replaced.values():
        assert set(row) == stored and {len(values) for values in row.values()} == {
            len(row["input_ids"])}
