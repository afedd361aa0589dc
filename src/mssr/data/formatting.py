"""From an `Example` to model text and token ids: the one place training, evaluation and replay
agree on how a prompt and its response are joined and masked."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mssr.data.schema import Example
from mssr.errors import DataError

IGNORE_INDEX = -100
TARGET_DELIMITER = " "  # between a prompt and its response, as lm-evaluation-harness
_GENERATION_BLOCK = re.compile(r"\{%-?\s*generation\s*-?%\}")


def render(example: Example, tokenizer: Any) -> tuple[str, str]:
    """(prompt text, response text). The response carries its leading delimiter, so scoring a
    multiple-choice option and training on the answer see the same tokens; a chat response
    ends with the template's end-of-turn token."""
    if example.messages is not None:
        return _render_chat(example.messages, tokenizer, example.source)
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
    return _with_bos(ids, tokenizer.bos_token_id)


def encode(tokenizer: Any, prompt_text: str, response_text: str, max_length: int,
           add_eos: bool = True) -> Encoded:
    """Ids and labels of prompt + response (+ EOS unless the response already ends in a
    special token, as a chat template's end-of-turn)."""
    response = tokenizer(response_text, add_special_tokens=False)["input_ids"]
    return _assemble(tokenizer, prompt_ids(tokenizer, prompt_text), response, max_length,
                     add_eos)


def encode_example(example: Example, tokenizer: Any, max_length: int) -> Encoded:
    """The training view of an example: from the template's own assistant mask when its chat
    template marks assistant tokens (`{% generation %}`), else `encode` of `render`."""
    if example.messages is not None and _marks_assistant_tokens(tokenizer):
        prompt, response = _split_by_assistant_mask(example, tokenizer)
        return _assemble(tokenizer, _with_bos(prompt, tokenizer.bos_token_id), response,
                         max_length, add_eos=True)
    prompt_text, response_text = render(example, tokenizer)
    return encode(tokenizer, prompt_text, response_text, max_length)


def with_response(example: Example, response: str) -> Example:
    """`example` answered with `response` instead of its own (a chat example's last turn too):
    `encode_example` of it is the training view with that answer as the target."""
    if example.messages is None:
        return dataclasses.replace(example, response=response)
    messages = (*example.messages[:-1], {**example.messages[-1], "content": response})
    return dataclasses.replace(example, response=response, messages=messages)


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The ids that end an answer: EOS, and the token that closes an assistant turn in
    training (the chat template's end-of-turn, e.g. <|im_end|>, <|eot_id|>, <end_of_turn>)."""
    stops = [] if tokenizer.eos_token_id is None else [tokenizer.eos_token_id]
    if _chat_template(tokenizer) is not None:
        probe = Example(prompt="", response="", source="<end-of-turn probe>", messages=(
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hi"}))
        turn_end = encode_example(probe, tokenizer, max_length=4096).labels[-1]
        if _is_special(tokenizer, turn_end) and turn_end not in stops:
            stops.append(turn_end)
    return stops


def _assemble(tokenizer: Any, prompt: list[int], response: list[int], max_length: int,
              add_eos: bool) -> Encoded:
    """Over-long examples lose prompt tokens from the left first (the response is what is
    learned; BOS stays first), then response tokens from the right."""
    eos = tokenizer.eos_token_id
    if add_eos and eos is not None and not (response and _is_special(tokenizer, response[-1])):
        response = [*response, eos]
    truncated = len(prompt) + len(response) > max_length
    if truncated:
        response = response[:max_length - 1]
        prompt = _keep_last(prompt, max_length - len(response), tokenizer.bos_token_id)
    return Encoded(input_ids=prompt + response,
                   labels=[IGNORE_INDEX] * len(prompt) + list(response),
                   truncated=truncated)


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


def _with_bos(ids: list[int], bos: int | None) -> list[int]:
    if bos is not None and (not ids or ids[0] != bos):
        return [bos, *ids]
    return ids


def _is_special(tokenizer: Any, token_id: int) -> bool:
    added = tokenizer.added_tokens_decoder.get(token_id)
    return token_id in tokenizer.all_special_ids or (added is not None and added.special)


def _chat_template(tokenizer: Any) -> str | None:
    template = getattr(tokenizer, "chat_template", None)
    return template if isinstance(template, str) and template else None


def _marks_assistant_tokens(tokenizer: Any) -> bool:
    template = _chat_template(tokenizer)
    return template is not None and _GENERATION_BLOCK.search(template) is not None


def _apply_template(tokenizer: Any, messages: list[dict], source: str, **options: Any) -> Any:
    """`apply_chat_template`, with a template's own refusal (e.g. Gemma's "Conversation roles
    must alternate") reported against the record."""
    from jinja2.exceptions import TemplateError

    try:
        return tokenizer.apply_chat_template(messages, **options)
    except TemplateError as error:
        raise DataError(source or "<example>", f"the model's chat template rejects this "
                        f"conversation: {error}", field="messages") from None


def _render_chat(messages: tuple[dict, ...], tokenizer: Any, source: str) -> tuple[str, str]:
    """With a chat template: the prompt is the history with the template's generation prompt,
    the response the text the template writes for the last turn (its end-of-turn included)."""
    history, last = list(messages[:-1]), messages[-1]
    if _chat_template(tokenizer) is None:
        prompt = plain_chat_prompt(history)
        return prompt, _with_delimiter(prompt, last["content"])
    history = _fold_system_turn(history, tokenizer)
    prompt = _apply_template(tokenizer, history, source, tokenize=False,
                             add_generation_prompt=True)
    whole = _apply_template(tokenizer, [*history, last], source, tokenize=False)
    if whole.startswith(prompt):
        return prompt, whole[len(prompt):].rstrip()
    # The template moves earlier turns once the conversation ends with the answer (Mistral's
    # puts the system message into the last user turn): take the answer's rendering after
    # that user turn alone.
    alone_prompt = _apply_template(tokenizer, history[-1:], source, tokenize=False,
                                   add_generation_prompt=True)
    alone = _apply_template(tokenizer, [*history[-1:], last], source, tokenize=False)
    if alone.startswith(alone_prompt):
        return prompt, alone[len(alone_prompt):].rstrip()
    return prompt, _with_delimiter(prompt, last["content"])


def _fold_system_turn(messages: list[dict], tokenizer: Any) -> list[dict]:
    """A leading system turn, for a template without a system role (Gemma's): its text opens
    the first user turn instead, as Gemma's model card advises."""
    if len(messages) < 2 or messages[0]["role"] != "system" or _accepts_system_role(tokenizer):
        return messages
    system, first, *rest = messages
    return [{**first, "content": f"{system['content']}\n\n{first['content']}"}, *rest]


def _accepts_system_role(tokenizer: Any) -> bool:
    from jinja2.exceptions import TemplateError

    probe = [{"role": "system", "content": "a"}, {"role": "user", "content": "b"}]
    try:
        tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
    except TemplateError:
        return False
    return True


def _split_by_assistant_mask(example: Example, tokenizer: Any) -> tuple[list[int], list[int]]:
    """(prompt ids, response ids) of a conversation from the template's assistant mask: the
    response is the last assistant turn's marked tokens, plus the end-of-turn token right after
    them when the template leaves it outside its `{% generation %}` block."""
    assert example.messages is not None
    messages = _fold_system_turn(list(example.messages), tokenizer)
    rendered = _apply_template(tokenizer, messages, example.source,
                               tokenize=True, return_dict=True,
                               return_assistant_tokens_mask=True)
    ids, mask = list(rendered["input_ids"]), list(rendered["assistant_masks"])
    marked = [index for index, flag in enumerate(mask) if flag]
    if not marked:
        raise DataError(example.source or "<example>", "the chat template marks no assistant "
                        "tokens in this conversation", field="messages")
    end = marked[-1] + 1
    start = end
    while start > 0 and mask[start - 1]:
        start -= 1
    if end < len(ids) and _is_special(tokenizer, ids[end]) and not _is_special(tokenizer,
                                                                              ids[end - 1]):
        end += 1
    return ids[:start], ids[start:end]
