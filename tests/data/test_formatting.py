"""formatting: prompt masking, BOS/EOS, left truncation, chat rendering and collation, checked
against the tiny tokenizer's own ids."""

from __future__ import annotations

import pytest

from mssr.data.formatting import (
    IGNORE_INDEX,
    choice_texts,
    collate,
    encode,
    encode_example,
    prompt_ids,
    render,
)
from mssr.data.schema import Example

TEMPLATE = ("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")
CHAT = Example(prompt="", response="", messages=(
    {"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"},
    {"role": "assistant", "content": "hi"}))


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_prompt_is_masked_and_bos_eos_added(tiny_tokenizer):
    prompt, response = "Question: what colour is the sky?\nAnswer:", " blue"
    encoded = encode(tiny_tokenizer, prompt, response, max_length=64)
    bos, eos = tiny_tokenizer.bos_token_id, tiny_tokenizer.eos_token_id
    expected_prompt = [bos, *ids(tiny_tokenizer, prompt)]
    expected_response = [*ids(tiny_tokenizer, response), eos]
    assert encoded.input_ids == expected_prompt + expected_response
    assert encoded.labels == [IGNORE_INDEX] * len(expected_prompt) + expected_response
    assert encoded.response_tokens == len(expected_response)
    assert not encoded.truncated
    assert tiny_tokenizer.decode(encoded.input_ids[len(expected_prompt):-1]) == response


def test_eos_is_optional_and_bos_not_doubled(tiny_tokenizer):
    encoded = encode(tiny_tokenizer, "<s>the answer is", " 42", max_length=64, add_eos=False)
    assert encoded.input_ids.count(tiny_tokenizer.bos_token_id) == 1
    assert encoded.input_ids[-1] != tiny_tokenizer.eos_token_id
    assert encoded.input_ids[-len(ids(tiny_tokenizer, " 42")):] == ids(tiny_tokenizer, " 42")


def test_tokenizer_without_bos_gets_none(tiny_tokenizer):
    from transformers import PreTrainedTokenizerFast

    no_bos = PreTrainedTokenizerFast(tokenizer_object=tiny_tokenizer.backend_tokenizer,
                                     eos_token="</s>", pad_token="<pad>")
    assert no_bos.bos_token_id is None
    assert prompt_ids(no_bos, "the answer is") == ids(no_bos, "the answer is")


def test_long_prompt_loses_tokens_from_the_left_keeping_bos(tiny_tokenizer):
    prompt = " ".join(["the cat sat on the mat."] * 10)
    response = " the answer is 42"
    full = encode(tiny_tokenizer, prompt, response, max_length=512)
    encoded = encode(tiny_tokenizer, prompt, response, max_length=16)
    kept_response = [label for label in full.labels if label != IGNORE_INDEX]
    assert encoded.truncated and len(encoded.input_ids) == 16
    assert encoded.input_ids[0] == tiny_tokenizer.bos_token_id
    assert encoded.input_ids[-len(kept_response):] == kept_response  # response and EOS whole
    prompt_kept = 16 - len(kept_response) - 1
    assert encoded.input_ids[1:1 + prompt_kept] == full.input_ids[
        len(full.input_ids) - len(kept_response) - prompt_kept:-len(kept_response)]
    assert encoded.labels == [IGNORE_INDEX] * (1 + prompt_kept) + kept_response


def test_overlong_response_is_cut_from_the_right(tiny_tokenizer):
    response = " " + " ".join(["red green blue yellow"] * 10)
    encoded = encode(tiny_tokenizer, "the answer is", response, max_length=12)
    response_ids = ids(tiny_tokenizer, response)
    assert encoded.truncated and len(encoded.input_ids) == 12
    assert encoded.labels[0] == IGNORE_INDEX and encoded.response_tokens == 11
    assert encoded.input_ids[1:] == response_ids[:11]


@pytest.mark.parametrize("prompt,response,expected", [
    ("2 plus 2 is", "4", " 4"), ("Answer: ", "4", "4"), ("Q?\nAnswer:", " 4", " 4"),
])
def test_prompt_response_rendering_adds_one_delimiter(tiny_tokenizer, prompt, response, expected):
    assert render(Example(prompt=prompt, response=response), tiny_tokenizer) == (prompt,
                                                                                  expected)


def test_multiple_choice_options_render_like_the_answer(tiny_tokenizer):
    example = Example(prompt="Sky?\nAnswer:", response="blue", choices=("red", "blue"), answer=1)
    assert choice_texts(example) == [" red", " blue"]
    assert render(example, tiny_tokenizer)[1] == choice_texts(example)[example.answer]


def test_chat_without_template_renders_plain_turns(tiny_tokenizer):
    assert render(CHAT, tiny_tokenizer) == (
        "System: be brief\nUser: hello there\nAssistant:", " hi")


def test_chat_with_template_masks_the_templated_history(tiny_tokenizer):
    tiny_tokenizer.chat_template = TEMPLATE
    prompt, response = render(CHAT, tiny_tokenizer)
    assert prompt == "<|system|>be brief\n<|user|>hello there\n<|assistant|>"
    assert response == "hi"
    encoded = encode_example(CHAT, tiny_tokenizer, max_length=128)
    masked = encoded.labels.count(IGNORE_INDEX)
    assert encoded.input_ids[:masked] == [tiny_tokenizer.bos_token_id, *ids(tiny_tokenizer,
                                                                             prompt)]
    assert encoded.input_ids[masked:] == [*ids(tiny_tokenizer, "hi"),
                                          tiny_tokenizer.eos_token_id]


def test_collate_right_pads(tiny_tokenizer):
    short = encode(tiny_tokenizer, "the answer is", " 4", max_length=64)
    long = encode(tiny_tokenizer, "what is two plus two?", " four", max_length=64)
    batch = collate([short, long], pad_token_id=tiny_tokenizer.pad_token_id)
    width = len(long.input_ids)
    assert batch["input_ids"].shape == (2, width)
    assert batch["input_ids"][0].tolist() == short.input_ids + [tiny_tokenizer.pad_token_id] * (
        width - len(short.input_ids))
    assert batch["labels"][0].tolist() == short.labels + [IGNORE_INDEX] * (
        width - len(short.input_ids))
    assert batch["attention_mask"].sum(dim=1).tolist() == [len(short.input_ids), width]
    assert batch["labels"][1].tolist() == long.labels


def test_chat_response_takes_the_templates_own_spacing(tiny_tokenizer):
    tiny_tokenizer.chat_template = ("{% for m in messages %}{{ m.role }}: {{ m.content }}\n"
                                    "{% endfor %}{% if add_generation_prompt %}assistant:"
                                    "{% endif %}")
    prompt, response = render(CHAT, tiny_tokenizer)
    assert prompt.endswith("user: hello there\nassistant:")
    assert response == " hi"
