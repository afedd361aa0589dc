"""Scoring is read-only: batched left-padded generation matches one prompt at a time, and the
model's train/eval modes and parameters are unchanged afterwards (plain and peft models)."""

from __future__ import annotations

import pytest
import torch
from answering_model import ANSWER, build_tiny_llama, questions

from mssr.data.schema import Example
from mssr.evaluation import score_task
from mssr.evaluation.generation import generate_greedy

SCORERS = ["exact_match", "numeric", "multiple_choice", "rouge_l", "loss"]
MIXED_PROMPTS = ["Question: what?\nAnswer:", "the cat", "reverse the words: moon tree fish bird "
                 "and then the sun and the mat", "3 plus 4 is", "User: hello there\nAssistant:"]


def mixed_examples() -> list[Example]:
    return [Example(prompt=prompt, response=ANSWER, choices=(ANSWER, "17", "red"), answer=0)
            for prompt in questions(3)]


def test_left_padded_batches_generate_what_single_prompts_generate(eval_tokenizer):
    model = build_tiny_llama(eval_tokenizer, seed=3).eval()
    options = {"max_new_tokens": 8, "max_length": 64}
    batched = generate_greedy(model, eval_tokenizer, MIXED_PROMPTS, batch_size=5, **options)
    single = [generate_greedy(model, eval_tokenizer, [prompt], batch_size=1, **options)
              for prompt in MIXED_PROMPTS]
    assert batched.texts == [result.texts[0] for result in single]
    assert batched.tokens == sum(result.tokens for result in single)
    assert len(set(batched.texts)) > 1, "an untrained model should not answer every prompt alike"


def test_long_prompts_are_cut_from_the_left_to_leave_room_for_new_tokens(eval_tokenizer):
    model = build_tiny_llama(eval_tokenizer, seed=3).eval()
    result = generate_greedy(model, eval_tokenizer, [" ".join(["moon"] * 200)], batch_size=1,
                             max_new_tokens=8, max_length=32)
    assert result.tokens <= 32


@pytest.mark.parametrize("scorer", SCORERS)
@pytest.mark.parametrize("training", [True, False])
def test_scoring_restores_modes_and_leaves_parameters_alone(eval_tokenizer, scorer, training):
    model = build_tiny_llama(eval_tokenizer, seed=4).train(training)
    model.model.layers[0].train(not training)  # a mixed state must come back exactly
    modes = {name: module.training for name, module in model.named_modules()}
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    score_task(model, eval_tokenizer, mixed_examples(), scorer, max_new_tokens=4)
    assert {name: module.training for name, module in model.named_modules()} == modes
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert all(parameter.grad is None for parameter in model.parameters())


def test_a_peft_model_scores_and_keeps_training_afterwards(eval_tokenizer):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(build_tiny_llama(eval_tokenizer, seed=5),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    model.train()
    for scorer in SCORERS:
        result = score_task(model, eval_tokenizer, mixed_examples(), scorer, max_new_tokens=4)
        assert result.tokens > 0
    assert model.training
    loss = model(input_ids=torch.tensor([[1, 5, 6, 7]]), labels=torch.tensor([[1, 5, 6, 7]])).loss
    loss.backward()
    assert any(p.grad is not None for p in model.parameters() if p.requires_grad)
