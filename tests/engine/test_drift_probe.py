"""The drift law's probe in the engine (issue 20): each probed answer's first tokens are
greedily decoded and matched against the target, and the ledger's `method_eval_tokens` grows
by exactly what the decoding processed (prompts + generated tokens)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mssr.data.formatting import IGNORE_INDEX, Encoded, collate
from mssr.engine import scoring
from mssr.engine.launch import execute
from mssr.engine.recipe import ContinualRun
from mssr.engine.tasks import lookup

STEPS, TASKS, EOS, PAD = 6, 3, 2, 0
DRIFT = ("replay.strategy=mssr", "replay.schedule.law=drift", "replay.schedule.drift_every=2",
         "replay.schedule.drift_prompts=3", "replay.schedule.drift_tokens=3")


class Scripted(torch.nn.Module):
    """A model whose greedy continuation of each prompt is scripted; it pads after a stop."""

    def __init__(self, continuations: dict[tuple[int, ...], list[int]]):
        super().__init__()
        self.continuations = continuations
        self.device = torch.device("cpu")

    def generate(self, input_ids, attention_mask, max_new_tokens, pad_token_id, eos_token_id,
                 **kwargs):
        rows = []
        for ids, mask in zip(input_ids, attention_mask, strict=True):
            new = self.continuations[tuple(ids[mask.bool()].tolist())][:max_new_tokens]
            rows.append(ids.tolist() + new + [pad_token_id] * (max_new_tokens - len(new)))
        return torch.tensor(rows)


def encoded(prompt: list[int], response: list[int]) -> Encoded:
    return Encoded(prompt + response, [IGNORE_INDEX] * len(prompt) + response, truncated=False)


EXAMPLES = [encoded([1, 5, 6], [7, 8, 9, EOS]),  # decodes 7 8 3: 2 of the first 3 right
            encoded([1, 5], [4, EOS]),  # decodes 4 EOS: both of its 2 tokens right
            encoded([1, 9, 9, 9], [5, 6, 7, EOS])]  # stops at once: none right
MODEL = Scripted({(1, 5, 6): [7, 8, 3, 9], (1, 5): [4, EOS], (1, 9, 9, 9): [EOS]})


def left_padded(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The same rows padded on the left, as a host trainer's collator may pad them."""
    flipped = {}
    for key, pad in (("input_ids", PAD), ("labels", IGNORE_INDEX), ("attention_mask", 0)):
        rows = [row[mask.bool()] for row, mask in zip(batch[key], batch["attention_mask"],
                                                      strict=True)]
        width = max(len(row) for row in rows)
        flipped[key] = torch.stack([torch.cat([torch.full((width - len(row),), pad), row])
                                    for row in rows])
    return flipped


@pytest.mark.parametrize("padding", ["right", "left"])
def test_probe_drift_matches_the_first_answer_tokens_and_counts_prompts_and_generation(
        engine_assets, padding):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(engine_assets["model"])
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (EOS, PAD)
    batch = collate(EXAMPLES, PAD)
    batches = [batch if padding == "right" else left_padded(batch)]
    scores, tokens = scoring.probe_drift(MODEL, tokenizer, batches, answer_tokens=3)
    np.testing.assert_allclose(scores, [2 / 3, 1.0, 0.0])
    assert tokens == (3 + 2 + 4) + (3 + 2 + 1)  # prompts + generated up to a stop, at most 3


def test_a_run_with_the_drift_law_counts_exactly_its_decoding_as_method_eval_tokens(
        make_config, tmp_path, monkeypatch):
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * TASKS)
    decoded = []
    continuations = scoring.greedy_continuations
    monkeypatch.setattr(scoring, "greedy_continuations", lambda model, prompts, *args: (
        decoded.append((prompts, result := continuations(model, prompts, *args))), result)[1])
    run = ContinualRun(make_config(*DRIFT), tmp_path / "r", show_progress=False)
    run.setup()
    reported = []
    report = run.replay.report_probe
    run.replay.report_probe = lambda ids, scores, tokens: (
        reported.append((run.progress.global_step, ids.tolist(), scores, tokens)),
        report(ids, scores, tokens))[1]
    run.run()
    # probes at steps 0, 2, 4 of tasks 2 and 3: task 1's 3 prompts, then tasks 1 and 2's
    assert [step for step, *_ in reported] == [6, 8, 10, 12, 14, 16]
    assert [len(ids) for _, ids, _, _ in reported] == [3, 3, 3, 6, 6, 6]
    probed = [i for _, ids, _, _ in reported for i in ids]
    prompts = [e.input_ids[:e.labels.index(next(t for t in e.labels if t != IGNORE_INDEX))]
               for e in lookup(run.tasks, np.array(probed))]
    assert [p for batch, _ in decoded for p in batch] == prompts
    assert all(len(new) <= 3 for _, news in decoded for new in news)
    counted = sum(map(len, prompts)) + sum(len(new) for _, news in decoded for new in news)
    assert sum(tokens for *_, tokens in reported) == counted
    assert run.progress.ledger.method_eval_tokens == counted > 0
    assert all(len(scores) == len(ids) and ((0 <= scores) & (scores <= 1)).all()
               for _, ids, scores, _ in reported)


def test_mssr_run_trains_with_the_drift_law_and_logs_its_probes(make_config):
    run_dir, results = execute(make_config(*DRIFT, "replay.schedule.drift_drop=0",
                                           "lora.enabled=false"), show_progress=False)
    assert results["resolved_replay"]["schedule"]["law"] == "drift"
    compute = results["compute"]
    assert compute["method_eval_tokens"] > 0 and compute["replayed_examples"] > 0
    steps = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps if "probe" in s["events"]] == [6, 8, 10, 12, 14, 16]
    assert all(s["task"] > 0 for s in steps if s["replayed"])
