"""Continual fine-tuning with mssr's replay from a TRL `SFTTrainer` script (`pip install
mssr[trl]`).

The bundled base model learns tasks of the built-in suite one after another from
prompt/completion data, first without replay, then with the shipped default strategy
(`adaptive`) replaying earlier tasks' examples inside SFTTrainer's own batches at MSSR's
replay budget. SFTTrainer tokenizes the
data and masks the prompts (completion_only_loss); the replay tracker sees each example's loss
over its completion. Prints the AP/BWT table; each run directory holds results.json and
report.md as `mssr run` writes them.

Your data: each ContinualTask's `train` is what SFTTrainer reads (a datasets.Dataset or a list
of prompt/completion, messages or text rows; rows in mssr's other formats and mssr Examples are
converted), and its `eval` is a datasets.Dataset, a list of dicts (prompt/completion or
prompt/response, messages, question/choices/answer) or mssr Examples, e.g.

    ContinualTask(name="qa", train=train_dataset, scorer="exact_match",
                  eval=datasets.Dataset.from_list([{"prompt": "2+2=", "completion": "4"}]))

A row that fits no format, or eval data of another type, is a ConfigError naming the task, the
row and the field, raised by ReplaySFTTrainer(...) before any training.

    python examples/trl_sft.py                          # about 2.5 minutes on 2 CPU cores
    python examples/trl_sft.py --strategies mssr uniform --steps-per-task 300
    accelerate launch --multi_gpu --num_processes 2 examples/trl_sft.py  # 2 processes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import datasets
import transformers
from accelerate import PartialState
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig

from mssr.bundled import bundled_model_path
from mssr.data.loaders import load_task
from mssr.data.suites import materialize
from mssr.data.trainer_rows import sft_rows
from mssr.integrations import ContinualConfig, ContinualTask
from mssr.integrations.trl import ReplaySFTTrainer
from mssr.replay.config import ReplayConfig
from mssr.report import compare_runs
from mssr.run_config import EvalConfig, SuiteConfig

MAX_LENGTH = 64


def load_tasks(tokenizer, args: argparse.Namespace) -> list[ContinualTask]:
    """Your data goes here: per task, prompt/completion rows (or messages) for SFTTrainer, and
    the data to score after every task. This script takes the first tasks of mssr's built-in
    suite, rendered as `mssr run` renders them (prompts start with BOS, as mssr's scorers
    prompt the model)."""
    suite = SuiteConfig(num_tasks=args.tasks, train_examples=args.train_examples,
                        eval_examples=args.eval_examples)
    tasks = []
    for config in materialize(suite, args.output / "data", seed=args.seed):
        data = load_task(config, seed=args.seed)
        rows = sft_rows(data.train, tokenizer)
        tasks.append(ContinualTask(name=data.name, train=datasets.Dataset.from_list(rows),
                                   eval=data.eval, scorer=data.scorer))
    return tasks


def train(strategy: str, args: argparse.Namespace) -> Path:
    """One continual run of `strategy`: the usual SFTTrainer setup, with ReplaySFTTrainer."""
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    model = AutoModelForCausalLM.from_pretrained(bundled_model_path())
    run_dir = args.output / strategy
    sft_args = SFTConfig(
        output_dir=str(run_dir), per_device_train_batch_size=args.batch_size,
        learning_rate=1e-3, lr_scheduler_type="cosine", warmup_steps=args.steps_per_task // 10,
        max_length=MAX_LENGTH, seed=args.seed, save_strategy="no", logging_steps=50,
        report_to="none", disable_tqdm=True, use_cpu=True, bf16=False,
        activation_checkpointing=False)
    sft_args.per_device_train_batch_size //= sft_args.world_size  # same global batch
    continual = ContinualConfig(
        steps_per_task=args.steps_per_task, replay=ReplayConfig(strategy=strategy),
        replay_budget="match:mssr", max_length=MAX_LENGTH,
        eval=EvalConfig(batch_size=64, max_new_tokens=12))
    trainer = ReplaySFTTrainer(model=model, args=sft_args, tasks=load_tasks(tokenizer, args),
                               continual=continual, processing_class=tokenizer)
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
    parser.add_argument("--output", type=Path, default=Path("runs/trl_sft"))
    args = parser.parse_args()
    datasets.disable_progress_bars()
    transformers.logging.disable_progress_bar()
    run_dirs = [train(strategy, args) for strategy in args.strategies]
    if PartialState().is_main_process:
        print(compare_runs(run_dirs, output_dir=args.output))


if __name__ == "__main__":
    main()
