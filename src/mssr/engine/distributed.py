"""The accelerate side of a run: the Accelerator a config asks for (mixed precision, trackers),
the launches we refuse before any work, and sharing a value from the main process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType, ProjectConfiguration, broadcast_object_list

from mssr.errors import ConfigError
from mssr.replay import spec_for
from mssr.replay.config import ReplayConfig
from mssr.run_config import TrainConfig

SUPPORTED = (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU,
             DistributedType.FSDP)


def make_accelerator(train: TrainConfig, replay: ReplayConfig, run_dir: Path) -> Accelerator:
    """An Accelerator with the training section's mixed precision and trackers (logging under
    `run_dir/trackers`), refused before any work when it cannot run with the replay section."""
    log_with = None
    if train.log_with is not None:
        check_tracker(train.log_with)
        log_with = [train.log_with]
    project = ProjectConfiguration(project_dir=str(run_dir), logging_dir=str(run_dir / "trackers"))
    # several processes on a machine without CUDA: DDP over gloo (accelerate's multi-CPU mode)
    cpu = _launched_processes() > 1 and not torch.cuda.is_available()
    accelerator = Accelerator(mixed_precision=train.mixed_precision, log_with=log_with,
                              project_config=project, cpu=cpu)
    check_supported(accelerator, train, replay)
    return accelerator


def check_tracker(name: str) -> None:
    """A built-in accelerate tracker that is installed, or one registered with
    `accelerate.tracking.register_tracker_class`."""
    from accelerate.tracking import LOGGER_TYPE_TO_CLASS, get_available_trackers
    from accelerate.utils import LoggerType

    if name not in LOGGER_TYPE_TO_CLASS:
        raise ConfigError("train.log_with", f"{name!r} is not an accelerate tracker; choose "
                          f"one of: {', '.join(sorted(LOGGER_TYPE_TO_CLASS))}")
    installed = sorted(str(tracker) for tracker in get_available_trackers())
    if name in LoggerType.list() and name not in installed:
        raise ConfigError("train.log_with", f"{name!r} is not installed here (installed: "
                          f"{', '.join(installed) or 'none'}): pip install it, or leave "
                          "train.log_with unset (train_log.jsonl is always written)")


def check_supported(accelerator: Accelerator, train: TrainConfig, replay: ReplayConfig) -> None:
    """Refuse launches the engine cannot run correctly, naming what to change."""
    launched, kind = _launched_processes(), accelerator.distributed_type
    if launched != accelerator.num_processes:
        raise ConfigError("launch", f"{launched} processes were launched but accelerate runs "
                          f"{accelerator.num_processes} ({kind.value})")
    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true" and kind != DistributedType.FSDP:
        raise ConfigError("launch", f"accelerate's config asks for FSDP but accelerate runs "
                          f"{kind.value} here: FSDP needs CUDA GPUs; on CPU launch without FSDP "
                          "(`accelerate launch --multi_gpu --num_processes N` runs DDP over gloo)")
    if accelerator.distributed_type not in SUPPORTED:
        raise ConfigError("launch", f"{accelerator.distributed_type.value} is not supported; use "
                          "DDP (the default launch) or FSDP through accelerate's config")
    if accelerator.distributed_type == DistributedType.FSDP and not accelerator.is_fsdp2:
        raise ConfigError("launch", "FSDP version 1 is not supported: set fsdp_version: 2 in "
                          "accelerate's config")
    if kind == DistributedType.FSDP and replay.clock.mode == "update":
        raise ConfigError("replay.clock.mode", "'update' measures the weight update on "
                          "unsharded weights; under FSDP use 'steps' or 'loss'")
    if kind == DistributedType.FSDP and not spec_for(replay.strategy).shardable:
        raise ConfigError("replay.strategy", f"{replay.strategy} needs unsharded weights (it "
                          "measures each weight update, anchors to the weights or takes a "
                          "virtual step on them); it is not supported under FSDP")
    if train.mixed_precision == "fp16" and accelerator.device.type == "cpu":
        raise ConfigError("train.mixed_precision", "fp16 needs a GPU (accelerate ignores it on "
                          "CPU); use bf16 or no")


def _launched_processes() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def broadcast(value: Any) -> Any:
    """The main process's `value`, on every process."""
    holder = [value]
    broadcast_object_list(holder)
    return holder[0]
