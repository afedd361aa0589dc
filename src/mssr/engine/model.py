"""Load a causal LM and its tokenizer from a local directory or the hub, and adapt it with LoRA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mssr.config import LoraConfig, ModelConfig
from mssr.errors import ConfigError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_model_path(path: str) -> str:
    """`bundled` means the small base model shipped with the project."""
    if path == "bundled":
        from mssr.bundled import bundled_model_path

        return str(bundled_model_path())
    return path


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """`auto` is bfloat16 on an accelerator that supports it, float32 on CPU."""
    if name != "auto":
        return DTYPES[name]
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(config: ModelConfig) -> Any:
    """The tokenizer, with a pad token (EOS when the tokenizer has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(config.path))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(config: ModelConfig, lora: LoraConfig, device: torch.device) -> torch.nn.Module:
    """The base model (pretrained, or random from its config when `from_scratch` is set),
    wrapped in a trainable LoRA adapter when `lora.enabled`."""
    from transformers import AutoConfig, AutoModelForCausalLM

    path = resolve_model_path(config.path)
    dtype = resolve_dtype(config.dtype, device)
    if config.from_scratch is not None:
        model_config = AutoConfig.from_pretrained(path)
        for key, value in config.from_scratch.items():
            if not hasattr(model_config, key):
                raise ConfigError(f"model.from_scratch.{key}",
                                  f"{type(model_config).__name__} has no such field")
            setattr(model_config, key, value)
        model = AutoModelForCausalLM.from_config(model_config, dtype=dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    model.to(device)
    if lora.enabled:
        model = add_lora(model, lora)
    return model


def add_lora(model: torch.nn.Module, lora: LoraConfig) -> torch.nn.Module:
    """Wrap `model` in a peft LoRA adapter (peft picks target modules per architecture)."""
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    peft_config = PeftLoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
        target_modules=lora.target_modules, task_type="CAUSAL_LM")
    return get_peft_model(model, peft_config)


def trainable_parameters(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def save_weights(model: torch.nn.Module, directory: Path) -> None:
    """The trained weights: a peft adapter (usable by anyone with peft) or the full model."""
    model.save_pretrained(directory, safe_serialization=True)


def load_weights(model: torch.nn.Module, directory: Path) -> None:
    """Load what `save_weights` wrote into an identically built model."""
    from safetensors.torch import load_file

    if hasattr(model, "peft_config"):
        from peft import set_peft_model_state_dict

        adapter = load_file(directory / "adapter_model.safetensors")
        result = set_peft_model_state_dict(model, adapter)
        if result.unexpected_keys:
            raise RuntimeError(f"adapter keys not in the model: {result.unexpected_keys[:3]}")
        return
    state = {}
    for shard in sorted(directory.glob("*.safetensors")):
        state.update(load_file(shard))
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {name for name in missing if "lm_head" in name}
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"checkpoint does not match the model: {missing[:3]} {unexpected[:3]}")


def describe_model(model: torch.nn.Module) -> dict[str, Any]:
    """Parameter counts for the run log."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in trainable_parameters(model))
    return {"parameters": total, "trainable_parameters": trainable}


