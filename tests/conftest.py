"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

TINY_TOKENIZER_TEXTS = [
    "the answer is 42", "what is two plus two? four", "3 plus 4 is 7", "-3.5 and 1,000",
    "Question: what colour is the sky?\nAnswer: blue", "red green blue yellow",
    "User: hello there\nAssistant: hi, how can I help?", "System: be brief",
    "the cat sat on the mat. the dog ran in the sun.", "reverse the words: moon tree fish bird",
]


@pytest.fixture(scope="session")
def _tiny_tokenizer_json() -> str:
    """A byte-level BPE (round-trips any text) trained on a few sentences, serialised once."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(TINY_TOKENIZER_TEXTS * 4, trainer)
    return tokenizer.to_str()


@pytest.fixture
def tiny_tokenizer(_tiny_tokenizer_json):
    """A fresh transformers fast tokenizer (pad 0, BOS 1, EOS 2, no chat template), so a test
    may set `chat_template` or other attributes without affecting the next one."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(_tiny_tokenizer_json),
                                   bos_token="<s>", eos_token="</s>", pad_token="<pad>")
