"""Continual fine-tuning with mssr's replay from a plain `transformers.Trainer` script.

The bundled base model learns tasks of the built-in suite one after another, first without
replay, then with the shipped default strategy (`adaptive`) replaying earlier tasks' examples
inside the Trainer's own batches at MSSR's replay budget. Prints the AP/BWT table; each run
directory holds results.json and report.md as `mssr run` writes them (so `mssr compare` reads
them).

Your data: each ContinualTask's `train` is tokenized rows (input_ids, and labels with -100 on
prompt tokens), and its `eval` is a datasets.Dataset, a list of dicts in any format `mssr run`
reads (prompt/completion or prompt/response, messages, question/choices/answer) or mssr
Examples, e.g.

    ContinualTask(name="qa", train=tokenized_rows, scorer="exact_match",
                  eval=datasets.Dataset.from_list([{"messages": [
                      {"role": "user", "content": "2+2?"},
                      {"role": "assistant", "content": "4"}]}]))

A row that fits no format, or eval data of another type, is a ConfigError naming the task, the
row and the field, raised by ReplayTrainer(...) before any training.

    python examples/hf_trainer.py                       # about two minutes on 2 CPU cores
    python examples/hf_trainer.py --strategies mssr uniform --steps-per-task 300
    accelerate launch --multi_gpu --num_processes 2 examples/hf_trainer.py  # 2 processes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
import transformers
from accelerate import PartialState
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DataCollatorForSeq2Seq,
    TrainingArguments,
)

from mssr.bundled import bundled_model_path
from mssr.data.formatting import encode_example
from mssr.data.loaders import load_task
from mssr.data.suites import materialize
from mssr.integrations import ContinualConfig, ContinualTask
from mssr.integrations.transformers import ReplayTrainer
from mssr.replay.config import ReplayConfig
from mssr.report import compare_runs
from mssr.run_config import EvalConfig, SuiteConfig

MAX_LENGTH = 64


def load_tasks(tokenizer, args: argparse.Namespace) -> list[ContinualTask]:
    """Your data goes here: per task, training rows with input_ids and labels (-100 on prompt
    tokens), and the examples to score after every task. This script takes the first tasks
    of mssr's built-in suite, tokenized as `mssr run` tokenizes them."""
    suite = SuiteConfig(num_tasks=args.tasks, train_examples=args.train_examples,
                        eval_examples=args.eval_examples)
    tasks = []
    for config in materialize(suite, args.output / "data", seed=args.seed):
        data = load_task(config, seed=args.seed)
        rows = [encode_example(example, tokenizer, MAX_LENGTH) for example in data.train]
        train = datasets.Dataset.from_list([{"input_ids": row.input_ids, "labels": row.labels}
                                            for row in rows])
        tasks.append(ContinualTask(name=data.name, train=train, eval=data.eval,
                                   scorer=data.scorer))
    return tasks


def train(strategy: str, args: argparse.Namespace) -> Path:
    """One continual run of `strategy`: the usual Trainer setup, with ReplayTrainer."""
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    model = AutoModelForCausalLM.from_pretrained(bundled_model_path())
    run_dir = args.output / strategy
    training_args = TrainingArguments(
        output_dir=str(run_dir), per_device_train_batch_size=args.batch_size,
        learning_rate=1e-3, lr_scheduler_type="cosine", warmup_steps=args.steps_per_task // 10,
        seed=args.seed, save_strategy="no", logging_steps=50, report_to="none",
        disable_tqdm=True, use_cpu=True)
    training_args.per_device_train_batch_size //= training_args.world_size  # same global batch
    continual = ContinualConfig(
        steps_per_task=args.steps_per_task, replay=ReplayConfig(strategy=strategy),
        replay_budget="match:mssr", max_length=MAX_LENGTH,
        eval=EvalConfig(batch_size=64, max_new_tokens=12))
    trainer = ReplayTrainer(model=model, args=training_args, tasks=load_tasks(tokenizer, args),
                            continual=continual, data_collator=DataCollatorForSeq2Seq(tokenizer),
                            processing_class=tokenizer)
    trainer.train()  # every task in order, all tasks scored before the first and after each
    trainer.save_results(run_dir)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategies", nargs="+", default=["none", "adaptive"],
                        help="no replay, then the shipped default (`mssr` is MSSR as the "
                             "paper has it)")
    parser.add_argument("--tasks", type=int, default=3, help="first N tasks of the suite")
    parser.add_argument("--steps-per-task", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16, help="global batch size")
    parser.add_argument("--train-examples", type=int, default=400)
    parser.add_argument("--eval-examples", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=Path("runs/hf_trainer"))
    args = parser.parse_args()
    datasets.disable_progress_bars()
    transformers.logging.disable_progress_bar()
    run_dirs = [train(strategy, args) for strategy in args.strategies]
    if PartialState().is_main_process:
        print(compare_runs(run_dirs, output_dir=args.output))


if __name__ == "__main__":
    main()
