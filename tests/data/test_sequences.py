"""Every ready sequence maps (and, where its scorer exists, scores) tiny stand-ins of its
datasets, read offline through the data root."""

from __future__ import annotations

import dataclasses

import pytest
from hub_fixtures import SPLITS, write_data_root

from mssr.data.loaders import load_task
from mssr.data.sequences import load_sequence, sequence_config, sequence_names
from mssr.errors import ConfigError

ALL_ORDERS = [(name, order) for name in sequence_names()
              for order in load_sequence(name).orders]


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch):
    """Reading the hub here would be a bug: every source must come from the data root."""
    import datasets

    def refuse(*args, **kwargs):
        raise AssertionError(f"tests must not reach the hub: load_dataset{args}")

    monkeypatch.setattr(datasets, "load_dataset", refuse)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_data_root(tmp_path_factory.mktemp("data_root"))


@pytest.fixture(scope="module")
def tiny_model():
    """The bundled tokenizer and a randomly initialised 1-layer model of its vocabulary."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from mssr.bundled import bundled_model_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    return LlamaForCausalLM(config), tokenizer


def test_the_ready_sequences_and_their_orders():
    assert sequence_names() == ["olora", "paper", "superni"]
    olora = load_sequence("olora")
    assert olora.orders["order1"] == ["dbpedia", "amazon", "yahoo", "agnews"]
    assert len(olora.orders["order4"]) == 15 and set(olora.orders["order4"]) == \
        set(olora.orders["order6"])
    assert load_sequence("superni").orders["order2"][0] == "task748"
    paper = load_sequence("paper")
    assert paper.orders["three_task"] == ["alpaca_gpt4", "gsm8k", "math"]
    assert paper.probes == ["mmlu"]


@pytest.mark.parametrize(("name", "order"), ALL_ORDERS)
def test_every_order_validates_offline(name, order):
    config = sequence_config(f"{name}:{order}")
    assert [task.name for task in config.tasks] == load_sequence(name).orders[order]


def test_every_hub_source_has_a_stand_in():
    sources = {source for name in sequence_names()
               for task in load_sequence(name).tasks.values()
               for source in (task.train, task.eval) if source and source.startswith("hf:")}
    assert sources == set(SPLITS)


@pytest.mark.parametrize("name", sequence_names())
def test_every_task_maps_its_stand_in_through_the_data_root(name, data_root, monkeypatch):
    monkeypatch.setenv("MSSR_DATA_ROOT", str(data_root))
    sequence = load_sequence(name)
    for task in sequence.tasks.values():
        data = load_task(task, seed=0)
        assert data.train and data.eval, task.name
        assert data.scorer == task.scorer or task.scorer == "auto", task.name
        for example in data.train + data.eval:
            assert example.prompt.strip() and example.response.strip(), example.source
            assert "{{" not in example.prompt and "{%" not in example.prompt, example.source
            if example.choices is not None:
                assert example.response == example.choices[example.answer]


def test_mapped_values_match_the_datasets_meaning(data_root, monkeypatch):
    monkeypatch.setenv("MSSR_DATA_ROOT", str(data_root))
    root: list[str] = []
    paper = {t.name: t for t in sequence_config("paper:long", root).tasks}
    gsm8k = load_task(paper["gsm8k"], seed=0)
    assert all(e.response.rstrip().split("#### ")[-1].isdigit() for e in gsm8k.train)
    level3 = load_task(paper["math_level3"], seed=0)
    assert all(e.response.startswith("\\frac{") for e in level3.train + level3.eval)
    numerators = [int(e.response.removeprefix("\\frac{").split("}")[0])
                  for e in level3.train + level3.eval]
    assert len(numerators) == 4 and all(n % 5 == 2 for n in numerators)  # the Level 3 rows
    arc = load_task(paper["arc"], seed=0)
    assert all(e.choices[e.answer] == f"planet {e.prompt.split('number ')[1][0]}"
               for e in arc.train + arc.eval)
    squad = load_task(paper["squad"], seed=0)
    assert all(e.response in e.prompt for e in squad.eval)
    olora = {t.name: t for t in sequence_config("olora:order4", root).tasks}
    cb = load_task(olora["cb"], seed=0)  # super_glue's cb: 0 entailment, 1 contradiction
    assert {e.response for e in cb.eval} == {"entailment", "contradiction", "neutral"}
    amazon = load_task(olora["amazon"], seed=0)
    assert {e.response for e in amazon.train + amazon.eval} <= {
        "very negative", "negative", "neutral", "positive", "very positive"}
    superni = {t.name: t for t in sequence_config("superni", root).tasks}
    task875 = load_task(superni["task875"], seed=0)
    assert all("task875_emotion_classification" in e.prompt for e in task875.train)


@pytest.mark.parametrize("name", sequence_names())
def test_every_task_is_scored_on_its_stand_in(name, data_root, tiny_model, monkeypatch):
    """Scoring runs on each task's mapped eval examples."""
    from mssr.evaluation.scorers import score_task

    monkeypatch.setenv("MSSR_DATA_ROOT", str(data_root))
    model, tokenizer = tiny_model
    for task in load_sequence(name).tasks.values():
        data = load_task(task, seed=0)
        result = score_task(model, tokenizer, data.eval[:2], data.scorer, batch_size=4,
                            max_new_tokens=2, max_length=256)
        assert 0.0 <= result.score <= 1.0 and result.tokens > 0, task.name


def test_squad_scores_the_best_of_its_gold_answers(data_root, tiny_model, monkeypatch):
    """A model answering each SQuAD stand-in question with its second gold answer ("in 1812",
    the first is "1812") scores token F1 1, not the 2/3 it gets against the first alone."""
    import re

    from mssr.evaluation import scorers
    from mssr.evaluation.generation import Generations

    def second_gold_answer(model, tokenizer, prompts, **limits):
        years = [re.search(r"built in (\d+)", prompt).group(1) for prompt in prompts]
        return Generations(texts=[f" in {year}" for year in years], tokens=len(prompts))

    monkeypatch.setenv("MSSR_DATA_ROOT", str(data_root))
    monkeypatch.setattr(scorers, "generate_greedy", second_gold_answer)
    squad = {t.name: t for t in sequence_config("paper:long").tasks}["squad"]
    data = load_task(squad, seed=0)
    assert all(e.gold_answers == (e.response, f"in {e.response}") for e in data.eval)
    best = scorers.score_task(*tiny_model, data.eval, data.scorer)
    assert (data.scorer, best.score) == ("token_f1", 1.0)
    first_only = [dataclasses.replace(e, gold_answers=None) for e in data.eval]
    assert scorers.score_task(*tiny_model, first_only, data.scorer).score == \
        pytest.approx(2 / 3)


def test_missing_local_copy_and_missing_data_root_are_named(tmp_path, monkeypatch):
    monkeypatch.delenv("MSSR_DATA_ROOT", raising=False)
    from mssr.errors import DataError

    tasks = {t.name: t for t in sequence_config("olora:order1").tasks}
    with pytest.raises(DataError, match="set data_root in the config or \\$MSSR_DATA_ROOT"):
        load_task(tasks["amazon"], seed=0)
    with pytest.raises(DataError, match="no local copy at .*fetch-data") as caught:
        load_task(tasks["dbpedia"], seed=0, data_root=str(tmp_path))
    assert caught.value.path == "hf:fancyzhx/dbpedia_14"


def test_task_overrides_reach_one_task_of_the_order():
    config = sequence_config("olora:order1", ["tasks.yahoo.max_eval_examples=7",
                                              "train.lr=1e-4"])
    assert {t.name: t.max_eval_examples for t in config.tasks}["yahoo"] == 7
    assert config.train.lr == 1e-4
    with pytest.raises(ConfigError, match="not a task of order order1"):
        sequence_config("olora:order1", ["tasks.mnli.max_eval_examples=7"])
    with pytest.raises(ConfigError, match="no ready sequence 'nope'"):
        sequence_config("nope")
