"""MIR in the engine: the virtual step measures and leaves the model as it was, the run replays
the candidates whose measured loss rose most, and the ledger counts the extra passes."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from mssr.data.formatting import collate
from mssr.engine import model as model_io
from mssr.engine.interference import virtual_step_losses
from mssr.engine.recipe import ContinualRun
from mssr.engine.tasks import lookup
from mssr.losses import per_example_mean, token_losses
from mssr.replay.samplers import most_interfered

STEPS, BATCH, TASKS = 6, 8, 3


def batches(run: ContinualRun, ids: np.ndarray, size: int = 4) -> list[dict[str, torch.Tensor]]:
    examples = lookup(run.tasks, ids)
    return [collate(examples[i:i + size], run.tokenizer.pad_token_id)
            for i in range(0, len(examples), size)]


@pytest.mark.parametrize("lora", ["true", "false"])
def test_the_virtual_step_measures_one_sgd_step_and_restores_the_model(make_config, tmp_path,
                                                                       lora):
    run = ContinualRun(make_config("replay.strategy=mir", f"lora.enabled={lora}"),
                       tmp_path / "r", show_progress=False)
    run.setup()
    model, parameters = run.model, model_io.trainable_parameters(run.model)
    current = batches(run, run.tasks[1].ids[:8])
    candidates = batches(run, run.tasks[0].ids[:6])
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    held = [torch.full_like(p, 0.5) for p in parameters]  # gradients it must leave alone
    for p, grad in zip(parameters, held, strict=True):
        p.grad = grad.clone()

    before, after = virtual_step_losses(model, parameters, 0.05, current, candidates)

    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(torch.equal(p.grad, grad) for p, grad in zip(parameters, held, strict=True))
    assert model.training
    # the same measurement by hand: losses, one SGD step on the current examples, losses
    manual = copy.deepcopy(model)
    weights = model_io.trainable_parameters(manual)
    for p in weights:
        p.grad = None

    def losses() -> torch.Tensor:
        manual.eval()
        with torch.no_grad():
            return torch.cat([per_example_mean(*token_losses(manual(
                input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits,
                b["labels"])) for b in candidates])

    expected_before = losses()
    manual.train()
    token_sum = sum(token_losses(manual(input_ids=b["input_ids"],
                                        attention_mask=b["attention_mask"]).logits,
                                 b["labels"])[0].sum() for b in current)
    response_tokens = sum(int((b["labels"][:, 1:] != -100).sum()) for b in current)
    (token_sum / response_tokens).backward()
    with torch.no_grad():
        for p in weights:
            p -= 0.05 * p.grad
    torch.testing.assert_close(before, expected_before)
    torch.testing.assert_close(after, losses(), rtol=1e-5, atol=1e-6)
    assert not torch.equal(before, after)
    # a virtual step at LR 0 moves nothing: no rise, so MIR replays its uniform draw order
    still, moved = virtual_step_losses(model, parameters, 0.0, current, candidates)
    assert torch.equal(still, moved)


def test_a_mir_run_replays_the_largest_measured_rises_and_counts_the_passes(make_config,
                                                                           tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * TASKS)
    run = ContinualRun(make_config("replay.strategy=mir", "replay.mir.candidates=3",
                                   "replay.baseline.ratio=0.25"), tmp_path / "r",
                       show_progress=False)
    run.setup()
    measured, trained = [], []
    choose = run.replay.choose
    run.replay.choose = lambda plan, *args, **kw: (measured.append((plan, *args, kw)),
                                                   choose(plan, *args, **kw))[1]
    forward_backward = run.forward_backward
    run.forward_backward = lambda plan, examples: (trained.append(plan.ids.copy()),
                                                   forward_backward(plan, examples))[1]
    run.run()
    assert len(measured) == (TASKS - 1) * STEPS  # every step after the first task replays
    tokens = {"train_tokens": 0, "eval_tokens": 0}
    for plan, before, after, counts in measured:
        assert plan.pending == 2 and len(plan.candidates) == 6  # 0.25 x 8 slots, 3 x 2 drawn
        assert np.isfinite(before).all() and np.isfinite(after).all()
        step = next(i for i, ids in enumerate(trained)
                    if np.array_equal(ids[:plan.current_count], plan.ids))
        assert trained[step][plan.current_count:].tolist() == most_interfered(
            plan.candidates, before, after, plan.pending).tolist()
        lengths = [len(e.input_ids) for e in lookup(run.tasks, plan.candidates)]
        assert counts == {"train_tokens": sum(len(e.input_ids) for e in
                                              lookup(run.tasks, plan.ids)),
                          "eval_tokens": 2 * sum(lengths)}
        for key in tokens:
            tokens[key] += counts[key]
    ledger = run.progress.ledger
    assert ledger.method_train_tokens == tokens["train_tokens"] > 0
    assert ledger.method_eval_tokens == tokens["eval_tokens"] > 0
    assert ledger.replayed_examples == 2 * len(measured)
