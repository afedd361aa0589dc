"""Engine throughput against a plain hand-written torch + peft loop.

Both train the same model (same init, LoRA, data and batch size, replay off) in alternating
rounds within one process, so machine noise hits both alike; the figure of merit is the ratio of
training tokens per second, engine / plain (target >= 0.95). The last line of `--json` output is
one object with `engine_tokens_per_s`, `plain_tokens_per_s` and `ratio`.

    python benchmarks/bench_engine.py [--config demo] [--rounds 5] [--steps 20]
        [--json] [key=value ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from mssr.data.formatting import collate
from mssr.engine import model as model_io
from mssr.engine.recipe import ContinualRun
from mssr.losses import token_losses
from mssr.paths import CONFIGS_DIR
from mssr.replay.driver import stream_indices
from mssr.run_config import load_config


class PlainLoop:
    """The loop a researcher would write by hand: collate, forward, masked CE, step."""

    def __init__(self, model, tokenizer, encoded, batch_size, lr, seed):
        self.model, self.encoded, self.batch_size = model, encoded, batch_size
        self.pad_id = tokenizer.pad_token_id
        self.optimizer = torch.optim.AdamW(model_io.trainable_parameters(model), lr=lr)
        self.seed, self.cursor = seed, 0

    def step(self) -> int:
        rows = stream_indices(self.seed, 0, len(self.encoded), self.cursor, self.batch_size)
        self.cursor += self.batch_size
        batch = collate([self.encoded[i] for i in rows], self.pad_id)
        logits = self.model(input_ids=batch["input_ids"],
                            attention_mask=batch["attention_mask"]).logits
        losses, mask = token_losses(logits, batch["labels"])
        (losses.sum() / mask.sum()).backward()
        torch.nn.utils.clip_grad_norm_(model_io.trainable_parameters(self.model), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return int(batch["attention_mask"].sum())


def tokens_of(run: ContinualRun) -> int:
    ledger = run.progress.ledger
    return ledger.new_tokens + ledger.replayed_tokens


def measure(config_path: Path, rounds: int, steps: int, overrides: list[str]) -> dict:
    torch.manual_seed(0)
    config = load_config(config_path, [*overrides, "replay.strategy=none",
                                       "train.checkpoint_every=0"])
    with tempfile.TemporaryDirectory() as run_dir:
        run = ContinualRun(config, Path(run_dir), show_progress=False)
        run.setup()
        plain_model = model_io.load_model(config.model, config.lora, torch.device("cpu"))
        plain = PlainLoop(plain_model, run.tokenizer, run.tasks[0].encoded,
                          config.train.batch_size, config.train.lr, config.seed)
        bar = _NoBar()
        for _ in range(2):  # warm-up both
            run.train_step(bar)
            plain.step()
        engine_rates, plain_rates = [], []
        for _ in range(rounds):
            before, started = tokens_of(run), time.perf_counter()
            for _ in range(steps):
                run.train_step(bar)
            engine_rates.append((tokens_of(run) - before) / (time.perf_counter() - started))
            tokens, started = 0, time.perf_counter()
            for _ in range(steps):
                tokens += plain.step()
            plain_rates.append(tokens / (time.perf_counter() - started))
    engine_rate, plain_rate = statistics.median(engine_rates), statistics.median(plain_rates)
    ratios = [round(e / p, 4) for e, p in zip(engine_rates, plain_rates, strict=True)]
    return {"engine_tokens_per_s": round(engine_rate, 1),
            "plain_tokens_per_s": round(plain_rate, 1),
            "ratio": round(engine_rate / plain_rate, 4), "round_ratios": ratios,
            "rounds": rounds, "steps_per_round": steps, "config": str(config_path),
            "overrides": overrides, "lora": config.lora.enabled,
            "torch_threads": torch.get_num_threads()}


class _NoBar:
    def set_postfix(self, **_):
        pass

    def update(self, _):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIGS_DIR / "demo.yaml")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    args = parser.parse_args()
    result = measure(args.config, args.rounds, args.steps, args.overrides)
    if args.json:
        print(json.dumps(result))
        return
    print(f"engine {result['engine_tokens_per_s']:.0f} tok/s, plain "
          f"{result['plain_tokens_per_s']:.0f} tok/s, ratio {result['ratio']:.3f} "
          f"(per round: {result['round_ratios']})")


if __name__ == "__main__":
    main()
