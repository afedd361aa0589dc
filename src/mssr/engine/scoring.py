"""Scores during a run: every task after the base model and after each task, the probes on
buffered examples (the accuracy baseline's, the drift law's), and results.json's content.

The functions take plain task lists and batches, so `mssr run` (through `Scoring`) and the
trainer integrations (src/mssr/integrations) score and report the same way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType

from mssr.data.formatting import IGNORE_INDEX, Encoded, collate
from mssr.data.schema import Example
from mssr.engine.distributed import broadcast
from mssr.engine.tasks import PreparedTask
from mssr.evaluation.generation import (
    generation_stop_ids,
    greedy_continuations,
    pad_token_id,
    visible_text,
)
from mssr.evaluation.model_mode import inference
from mssr.evaluation.scorers import Answers, answer_compare, answer_examples
from mssr.losses import response_exact
from mssr.replay.progress import Progress
from mssr.run_config import EvalConfig, RunConfig, config_to_dict

ScoredTask = tuple[list[Example], str]  # a task's evaluation examples and its scorer's name


def evaluate_tasks(accelerator: Accelerator, model: torch.nn.Module, tokenizer: Any,
                   tasks: Sequence[ScoredTask], settings: EvalConfig, max_length: int,
                   upto: int | None) -> list[float | None]:
    """Every task's score (or those up to index `upto`), the same on every process. Under
    FSDP every process scores (each forward pass gathers the shards); otherwise the main
    process scores the unwrapped model and shares its scores."""
    from mssr.evaluation import score_task

    sharded = accelerator.distributed_type == DistributedType.FSDP
    scores: list[float | None] = [None] * len(tasks)
    if accelerator.is_main_process or sharded:
        scored = inference_model(accelerator, model)
        for index, (examples, scorer) in enumerate(tasks[:None if upto is None else upto + 1]):
            result = score_task(scored, tokenizer, examples, scorer,
                                batch_size=settings.batch_size,
                                max_new_tokens=settings.max_new_tokens, max_length=max_length)
            scores[index] = (result.score if result.higher_is_better
                             else float(np.exp(-result.score)))
    return broadcast(scores)


def answer_everywhere(accelerator: Accelerator, model: torch.nn.Module, tokenizer: Any,
                      examples: list[Example], scorer: str, settings: EvalConfig,
                      max_length: int) -> Answers:
    """The model's greedy answers to `examples`' prompts, judged by `scorer`
    (evaluation/scorers.py's `answer_examples`), the same on every process: generated as
    `evaluate_tasks` scores (the main process, or every process under FSDP)."""
    sharded = accelerator.distributed_type == DistributedType.FSDP
    answers = None
    if accelerator.is_main_process or sharded:
        answers = answer_examples(inference_model(accelerator, model), tokenizer, examples,
                                  scorer, batch_size=settings.batch_size,
                                  max_new_tokens=settings.max_new_tokens, max_length=max_length)
    return broadcast(answers)


def inference_model(accelerator: Accelerator, model: torch.nn.Module) -> torch.nn.Module:
    """The model that scoring and generation run through: the unwrapped one, or under FSDP
    the sharded one (each forward pass gathers the shards)."""
    sharded = accelerator.distributed_type == DistributedType.FSDP
    return model if sharded else accelerator.unwrap_model(model)


def probe_accuracy(model: torch.nn.Module, batches: Iterable[dict[str, torch.Tensor]],
                   device: torch.device) -> np.ndarray:
    """The accuracy baseline's probe: per example of the batches, 1.0 when greedy next-token
    prediction gets every response token right (labels -100 elsewhere), else 0.0."""
    right = []
    with inference(model):
        for batch in batches:
            logits = model(input_ids=batch["input_ids"].to(device),
                           attention_mask=batch["attention_mask"].to(device)).logits
            right.append(response_exact(logits, batch["labels"].to(device)).cpu().numpy())
    return np.concatenate(right).astype(np.float64) if right else np.zeros(0)


def probe_drift(model: torch.nn.Module, tokenizer: Any,
                batches: Iterable[dict[str, torch.Tensor]],
                answer_tokens: int) -> tuple[np.ndarray, int]:
    """The drift law's probe: per example of the batches, the share of its first
    min(`answer_tokens`, response length) response tokens that greedy decoding from its prompt
    (the tokens before its response) reproduces, position by position (a decode that stops
    early, at a stop token as the scorers' generation stops, misses the rest); and the tokens
    spent, prompts + generated. `model` generates (`inference_model`)."""
    stops, pad = generation_stop_ids(model, tokenizer), pad_token_id(tokenizer)
    scores, tokens = [], 0
    with inference(model):
        for batch in batches:
            prompts, targets = zip(*answer_spans(batch), strict=True)
            decoded = greedy_continuations(model, list(prompts), answer_tokens, stops, pad)
            for target, new in zip(targets, decoded, strict=True):
                compared = target[:answer_tokens]
                scores.append(np.mean([i < len(new) and new[i] == token
                                       for i, token in enumerate(compared)]))
            tokens += sum(map(len, prompts)) + sum(map(len, decoded))
    return np.asarray(scores, np.float64), tokens


def answer_rows(model: torch.nn.Module, tokenizer: Any,
                batches: Iterable[dict[str, torch.Tensor]], scorer: str,
                max_new_tokens: int) -> Answers:
    """`replay.targets: self` on tokenized rows (the trainer integrations'): per row of the
    batches, the model's greedy answer to its prompt (the tokens before its response, as
    `answer_spans` splits it; up to `max_new_tokens`, stopped as the scorers' generation
    stops) and whether `scorer` gives it full credit against the row's response, both texts
    decoded without special tokens as the generation scorers compare them (`token_f1` has no
    gold answers here: the response is the reference). A multiple-choice scorer answers
    nothing (texts None, none accepted: the stored choice stays), as `answer_examples`;
    `loss` is a ConfigError. `tokens`: prompts + generated. `model` generates
    (`inference_model`)."""
    compare = answer_compare(scorer)
    texts: list[str | None] = []
    accepted: list[bool] = []
    tokens = 0
    stops, pad = generation_stop_ids(model, tokenizer), pad_token_id(tokenizer)
    with inference(model):
        for batch in batches:
            spans = answer_spans(batch)
            if compare is None:
                texts += [None] * len(spans)
                accepted += [False] * len(spans)
                continue
            prompts = [prompt for prompt, _ in spans]
            decoded = greedy_continuations(model, prompts, max_new_tokens, stops, pad)
            for (_, response), new in zip(spans, decoded, strict=True):
                answer = visible_text(tokenizer, tokenizer.decode(new))
                reference = visible_text(tokenizer, tokenizer.decode(response))
                texts.append(answer)
                accepted.append(compare(answer, reference, None) >= 1.0)
            tokens += sum(map(len, prompts)) + sum(map(len, decoded))
    return Answers(texts=texts, accepted=accepted, tokens=tokens)


def answer_spans(batch: dict[str, torch.Tensor]) -> list[tuple[list[int], list[int]]]:
    """Each row's prompt (its tokens before the first response token) and response tokens,
    padding dropped (by the attention mask, on either side)."""
    mask = batch.get("attention_mask")
    spans = []
    for row, (ids, labels) in enumerate(zip(batch["input_ids"], batch["labels"], strict=True)):
        if mask is not None:
            kept = mask[row].bool()
            ids, labels = ids[kept], labels[kept]
        response = (labels != IGNORE_INDEX).nonzero().flatten()
        if not len(response):
            raise ValueError(f"probe row {row} has no response tokens to compare")
        spans.append((ids[:int(response[0])].tolist(), labels[response].tolist()))
    return spans


def results_record(*, strategy: str, seed: int, tasks: Sequence[str], scorers: Sequence[str],
                   progress: Progress, replay: dict[str, Any], config: dict[str, Any],
                   joint: bool = False) -> dict[str, Any]:
    """results.json's content (schema in the README); `replay` is the replay driver's record
    (compute ledger, budget, timeline, snapshots, calibration, resolved replay settings),
    `config` the run's settings."""
    from mssr.evaluation.metrics import continual_metrics
    from mssr.report.results import library_versions

    if joint:
        final = progress.acc_rows[-1]
        rows = [[None] * len(tasks) for _ in tasks[:-1]] + [final]
        metrics = {"ap": float(np.mean(final)), "bwt": None, "fwt": None, "forgetting": None}
    else:
        rows = progress.acc_rows
        metrics = continual_metrics(rows, progress.base_scores)
    return {
        "schema_version": 1,
        "strategy": strategy,
        "seed": seed,
        "tasks": list(tasks),
        "scorers": dict(zip(tasks, scorers, strict=True)),
        "base_scores": progress.base_scores,
        "acc_matrix": rows,
        "metrics": metrics,
        **replay,
        "versions": library_versions(),
        "config": config,
    }


class Scoring:
    """Evaluates the run's tasks with its model and tokenizer."""

    def __init__(self, config: RunConfig, tasks: list[PreparedTask], tokenizer: Any,
                 accelerator: Accelerator):
        self.config, self.tasks, self.tokenizer = config, tasks, tokenizer
        self.accelerator = accelerator

    def evaluate(self, model: torch.nn.Module, upto: int | None) -> list[float | None]:
        """Every task's score (or those up to index `upto`), the same on every process."""
        return evaluate_tasks(self.accelerator, model, self.tokenizer,
                              [(task.data.eval, task.data.scorer) for task in self.tasks],
                              self.config.eval, self.config.model.max_length, upto)

    def answer(self, model: torch.nn.Module, examples: list[Example], scorer: str) -> Answers:
        """The model's answers to `examples`' prompts, judged by `scorer`, on every process."""
        return answer_everywhere(self.accelerator, model, self.tokenizer, examples, scorer,
                                 self.config.eval, self.config.model.max_length)

    def probe(self, model: torch.nn.Module, examples: list[Encoded],
              answer_tokens: int) -> tuple[np.ndarray, int]:
        """A probe of `examples` through the training model, on every process identically:
        each one's score and the tokens spent. `answer_tokens` 0: the accuracy baseline's
        (`probe_accuracy`; every example's tokens); n > 0: the drift law's (`probe_drift`)."""
        size, pad = self.config.eval.batch_size, self.tokenizer.pad_token_id
        batches = (collate(examples[start:start + size], pad)
                   for start in range(0, len(examples), size))
        if not answer_tokens:
            return (probe_accuracy(model, batches, self.accelerator.device),
                    sum(len(e.input_ids) for e in examples))
        return probe_drift(inference_model(self.accelerator, model), self.tokenizer, batches,
                           answer_tokens)

    def results(self, progress: Progress, replay: dict[str, Any]) -> dict[str, Any]:
        """results.json's content for this run (`replay`: the replay driver's record)."""
        config = self.config
        return results_record(strategy=config.strategy_name, seed=config.seed,
                              tasks=[task.name for task in self.tasks],
                              scorers=[task.data.scorer for task in self.tasks],
                              progress=progress, replay=replay,
                              config=config_to_dict(config), joint=config.joint)
