"""From an `Example` to model text and token ids: the one place training, evaluation and replay
agree on how a prompt and its response are joined and masked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mssr.data.schema import Example

IGNORE_INDEX = -100
TARGET_DELIMITER = " "  # between a prompt and its response, as lm-evaluation-harness


def render(example: Example, tokenizer: Any) -> tuple[str, str]:
    """(prompt text, response text). The response carries its leading delimiter, so scoring a
    multiple-choice option and training on the answer see the same tokens."""
    if example.messages is not None:
        return _render_chat(example.messages, tokenizer)
    return example.prompt, _with_delimiter(example.prompt, example.response)


def choice_texts(example: Example) -> list[str]:
    """The continuation text of every option of a multiple-choice example."""
    assert example.choices is not None
    return [_with_delimiter(example.prompt, choice) for choice in example.choices]


@dataclass(frozen=True)
class Encoded:
    """Token ids of one example; `labels` masks the prompt with IGNORE_INDEX."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def response_tokens(self) -> int:
        return sum(label != IGNORE_INDEX for label in self.labels)


def prompt_ids(tokenizer: Any, prompt_text: str) -> list[int]:
    """Token ids of a prompt, with the tokenizer's BOS when it has one."""
    ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    bos = tokenizer.bos_token_id
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos, *ids]
    return ids


def encode(tokenizer: Any, prompt_text: str, response_text: str, max_length: int,
           add_eos: bool = True) -> Encoded:
    """Ids and labels of prompt + response (+ EOS). Over-long examples lose prompt tokens from
    the left first (the response is what is learned; BOS stays first), then response tokens
    from the right."""
    prompt = prompt_ids(tokenizer, prompt_text)
    response = tokenizer(response_text, add_special_tokens=False)["input_ids"]
    if add_eos and tokenizer.eos_token_id is not None:
        response = [*response, tokenizer.eos_token_id]
    truncated = len(prompt) + len(response) > max_length
    if truncated:
        response = response[:max_length - 1]
        prompt = _keep_last(prompt, max_length - len(response), tokenizer.bos_token_id)
    return Encoded(input_ids=prompt + response,
                   labels=[IGNORE_INDEX] * len(prompt) + list(response),
                   truncated=truncated)


def encode_example(example: Example, tokenizer: Any, max_length: int) -> Encoded:
    """`encode` of `render`: the training view of an example."""
    prompt_text, response_text = render(example, tokenizer)
    return encode(tokenizer, prompt_text, response_text, max_length)


def collate(batch: list[Encoded], pad_token_id: int) -> dict[str, Any]:
    """Right-padded tensors input_ids, attention_mask and labels for a causal LM."""
    import torch

    width = max(len(item.input_ids) for item in batch)
    input_ids = torch.full((len(batch), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        length = len(item.input_ids)
        input_ids[row, :length] = torch.tensor(item.input_ids)
        labels[row, :length] = torch.tensor(item.labels)
        attention_mask[row, :length] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def plain_chat_prompt(history: Sequence[dict]) -> str:
    """Chat turns as "Role: content" lines ending in an open "Assistant:" turn: the rendering
    used when a tokenizer has no chat template, and the plain `Example.prompt` of chat data."""
    lines = [f"{turn['role'].capitalize()}: {turn['content']}" for turn in history]
    return "\n".join(lines) + "\nAssistant:"


def _keep_last(prompt: list[int], keep: int, bos: int | None) -> list[int]:
    """The last `keep` prompt tokens, with a leading BOS kept in front: models are trained
    with it at position 0."""
    if keep > 1 and bos is not None and prompt and prompt[0] == bos:
        return [bos, *prompt[len(prompt) - keep + 1:]]
    return prompt[len(prompt) - keep:]


def _with_delimiter(prompt: str, response: str) -> str:
    if not prompt or prompt[-1].isspace() or (response and response[0].isspace()):
        return response
    return TARGET_DELIMITER + response


def _render_chat(messages: tuple[dict, ...], tokenizer: Any) -> tuple[str, str]:
    """With a chat template, the response is what the template writes after the generation
    prompt for the whole conversation (its spacing and end-of-turn text included)."""
    history, last = list(messages[:-1]), messages[-1]
    if not getattr(tokenizer, "chat_template", None):
        prompt = plain_chat_prompt(history)
        return prompt, _with_delimiter(prompt, last["content"])
    prompt = tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=True)
    whole = tokenizer.apply_chat_template(list(messages), tokenize=False)
    if whole.startswith(prompt):
        return prompt, whole[len(prompt):].rstrip()
    return prompt, _with_delimiter(prompt, last["content"])
