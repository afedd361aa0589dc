"""Which dtype the weights load in. Trainable weights are the master weights: full fine-tuning
loads float32 (accelerate's `train.mixed_precision` autocasts the compute), while LoRA may keep
a half-precision frozen base (peft keeps the adapter itself in float32)."""

from __future__ import annotations

import dataclasses

from mssr.errors import ConfigError
from mssr.run_config import LoraConfig, ModelConfig, TrainConfig


def model_config_for_training(model: ModelConfig, lora: LoraConfig,
                              train: TrainConfig) -> ModelConfig:
    """The model section with `dtype` resolved for training."""
    mixed = train.mixed_precision
    if lora.enabled:
        return model
    if model.dtype == "auto":
        return dataclasses.replace(model, dtype="float32")
    if model.dtype != "float32" and mixed != "no":
        raise ConfigError("model.dtype", f"{model.dtype} weights with train.mixed_precision="
                          f"{mixed} and full fine-tuning would train without fp32 master "
                          "weights: use model.dtype auto or float32")
    return model
