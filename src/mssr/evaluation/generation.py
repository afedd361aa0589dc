"""Batched greedy generation with left padding: each prompt's continuation, new tokens only,
stopped at EOS or the chat template's end-of-turn and decoded without special tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mssr.data.formatting import encode, stop_token_ids


@dataclass(frozen=True)
class Generations:
    """Decoded continuations in prompt order, and the tokens spent (prompts + generated)."""

    texts: list[str]
    tokens: int


def generate_greedy(model: Any, tokenizer: Any, prompts: list[str], *, batch_size: int,
                    max_new_tokens: int, max_length: int) -> Generations:
    """Greedy continuations of `prompts`, stopped at a stop token. Prompts longer than
    `max_length - max_new_tokens` lose tokens from the left (BOS kept), as in training."""
    prompt_budget = max(max_length - max_new_tokens, 1)
    encoded = [encode(tokenizer, prompt, "", prompt_budget, add_eos=False).input_ids
               for prompt in prompts]
    stops = generation_stop_ids(model, tokenizer)
    texts: list[str] = []
    tokens = 0
    for start in range(0, len(encoded), batch_size):
        chunk_texts, chunk_tokens = _generate_batch(model, tokenizer,
                                                    encoded[start:start + batch_size],
                                                    max_new_tokens, stops)
        texts += chunk_texts
        tokens += chunk_tokens
    return Generations(texts=texts, tokens=tokens)


def generation_stop_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokenizer's stop ids (EOS, the template's end-of-turn) and the model's own
    `generation_config.eos_token_id` (one id or several, as Llama 3 and Gemma 2 ship)."""
    stops = stop_token_ids(tokenizer)
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for token in [configured] if isinstance(configured, int) else configured or []:
        if token not in stops:
            stops.append(token)
    return stops


def visible_text(tokenizer: Any, text: str) -> str:
    """`text` as a decoded generation reads: special tokens (e.g. an end-of-turn) dropped."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids, skip_special_tokens=True)


def pad_token_id(tokenizer: Any) -> int:
    """The tokenizer's pad id, else its EOS id (many causal LMs have no pad token)."""
    pad = tokenizer.pad_token_id
    return pad if pad is not None else tokenizer.eos_token_id


def _generate_batch(model: Any, tokenizer: Any, batch: list[list[int]],
                    max_new_tokens: int, stops: list[int]) -> tuple[list[str], int]:
    continuations = greedy_continuations(model, batch, max_new_tokens, stops,
                                         pad_token_id(tokenizer))
    tokens = sum(len(ids) for ids in batch) + sum(len(new) for new in continuations)
    return [tokenizer.decode(new, skip_special_tokens=True) for new in continuations], tokens


def greedy_continuations(model: Any, prompts: list[list[int]], max_new_tokens: int,
                         stops: list[int], pad: int) -> list[list[int]]:
    """Greedy continuations of token-id `prompts`, generated as one left-padded batch: each
    one's new ids, up to and including its first stop id."""
    import torch

    width = max(len(ids) for ids in prompts)
    input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, ids in enumerate(prompts):
        input_ids[row, width - len(ids):] = torch.tensor(ids)
        attention_mask[row, width - len(ids):] = 1
    output = model.generate(input_ids=input_ids.to(model.device),
                            attention_mask=attention_mask.to(model.device), do_sample=False,
                            max_new_tokens=max_new_tokens, pad_token_id=pad,
                            eos_token_id=stops)
    return [_until_stop(row, stops) for row in output[:, width:].tolist()]


def _until_stop(ids: list[int], stops: list[int]) -> list[int]:
    """The generated ids up to and including the first stop id (later ids are padding)."""
    ends = [index for index, token in enumerate(ids) if token in stops]
    return ids[:ends[0] + 1] if ends else ids
