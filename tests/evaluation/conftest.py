"""A tiny Llama trained in-process to answer " 42" to every question: scorers have a model
whose right and wrong answers are known."""

from __future__ import annotations

import pytest
from answering_model import ANSWER, build_tiny_llama, questions

from mssr.data.schema import Example


@pytest.fixture(scope="session")
def eval_tokenizer(_tiny_tokenizer_json):
    """The shared tiny tokenizer, built once for the session's trained model."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_tiny_tokenizer_json),
                                   bos_token="<s>", eos_token="</s>", pad_token="<pad>")


@pytest.fixture(scope="session")
def answering_model(eval_tokenizer):
    """A tiny Llama trained until it answers " 42" + EOS to any of the questions."""
    import torch

    from mssr.data.formatting import collate, encode_example

    model = build_tiny_llama(eval_tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batch = collate([encode_example(Example(prompt=q, response=ANSWER), eval_tokenizer, 64)
                     for q in questions(24)], eval_tokenizer.pad_token_id)
    model.train()
    for _ in range(60):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert loss.item() < 0.05, f"the tiny model did not learn its answer (loss {loss.item()})"
    return model
