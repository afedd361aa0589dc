"""`replay.targets: self` through `mssr run`'s engine: the model answers each finished task's
buffered prompts, replay trains on the accepted answers, the ledger and results.json count the
answering, and a scorer that cannot judge an answer is refused before any model loads."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mssr.engine import model as model_io
from mssr.engine import recipe
from mssr.engine.launch import execute
from mssr.engine.recipe import ContinualRun
from mssr.engine.scoring import Scoring
from mssr.engine.tasks import ID_STRIDE
from mssr.errors import ConfigError
from mssr.evaluation.scorers import CHOICE_SCORERS, Answers

SELF = ("replay.strategy=uniform", "replay.targets=self", "lora.enabled=false")


def test_each_task_end_answers_the_buffer_and_the_ledger_counts_it(make_config):
    """The tiny model's real answers: arithmetic (generated) and choice (nothing generated)
    are answered, chat, the last task, is not; results.json passes its schema (execute
    validates it)."""
    run_dir, _ = execute(make_config(*SELF), show_progress=False)
    results = json.loads((run_dir / "results.json").read_text())
    first, second = results["replay_targets"]
    assert (first["task"], first["buffered"], first["answered"]) == (0, 8, 8)
    assert (second["task"], second["buffered"], second["answered"]) == (1, 8, 0)
    assert first["tokens"] > 8 and second["tokens"] == 0 and second["accepted"] == 0
    compute = results["compute"]
    assert compute["target_tokens"] == first["tokens"] + second["tokens"]
    assert compute["target_seconds"] > 0 and compute["method_eval_tokens"] == 0
    assert results["resolved_replay"]["targets"] == "self"
    # the memory ledger took the answers: a buffered example answered wrong was never learned
    assert results["buffer_learned"][0]["learned"] <= first["accepted"]
    stored_dir, _ = execute(make_config("replay.strategy=uniform", "lora.enabled=false",
                                        f"output={run_dir.parent / 'stored'}"),
                            show_progress=False)
    stored = json.loads((stored_dir / "results.json").read_text())
    assert stored["replay_targets"] == [] and stored["compute"]["target_tokens"] == 0


@pytest.mark.parametrize("rejected", ["stored", "drop"])
def test_replay_trains_on_the_accepted_answers(make_config, tmp_path, monkeypatch, rejected):
    """The scorer's verdict is pinned (every other buffered example accepted, answer "7"), the
    batches are the engine's own: an accepted id replays its answer, a rejected one its stored
    example (kept) or never (dropped); current-task examples are never replaced."""
    real = Scoring.answer

    def pinned(self, model, examples, scorer):
        if scorer in CHOICE_SCORERS:  # nothing is generated: the real answer
            return real(self, model, examples, scorer)
        return Answers(texts=["7"] * len(examples),
                       accepted=[row % 2 == 0 for row in range(len(examples))],
                       tokens=3 * len(examples))
    monkeypatch.setattr(Scoring, "answer", pinned)
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * 3)
    trained, original = [], recipe.lookup

    def recording(tasks, ids, replaced=None):
        examples = original(tasks, ids, replaced)
        trained.append((run.progress.task, np.array(ids), examples))
        return examples
    monkeypatch.setattr(recipe, "lookup", recording)
    run = ContinualRun(make_config(*SELF, f"replay.targets_rejected={rejected}"),
                       tmp_path / "run", show_progress=False)
    run.setup()
    run.run()
    records = run.progress.replay_targets
    assert [r["accepted"] for r in records] == [4, 0]  # choice: nothing generated
    assert [r["dropped"] for r in records] == ([4, 0] if rejected == "drop" else [0, 0])
    accepted = set(run.replay.targets())
    assert len(accepted) == 4 and all(i // ID_STRIDE == 0 for i in accepted)
    seen_accepted = 0
    for current, ids, examples in trained:
        for example_id, example in zip(ids.tolist(), examples, strict=True):
            task, row = divmod(example_id, ID_STRIDE)
            stored = run.tasks[task].encoded[row]
            if example_id in accepted and task < current:  # replayed after its task's end
                seen_accepted += 1
                text = run.tokenizer.decode(example.input_ids, skip_special_tokens=True)
                assert example is run.replaced[example_id] and text.endswith(" 7")
            else:
                assert example is stored
                assert not (rejected == "drop" and task == 0 < current)  # dropped: never again
    assert seen_accepted > 0
    buffered = set(run.replay.strategy.buffer_ids.tolist())
    task0 = {i for i in buffered if i // ID_STRIDE == 0}
    assert task0 == (accepted if rejected == "drop" else task0) and len(task0) == (
        4 if rejected == "drop" else 8)


def test_a_loss_scored_task_refuses_self_targets_before_any_model_loads(make_config, tmp_path,
                                                                       monkeypatch,
                                                                       engine_assets):
    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded")
    monkeypatch.setattr(model_io, "load_model", no_model)
    tasks = [{"name": name, "train": str(path), "max_eval_examples": 8,
              "scorer": "loss" if name == "choice" else "auto"}
             for name, path in engine_assets["tasks"].items()]
    config = make_config(*SELF, f"tasks={json.dumps(tasks)}")
    with pytest.raises(ConfigError, match=r"replay\.targets.*task 'choice'.*'loss'.*"
                                          r"tasks\[choice\]\.scorer"):
        ContinualRun(config, tmp_path / "run", show_progress=False).setup()
