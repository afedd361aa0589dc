"""A run's checkpoints: everything needed to continue exactly.

A checkpoint directory holds `weights/` (the peft adapter or full model, from the gathered
state, usable on its own), `accelerate/` (accelerate's `save_state`: optimizer, LR schedule
position, loss scaler, every process's RNG states and, under FSDP, the sharded model), and the
replay state and progress as JSON + npz. Every process takes part (FSDP gathers are
collective); the directory is then verified and published atomically by the main process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import DistributedType

from mssr.engine import model as model_io
from mssr.engine.checkpoint import CheckpointManager, load_tree, save_tree
from mssr.engine.distributed import broadcast
from mssr.errors import CheckpointError
from mssr.replay.progress import Progress

ACCELERATE_DIR = "accelerate"
WEIGHTS_DIR = "weights"


class RunCheckpoints:
    """Saves and loads a run's checkpoints through accelerate, on every process."""

    def __init__(self, accelerator: Accelerator, run_dir: Path):
        self.accelerator = accelerator
        self.manager = CheckpointManager(run_dir)
        # `weights/` is written by us in a format peft and transformers read, so accelerate
        # neither saves nor loads an unsharded model a second time
        accelerator.register_save_state_pre_hook(lambda models, weights, path: weights.clear())
        accelerator.register_load_state_pre_hook(lambda models, path: models.clear())

    @property
    def root(self) -> Path:
        return self.manager.root

    def latest(self) -> Path | None:
        """The newest verified checkpoint, as the main process sees it."""
        found = self.manager.latest() if self.accelerator.is_main_process else None
        return broadcast(found)

    def save(self, name: str, model: torch.nn.Module, progress: Progress,
             replay_state: dict[str, Any]) -> None:
        """Checkpoint `name`, written by every process and published by the main one."""
        accelerator = self.accelerator
        unwrapped = accelerator.unwrap_model(model)
        state = accelerator.get_state_dict(model)  # collective under FSDP
        error, directory = None, None
        if accelerator.is_main_process:
            estimate = 3 * sum(p.numel() * p.element_size()
                               for p in model_io.trainable_parameters(unwrapped)) + (16 << 20)
            try:
                directory = self.manager.begin(name, min_free_bytes=estimate)
            except CheckpointError as caught:
                error = str(caught)
        error, directory = broadcast((error, directory))  # every process stops, or none
        if error is not None:
            raise CheckpointError(error)
        accelerator.save_state(str(directory / ACCELERATE_DIR))
        accelerator.wait_for_everyone()  # every process's RNG file is written before publishing
        if accelerator.is_main_process:
            unwrapped.save_pretrained(directory / WEIGHTS_DIR, state_dict=state,
                                      safe_serialization=True)
            save_tree(directory, "replay", replay_state)
            save_tree(directory, "progress", progress.state_dict())
            self.manager.publish(name)
        accelerator.wait_for_everyone()

    def load_progress(self, checkpoint: Path) -> Progress:
        if not (checkpoint / ACCELERATE_DIR).is_dir():
            raise CheckpointError(f"{checkpoint} was written by an older mssr and cannot be "
                                  "resumed: rerun with --overwrite")
        return Progress.from_state(load_tree(checkpoint, "progress"))

    def load(self, checkpoint: Path, model: torch.nn.Module) -> dict[str, Any]:
        """Restore the weights, optimizer, schedule and RNG states; return the replay state."""
        accelerator = self.accelerator
        accelerator.load_state(str(checkpoint / ACCELERATE_DIR))
        if accelerator.distributed_type != DistributedType.FSDP:  # FSDP: accelerate loaded it
            model_io.load_weights(accelerator.unwrap_model(model), checkpoint / WEIGHTS_DIR)
        return load_tree(checkpoint, "replay")
