"""The run configuration: one typed object, loaded from YAML plus `key=value` overrides,
saved beside every run's results. See `mssr config` for every field with its help."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from mssr.errors import ConfigError
from mssr.paths import find_config
from mssr.replay.budget import validate_replay_budget
from mssr.replay.config import ReplayConfig
from mssr.templates import TaskTemplates, compile_templates
from mssr.typed_config import (
    Section,
    apply_overrides,
    from_mapping,
    help_field,
    require,
    to_mapping,
)

HUB_PREFIX = "hf:"  # a task source on the Hugging Face hub: hf:NAME[:CONFIG]
DATA_ROOT_FIELD = "{data_root}"  # in a source path: the data root (for datasets not on the hub)
SCORERS = ("auto", "exact_match", "numeric", "multiple_choice", "rouge_l", "loss", "token_f1")
FORMATS = ("auto", "prompt_response", "chat", "multiple_choice")


@dataclass
class TaskConfig(Section):
    """One task of the sequence: where its data lives and how it is scored."""

    name: str = help_field(help="task name (unique in the sequence)")
    train: str = help_field(help="JSONL/JSON file, a datasets.save_to_disk directory, "
                            "or 'hf:NAME[:CONFIG]' for a Hugging Face dataset (online only)")
    eval: str | None = help_field(None, "evaluation data; None carves eval_fraction of train")
    format: str = help_field("auto", "one of: " + ", ".join(FORMATS))
    scorer: str = help_field("auto", "one of: " + ", ".join(SCORERS))
    eval_fraction: float = help_field(0.1, "share of train carved out for eval when eval is None")
    max_train_examples: int | None = help_field(None, "use at most this many training examples")
    max_eval_examples: int | None = help_field(None, "score at most this many eval examples")
    split: str = help_field("train", "split to read from a DatasetDict or hub dataset")
    eval_split: str | None = help_field(
        None, "split of the eval source to read (None: the same as split)")
    doc_to_text: str | None = help_field(
        None, "Jinja template of the prompt from a record's columns (lm-eval style); with "
        "doc_to_target it replaces the prompt/response/question keys")
    doc_to_target: str | None = help_field(
        None, "Jinja template of the response; with doc_to_choice, the answer's index or text")
    doc_to_choice: list[str] | str | None = help_field(
        None, "the choices: a list of labels, or one '{{ expression }}' giving a list")
    answer_pattern: str | None = help_field(
        None, "regex applied to the rendered target: the response becomes its first group "
        "(of the last match), e.g. '#### (.+)' for GSM8K's final answer")
    doc_to_answers: str | None = help_field(
        None, "every accepted answer: one '{{ expression }}' giving a list of strings (e.g. "
        "'{{ answers.text }}'); token_f1 takes the best, training uses doc_to_target")
    where: dict[str, Any] | None = help_field(
        None, "keep only records whose columns have these values (e.g. {task_name: ...})")
    trust_remote_code: bool = help_field(
        False, "let datasets run a hub dataset's own loading code (off: never run it)")

    def validate(self) -> None:
        require(bool(self.name), "name", "must not be empty")
        require(self.format in FORMATS, "format", f"choose one of: {', '.join(FORMATS)}")
        require(self.scorer in SCORERS, "scorer", f"choose one of: {', '.join(SCORERS)}")
        require(0.0 < self.eval_fraction < 1.0, "eval_fraction", "must be in (0, 1)")
        for name in ("max_train_examples", "max_eval_examples"):
            value = getattr(self, name)
            require(value is None or value >= 1, name, "must be >= 1 or null")
        self.templates()  # template syntax and key combinations, before any data

    def templates(self) -> TaskTemplates | None:
        """The compiled doc_to_* templates (None without them); ConfigError if they are bad."""
        return compile_templates(self.name, self.format, self.scorer, self.doc_to_text,
                                 self.doc_to_target, self.doc_to_choice, self.answer_pattern,
                                 self.doc_to_answers)


@dataclass
class SuiteConfig(Section):
    """A built-in task suite, generated deterministically into the run directory."""

    name: str = help_field("default", "built-in suite (see `mssr suites`)")
    order: str = help_field("default", "task order of the suite (see `mssr suites`)")
    num_tasks: int | None = help_field(None, "use the first N tasks of the order")
    train_examples: int | None = help_field(None, "training examples per task (suite default)")
    eval_examples: int | None = help_field(None, "evaluation examples per task (suite default)")

    def validate(self) -> None:
        """The suite and order names are checked against the built-in suites by
        `mssr.data.suites.check_suite` (the data layer sits above this one)."""
        require(self.num_tasks is None or self.num_tasks >= 1, "num_tasks", "must be >= 1")


@dataclass
class ModelConfig(Section):
    """The base model: a local directory or hub name, optionally re-initialised from its config."""

    path: str = help_field("bundled", "model directory or hub name; 'bundled' is the small "
                           "base model shipped in the package (mssr/assets/)")
    from_scratch: dict[str, Any] | None = help_field(
        None, "build a randomly initialised model from path's config with these overrides "
        "(e.g. {hidden_size: 32, num_hidden_layers: 2}) instead of loading weights")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = help_field(
        "auto", "dtype the weights load in; auto: float32 for full fine-tuning (fp32 master "
        "weights), for LoRA bfloat16 on GPU and float32 on CPU")
    max_length: int = help_field(128, "tokens per example; longer ones are truncated (counted)")

    def validate(self) -> None:
        require(bool(self.path.strip()), "path", "must name a model directory, a hub model "
                "or 'bundled'")
        require(self.max_length >= 8, "max_length", "must be >= 8")


@dataclass
class LoraConfig(Section):
    """LoRA through peft; `enabled: false` trains every weight."""

    enabled: bool = help_field(True, "train a LoRA adapter (false: full fine-tuning)")
    rank: int = help_field(8, "LoRA rank r")
    alpha: float = help_field(16.0, "LoRA alpha (scaling = alpha / rank)")
    dropout: float = help_field(0.0, "LoRA dropout")
    target_modules: list[str] | str | None = help_field(
        None, "modules to adapt; None: peft's default for the architecture, "
        "'all-linear' for every linear layer")

    def validate(self) -> None:
        require(self.rank >= 1, "rank", "must be >= 1")
        require(self.alpha > 0, "alpha", "must be > 0")
        require(0.0 <= self.dropout < 1.0, "dropout", "must be in [0, 1)")
        targets = [self.target_modules] if isinstance(self.target_modules, str) else (
            self.target_modules or [])
        require(self.target_modules != [] and all(name.strip() for name in targets),
                "target_modules", "give module names (e.g. [q_proj, v_proj]), 'all-linear', "
                "or null for peft's default")


@dataclass
class TrainConfig(Section):
    """The optimisation of each task."""

    steps_per_task: int = help_field(100, "optimizer steps on each task")
    batch_size: int = help_field(16, "examples per optimizer step (global, replay included)")
    grad_accum: int = help_field(1, "micro-batches per optimizer step")
    lr: float = help_field(1e-3, "peak learning rate")
    weight_decay: float = help_field(0.0, "AdamW weight decay")
    warmup_steps: int = help_field(
        0, "linear warm-up steps at the start of each schedule (each task with "
        "reset_optimizer, else the run's start); every schedule honours it")
    lr_schedule: Literal["constant", "linear", "cosine"] = help_field(
        "constant", "learning-rate schedule after warm-up, over a task (reset_optimizer) or "
        "over the whole run")
    reset_optimizer: bool = help_field(True, "fresh AdamW moments and LR schedule at every task")
    max_grad_norm: float | None = help_field(1.0, "gradient clipping (None: off)")
    checkpoint_every: int = help_field(50, "steps between mid-task checkpoints (0: task ends only)")
    max_nonfinite_steps: int = help_field(5, "non-finite losses in a row that stop the run")
    mixed_precision: Literal["no", "bf16", "fp16"] = help_field(
        "no", "autocast through accelerate; full fine-tuning keeps fp32 master weights "
        "(fp16 needs a GPU)")
    log_with: str | None = help_field(
        None, "an accelerate tracker (tensorboard, wandb, ...) that also receives the per-step "
        "metrics of train_log.jsonl")

    def validate(self) -> None:
        for name in ("steps_per_task", "batch_size", "grad_accum"):
            require(getattr(self, name) >= 1, name, "must be >= 1")
        require(self.batch_size % self.grad_accum == 0, "grad_accum",
                "must divide batch_size")
        require(self.lr > 0, "lr", "must be > 0")
        require(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        require(not self.reset_optimizer or self.warmup_steps < self.steps_per_task,
                "warmup_steps", f"must be below steps_per_task ({self.steps_per_task}) when "
                "reset_optimizer restarts the schedule at every task")
        require(self.checkpoint_every >= 0, "checkpoint_every", "must be >= 0")
        require(self.max_nonfinite_steps >= 1, "max_nonfinite_steps", "must be >= 1")


@dataclass
class EvalConfig(Section):
    """Evaluation before task 1 and after every task."""

    tasks: Literal["all", "seen"] = help_field(
        "all", "score every task after each one ('all', needed for FWT) or only those seen")
    batch_size: int = help_field(32, "evaluation batch size")
    max_new_tokens: int = help_field(16, "greedy generation length for generated answers")

    def validate(self) -> None:
        require(self.batch_size >= 1, "batch_size", "must be >= 1")
        require(self.max_new_tokens >= 1, "max_new_tokens", "must be >= 1")


@dataclass
class RunConfig(Section):
    """Everything a continual fine-tuning run needs."""

    seed: int = help_field(0, "seed of data order, replay decisions and initialisation")
    output: str = help_field("runs/{strategy}-seed{seed}", "run directory ({strategy}, {seed})")
    tasks: list[TaskConfig] = help_field([], "the task sequence (or use suite)")
    suite: SuiteConfig | None = help_field(None, "a built-in suite instead of explicit tasks")
    skip_bad_lines: bool = help_field(False, "skip malformed data lines (counted), not fail")
    data_root: str | None = help_field(
        None, "local copies of hub datasets (`mssr fetch-data`): hf:NAME[:CONFIG] is read from "
        "DATA_ROOT/hf/NAME/CONFIG; None: $MSSR_DATA_ROOT, else the hub")
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    joint: bool = help_field(False, "train all tasks at once (the multi-task upper bound)")
    replay_budget: int | str | None = help_field(
        None, "replayed examples per task: a number, or 'match:STRATEGY' to spend what that "
        "strategy's schedule spends (e.g. match:mssr); sets the baselines' ratio or interval")
    reference_runs: list[str] = help_field(
        [], "finished runs (joint, or each task fine-tuned alone) whose final scores give "
        "metrics.normalised_score: each task's final score over its reference, averaged")

    def validate(self) -> None:
        require(bool(self.tasks) != (self.suite is not None), "tasks",
                "give either a non-empty task list or a suite, not both")
        names = [task.name for task in self.tasks]
        require(len(names) == len(set(names)), "tasks", f"task names repeat: {names}")
        require(self.eval.max_new_tokens < self.model.max_length, "eval.max_new_tokens",
                f"must be below model.max_length ({self.model.max_length}) to leave room for "
                "the prompt")
        validate_replay_budget(self.replay_budget, self.replay, self.train.steps_per_task)

    @property
    def strategy_name(self) -> str:
        """The name results are filed under: the replay strategy, or 'joint'."""
        return "joint" if self.joint else self.replay.strategy


def load_config(path: str | Path | None, overrides: list[str] | None = None,
                anchor_paths: bool = True) -> RunConfig:
    """Load a YAML config (a file, or a ready config's name; the defaults when `path` is None)
    and apply overrides. The file's relative input paths point beside it (`anchor_paths`);
    the overrides' stay relative to the working directory, as typed."""
    path = None if path is None else find_config(path)
    data = read_config_file(path, anchor_paths) if path is not None else {}
    apply_overrides(data, overrides or [])
    return from_mapping(RunConfig, data, source=None if path is None else str(path))


def read_config_file(path: str | Path, anchor_paths: bool = True) -> dict[str, Any]:
    """A config file's sections as a plain mapping, not yet checked; `path` is a file or a
    ready config's name (see mssr.paths.find_config)."""
    path = find_config(path)
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError("config", f"cannot read {path}: {error.strerror}", source) from None
    except UnicodeDecodeError as error:
        raise ConfigError("config", f"not UTF-8 text (byte {error.start})", source) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ConfigError("config", f"invalid YAML: {error}", source) from None
    if not isinstance(data, dict):
        raise ConfigError("config", "the file must hold a mapping of sections", source)
    if anchor_paths:
        anchor_relative_paths(data, path.parent)
    return data


def anchor_relative_paths(data: dict[str, Any], folder: Path) -> None:
    """Make a config file's relative input paths absolute beside the file: task sources (not
    hf: or {data_root} ones), data_root, reference_runs, and model.path where it names a
    directory there (a './' or '../' path, or one that exists; otherwise it is a hub name).
    `output` stays relative to the working directory: runs land where they are started."""
    folder = folder.resolve()

    def local(value: Any) -> bool:
        return (isinstance(value, str) and bool(value.strip())
                and not value.startswith(HUB_PREFIX) and DATA_ROOT_FIELD not in value
                and not Path(value).expanduser().is_absolute())

    for task in data.get("tasks") if isinstance(data.get("tasks"), list) else ():
        for key in ("train", "eval"):
            if isinstance(task, dict) and local(task.get(key)):
                task[key] = str(folder / task[key])
    if local(data.get("data_root")):
        data["data_root"] = str(folder / data["data_root"])
    if isinstance(data.get("reference_runs"), list):
        data["reference_runs"] = [str(folder / run) if local(run) else run
                                  for run in data["reference_runs"]]
    model = data.get("model")
    if isinstance(model, dict) and local(model.get("path")):
        model_path = model["path"]
        if model_path.startswith(("./", "../")) or (folder / model_path).is_dir():
            model["path"] = str(folder / model_path)


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """The config as plain data, for results.json and the saved config.yaml."""
    return to_mapping(config)


def dump_config(config: RunConfig) -> str:
    """The config as YAML text that `load_config` reads back to an equal object."""
    return yaml.safe_dump(config_to_dict(config), sort_keys=False)
