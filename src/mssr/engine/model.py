"""Load a causal LM and its tokenizer from a local directory or the hub, and adapt it with LoRA."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch

from mssr.errors import ConfigError
from mssr.run_config import LoraConfig, ModelConfig

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_model_path(path: str) -> str:
    """`bundled` means the small base model shipped with the project."""
    if path == "bundled":
        from mssr.bundled import bundled_model_path

        return str(bundled_model_path())
    return path


def check_model_source(path: str) -> str:
    """The resolved `model.path`, once known to be a model directory or a hub model that is in
    the local Hugging Face cache or (online) exists on the hub; no weights are downloaded."""
    resolved = resolve_model_path(path)
    local = Path(resolved)
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ConfigError("model.path", f"{resolved} is a directory without config.json")
        return resolved
    if local.exists():
        raise ConfigError("model.path", f"{resolved} is a file, not a model directory")
    _check_hub_model(resolved)
    return resolved


def _check_hub_model(name: str) -> None:
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        raise ConfigError("model.path", f"{name!r} is neither a directory nor a hub model "
                          "name (org/name)") from None
    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return
    if constants.HF_HUB_OFFLINE:
        raise ConfigError("model.path", f"{name!r} is not a directory and not in the local "
                          "Hugging Face cache, and the hub is offline (HF_HUB_OFFLINE)")
    from huggingface_hub import HfApi

    try:
        found = HfApi().repo_exists(name)
    except Exception as error:  # any network failure: the hub cannot answer
        raise ConfigError("model.path", f"{name!r} is not a directory or cached, and the hub "
                          f"could not be asked ({type(error).__name__}: {error})") from None
    if not found:
        raise ConfigError("model.path", f"{name!r} is neither a directory nor a model on the "
                          "Hugging Face hub")


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

    tokenizer = AutoTokenizer.from_pretrained(check_model_source(config.path))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(config: ModelConfig, lora: LoraConfig, device: torch.device) -> torch.nn.Module:
    """The base model (pretrained, or random from its config when `from_scratch` is set),
    wrapped in a trainable LoRA adapter when `lora.enabled`."""
    from transformers import AutoConfig, AutoModelForCausalLM

    path = check_model_source(config.path)
    dtype = resolve_dtype(config.dtype, device)
    if config.from_scratch is not None:
        model_config = _scratch_config(AutoConfig.from_pretrained(path), config.from_scratch)
        model = AutoModelForCausalLM.from_config(model_config, dtype=dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    model.to(device)
    if lora.enabled:
        model = add_lora(model, lora)
    return model


def _scratch_config(base: Any, overrides: dict[str, Any]) -> Any:
    """`base` with `overrides`, rebuilt so fields derived from them follow (Gemma 2's and
    Qwen2's per-layer `layer_types` after a new `num_hidden_layers`)."""
    for key in overrides:
        if not hasattr(base, key):
            raise ConfigError(f"model.from_scratch.{key}",
                              f"{type(base).__name__} has no such field")
    settings = {**base.to_dict(), **overrides}
    if "num_hidden_layers" in overrides and "layer_types" not in overrides:
        settings.pop("layer_types", None)
    return type(base).from_dict(settings)


def add_lora(model: torch.nn.Module, lora: LoraConfig) -> torch.nn.Module:
    """Wrap `model` in a peft LoRA adapter (peft picks target modules per architecture when
    `lora.target_modules` is None)."""
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    check_target_modules(model, lora.target_modules)
    peft_config = PeftLoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
        target_modules=lora.target_modules, task_type="CAUSAL_LM")
    try:
        with warnings.catch_warnings():
            # peft reads transformers' deprecated `is_gradient_checkpointing`; nothing a user
            # can change (tests: the same filter in pyproject.toml)
            warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated",
                                    category=FutureWarning)
            return get_peft_model(model, peft_config)
    except ValueError as error:  # e.g. no default targets for this architecture
        raise ConfigError("lora.target_modules", f"peft cannot adapt "
                          f"{type(model).__name__} with these targets: {error}") from None


def check_target_modules(model: torch.nn.Module, targets: list[str] | str | None) -> None:
    """Every named target matches a module as peft matches names (the full name, or its
    ending after a dot; a single string other than 'all-linear' is a regular expression)."""
    if targets is None or targets == "all-linear":
        return
    names = [name for name, _ in model.named_modules()]
    if isinstance(targets, str):
        missing = [] if any(re.fullmatch(targets, name) for name in names) else [targets]
    else:
        missing = [target for target in targets
                   if not any(name == target or name.endswith("." + target) for name in names)]
    if missing:
        linear = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                         if isinstance(module, torch.nn.Linear)})
        raise ConfigError("lora.target_modules", f"{type(model).__name__} has no module "
                          f"{', '.join(map(repr, missing))}; its linear layers are: "
                          f"{', '.join(linear)}")


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


