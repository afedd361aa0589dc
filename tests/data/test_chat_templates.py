"""Chat templates of the major families (ChatML/Qwen2.5, Llama 3, Mistral [INST], Gemma 2 and a
ChatML template with `{% generation %}` blocks): the loss covers exactly the assistant's tokens
and its end-of-turn token, once; the training prompt is the generation prompt; generation stops
at the end-of-turn; and a tiny model trained through the engine answers exactly."""

from __future__ import annotations

import json

import pytest
from chat_families import FAMILIES, REAL_FAMILIES, build_tokenizer, save_tiny_model

from mssr.data.formatting import IGNORE_INDEX, encode_example, render, stop_token_ids
from mssr.data.schema import Example
from mssr.engine.launch import execute
from mssr.errors import DataError
from mssr.evaluation.generation import visible_text
from mssr.run_config import load_config

ALL_FAMILIES = (*REAL_FAMILIES, "chatml-generation")
ANSWER_LEAD = {"mistral": " "}  # [INST] writes " " + answer after [/INST]


def conversation(family: str, answer: str = "blue and green") -> Example:
    """A system turn and two exchanges: only the last answer is the response."""
    turns = [{"role": "system", "content": "be brief"},
             {"role": "user", "content": "hello there"},
              {"role": "assistant", "content": "hi, how can I help?"},
              {"role": "user", "content": "what colour is the sea?"},
              {"role": "assistant", "content": answer}]
    return Example(prompt="", response="", messages=tuple(turns), source="chat.jsonl:1")


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_loss_covers_the_answer_and_its_end_of_turn_once(family):
    spec = FAMILIES[family]
    tokenizer = build_tokenizer(spec)
    example = conversation(family)
    encoded = encode_example(example, tokenizer, max_length=512)
    end_of_turn = tokenizer.convert_tokens_to_ids(spec.end_of_turn)
    learned = [label for label in encoded.labels if label != IGNORE_INDEX]
    assert learned == [*ids(tokenizer, ANSWER_LEAD.get(family, "") + "blue and green"),
                       end_of_turn]
    masked = len(encoded.labels) - len(learned)
    assert encoded.labels[:masked] == [IGNORE_INDEX] * masked  # one contiguous prompt
    assert encoded.input_ids[:masked] == ids(tokenizer, render(example, tokenizer)[0])
    assert "be brief" in tokenizer.decode(encoded.input_ids[:masked])
    assert encoded.input_ids.count(tokenizer.bos_token_id) <= 1
    assert end_of_turn in stop_token_ids(tokenizer)
    assert visible_text(tokenizer, render(example, tokenizer)[1]).strip() == "blue and green"


def test_end_of_turn_outside_the_generation_block_is_still_learned():
    spec = FAMILIES["chatml-generation"]
    tokenizer = build_tokenizer(spec)
    tokenizer.chat_template = spec.template.replace(
        "{% generation %}{{- message.content + '<|im_end|>' }}{% endgeneration %}",
        "{% generation %}{{- message.content }}{% endgeneration %}{{- '<|im_end|>' }}")
    encoded = encode_example(conversation("chatml-generation"), tokenizer, max_length=512)
    assert [label for label in encoded.labels if label != IGNORE_INDEX] == [
        *ids(tokenizer, "blue and green"), tokenizer.convert_tokens_to_ids("<|im_end|>")]


def test_a_template_without_a_special_end_of_turn_gets_eos(tiny_tokenizer):
    tiny_tokenizer.chat_template = ("{% for m in messages %}{{ m.role }}: {{ m.content }}\n"
                                    "{% endfor %}{% if add_generation_prompt %}assistant:"
                                    "{% endif %}")
    encoded = encode_example(conversation("plain"), tiny_tokenizer, max_length=512)
    assert [label for label in encoded.labels if label != IGNORE_INDEX] == [
        *ids(tiny_tokenizer, " blue and green"), tiny_tokenizer.eos_token_id]
    assert stop_token_ids(tiny_tokenizer) == [tiny_tokenizer.eos_token_id]


def test_a_template_without_a_system_role_gets_it_in_the_first_user_turn():
    tokenizer = build_tokenizer(FAMILIES["gemma2"])
    prompt, _ = render(conversation("gemma2"), tokenizer)
    assert prompt.startswith("<bos><start_of_turn>user\nbe brief\n\nhello there<end_of_turn>")
    assert prompt == tokenizer.apply_chat_template(
        list(conversation("gemma2").messages[1:-1]), tokenize=False,
        add_generation_prompt=True).replace("hello there", "be brief\n\nhello there")


def test_a_conversation_the_template_refuses_names_the_record():
    tokenizer = build_tokenizer(FAMILIES["gemma2"])
    example = Example(prompt="", response="", source="chat.jsonl:7", messages=(
        {"role": "user", "content": "hi"}, {"role": "user", "content": "again"},
        {"role": "assistant", "content": "hello"}))
    with pytest.raises(DataError, match=r"chat.jsonl:7, field 'messages'.*must alternate"):
        encode_example(example, tokenizer, max_length=128)


WORDS = "red green blue cat dog sun moon tree fish bird".split()
# One layer, 8 heads, LR 0.002, 200 steps: exact match >= 0.9 for every family on each of
# seeds 0-3 tried (smaller models or larger LRs sat on a plateau for some seeds).
TINY_CHAT_MODEL = {"hidden_size": 128, "intermediate_size": 256, "num_attention_heads": 8,
                   "num_key_value_heads": 8}
TRAINING = ["train.steps_per_task=200", "train.batch_size=10", "train.lr=0.002"]


def _chat_task(path) -> None:
    """Which word follows each word in a fixed list: 30 conversations to learn by heart."""
    records = [{"messages": [{"role": "user", "content": f"{ask} {word}?"},
                             {"role": "assistant", "content": WORDS[(i + 3) % 10]}]}
               for i, word in enumerate(WORDS) for ask in ("after", "next to", "follows")]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


@pytest.mark.slow
@pytest.mark.parametrize("family", ALL_FAMILIES)
def test_a_tiny_model_learns_to_answer_exactly_through_the_engine(family, tmp_path, seed=0):
    """The real engine trains on chats rendered by the family's template and scores greedy
    generations by exact match: a doubled or missing end-of-turn, a mask that learns the
    template's text, a reference that keeps its end-of-turn, or generation that does not stop
    at the end-of-turn all keep exact match far below 0.9."""
    data = tmp_path / "chat.jsonl"
    _chat_task(data)
    model_dir = save_tiny_model(FAMILIES[family], tmp_path / "model", texts=[data.read_text()],
                                seed=seed, **TINY_CHAT_MODEL)
    task = {"name": "chat", "train": str(data), "eval": str(data), "format": "chat",
            "scorer": "exact_match"}
    config = load_config(None, [
        f"model.path={model_dir}", "model.max_length=96", f"tasks={json.dumps([task])}",
        f"output={tmp_path / 'run'}", f"seed={seed}", "lora.enabled=false",
        "replay.strategy=none", "train.checkpoint_every=0", "eval.max_new_tokens=6",
        *TRAINING])
    _, results = execute(config, show_progress=False)
    assert results["acc_matrix"][-1][0] >= 0.9, results["acc_matrix"]


class ScriptedModel:
    """Stands in for a causal LM: `generate` appends `reply` to every prompt and records the
    stop ids it was given."""

    def __init__(self, reply: list[int], configured_eos: list[int]):
        import torch
        from transformers import GenerationConfig

        self.reply, self.device = reply, torch.device("cpu")
        self.generation_config = GenerationConfig(eos_token_id=configured_eos)
        self.stop_ids: list[int] = []

    def generate(self, input_ids, eos_token_id, **options):
        import torch

        self.stop_ids = list(eos_token_id)
        reply = torch.tensor([self.reply] * input_ids.shape[0])
        return torch.cat([input_ids, reply], dim=1)


def test_generation_stops_at_the_end_of_turn_and_drops_special_tokens():
    from mssr.evaluation.generation import generate_greedy

    tokenizer = build_tokenizer(FAMILIES["gemma2"])
    end_of_turn = tokenizer.convert_tokens_to_ids("<end_of_turn>")
    reply = [*ids(tokenizer, "blue"), end_of_turn, *ids(tokenizer, "<start_of_turn>user")]
    model = ScriptedModel(reply, configured_eos=[tokenizer.eos_token_id, 399])
    prompt, _ = render(conversation("gemma2"), tokenizer)
    generated = generate_greedy(model, tokenizer, [prompt], batch_size=1, max_new_tokens=8,
                                max_length=128)
    assert generated.texts == ["blue"]
    assert set(model.stop_ids) == {tokenizer.eos_token_id, end_of_turn, 399}
