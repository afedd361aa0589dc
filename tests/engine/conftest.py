"""A tiny model and three tiny tasks (one per record format) for end-to-end engine tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mssr.run_config import RunConfig, load_config

WORDS = "red green blue cat dog sun moon tree fish bird".split()


def _tasks(root: Path) -> dict[str, Path]:
    arithmetic = [{"prompt": f"{a} plus {b} is", "response": str(a + b)}
                  for a in range(8) for b in range(8)]
    choice = [{"question": f"Which word follows {w}?", "choices": [WORDS[(i + 1) % 10],
               WORDS[(i + 5) % 10], WORDS[(i + 7) % 10]], "answer": 0}
              for i, w in enumerate(WORDS * 6)]
    chat = [{"messages": [{"role": "user", "content": f"reverse {a} {b}"},
                          {"role": "assistant", "content": f"{b} {a}"}]}
            for a in WORDS for b in WORDS]
    paths = {}
    for name, records in (("arithmetic", arithmetic), ("choice", choice), ("chat", chat)):
        paths[name] = root / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in records))
    return paths


def _tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>")


@pytest.fixture(scope="session")
def engine_assets(tmp_path_factory) -> dict:
    """Three task files and a directory holding a tiny Llama config and its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("engine")
    paths = _tasks(root)
    texts = [line for path in paths.values() for line in path.read_text().splitlines()]
    tokenizer = _tokenizer(texts)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=128, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model_dir = root / "model"
    # A fixed init: unseeded, the weights followed whatever the session's tests had drawn from
    # torch's global generator before this fixture ran (test order, xdist's split), and the
    # tiny model's scores with them (the Trainer test's final scores: a chance 1/6 on the
    # multiple-choice task, or 0 everywhere).
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return {"model": model_dir, "tasks": paths}


@pytest.fixture
def make_config(engine_assets, tmp_path):
    """A small RunConfig on the tiny model; keyword overrides as `key=value` strings."""
    def make(*overrides: str) -> RunConfig:
        tasks = [{"name": name, "train": str(path), "max_eval_examples": 8}
                 for name, path in engine_assets["tasks"].items()]
        base = [f"model.path={engine_assets['model']}", "model.max_length=32",
                f"tasks={json.dumps(tasks)}", f"output={tmp_path / 'run'}",
                "train.steps_per_task=6", "train.batch_size=8", "train.lr=0.01",
                "train.checkpoint_every=3", "lora.rank=4", "eval.batch_size=16",
                "eval.max_new_tokens=4", "replay.buffer.per_task=8",
                "replay.schedule.initial_interval=1", "replay.baseline.interval=2",
                "replay.baseline.probe_every=2", "replay.baseline.probe_size=4"]
        return load_config(None, base + list(overrides))
    return make
