"""The bundled base model: found (or a clear error), loads offline, generates, and its tokenizer
handles the built-in suite's text and chat format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mssr.bundled import ENV_VARIABLE, bundled_model_path
from mssr.data.suites import materialize
from mssr.errors import MSSRError
from mssr.run_config import SuiteConfig

MAX_TOKENS_PER_EXAMPLE = 48


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(bundled_model_path())


@pytest.fixture(scope="module")
def suite_texts(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("suite")
    texts = []
    for task in materialize(SuiteConfig(train_examples=30, eval_examples=5), root, seed=0):
        for line in Path(task.train).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "choices" in record:  # each option is scored as its own sequence
                texts += [f"{record['question']}\nAnswer: {choice}" for choice in record["choices"]]
            elif "messages" in record:
                texts.append("\n".join(turn["content"] for turn in record["messages"]))
            else:
                texts.append(f"{record['prompt']} {record['response']}")
    return texts


def test_path_is_the_package_asset_with_a_model(monkeypatch):
    monkeypatch.delenv(ENV_VARIABLE, raising=False)
    path = bundled_model_path()
    assert path.parts[-3:] == ("mssr", "assets", "base-model")
    assert (path / "model.safetensors").is_file() and (path / "README.md").is_file()
    assert sum(p.stat().st_size for p in path.iterdir()) <= 30 * 2**20


def test_environment_variable_overrides_and_a_missing_model_says_how_to_rebuild(
        monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VARIABLE, str(tmp_path))
    with pytest.raises(MSSRError, match="build_base_model.py") as raised:
        bundled_model_path()
    assert str(tmp_path) in str(raised.value)
    (tmp_path / "config.json").write_text("{}")
    assert bundled_model_path() == tmp_path


def test_loads_offline_and_generates_greedily(monkeypatch, tokenizer):
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = AutoModelForCausalLM.from_pretrained(bundled_model_path())
    assert next(model.parameters()).dtype == torch.float32  # stored in half precision
    assert 2_000_000 <= sum(p.numel() for p in model.parameters()) <= 15_000_000
    prompt = tokenizer("Ann has a red", return_tensors="pt", add_special_tokens=False)
    ids = torch.cat([torch.tensor([[tokenizer.bos_token_id]]), prompt["input_ids"]], dim=1)
    output = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                            max_new_tokens=8, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id)
    continuation = tokenizer.decode(output[0, ids.shape[1]:], skip_special_tokens=True)
    assert output.shape[1] > ids.shape[1] and continuation.strip()


def test_prefers_english_word_order_to_the_same_words_shuffled(tokenizer):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(bundled_model_path())

    def loss(text: str) -> float:
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
        ids = torch.cat([torch.tensor([[tokenizer.bos_token_id]]), ids], dim=1)
        with torch.no_grad():
            return model(input_ids=ids, labels=ids).loss.item()

    sentences = ["The farmer sold his old horse at the market.",
                 "She opened the window because the room was too warm.",
                 "A small boat sailed slowly across the quiet lake."]
    for sentence in sentences:
        words = sentence.rstrip(".").split()
        shuffled = " ".join(words[::2] + words[1::2]) + "."
        assert loss(sentence) < loss(shuffled), sentence


def test_tokenizer_has_special_tokens_and_a_user_assistant_chat_template(tokenizer):
    assert 8000 <= len(tokenizer) <= 16384
    assert {tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token,
            tokenizer.unk_token} == {"<s>", "</s>", "<pad>", "<unk>"}
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi."},
         {"role": "user", "content": "Opposite of hot?"}],
        tokenize=False, add_generation_prompt=True)
    assert text == "User: Hello!\nAssistant: Hi.\nUser: Opposite of hot?\nAssistant:"


def test_tokenizer_round_trips_suite_text_in_few_tokens(tokenizer, suite_texts):
    for text in suite_texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.unk_token_id not in ids
        assert tokenizer.decode(ids).strip() == text
        assert len(ids) <= MAX_TOKENS_PER_EXAMPLE, text


@pytest.mark.parametrize("task", ["debian_sections", "debian_packages"])
def test_scores_the_realtext_suite_in_both_of_its_record_formats(task, tokenizer):
    from transformers import AutoModelForCausalLM

    from mssr.data.loaders import load_examples
    from mssr.data.suites import SUITES
    from mssr.evaluation.scorers import score_task

    info = SUITES["realtext"].tasks[task]
    examples = load_examples(str(info.data / "eval.jsonl"), info.format).examples[:8]
    model = AutoModelForCausalLM.from_pretrained(bundled_model_path())
    result = score_task(model, tokenizer, examples, info.scorer, batch_size=8, max_new_tokens=4)
    assert 0.0 <= result.score <= 1.0 and result.higher_is_better and result.tokens > 0
