"""The evaluation tests' tiny model: questions it is trained on and a Llama built small."""

from __future__ import annotations

ANSWER = "42"
QUESTIONS = ["what is six times seven?", "what colour is the sky?", "say the answer",
             "the cat sat on the mat.", "reverse the words: moon tree", "what is two plus two?"]


def questions(count: int) -> list[str]:
    return [f"Question: {QUESTIONS[i % len(QUESTIONS)]} ({i})\nAnswer:" for i in range(count)]


def build_tiny_llama(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    return LlamaForCausalLM(config)
