"""configs/models/: every preset is a valid run config for its hub model, and its LoRA targets
adapt that architecture, built at tiny size from a config (`model.from_scratch`) with a tokenizer
carrying the family's chat template: load_model + LoRA, one forward/backward step. Offline."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from chat_families import FAMILIES, build_tokenizer, tiny_model_config

from mssr.data.formatting import collate, encode_example
from mssr.data.schema import Example
from mssr.engine.model import load_model, load_tokenizer
from mssr.paths import CONFIGS_DIR
from mssr.run_config import RunConfig, load_config

PRESETS_DIR = CONFIGS_DIR / "models"
# preset file -> (hub name, chat family, architecture)
PRESETS = {
    "qwen2.5-0.5b-instruct": ("Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5", "Qwen2ForCausalLM"),
    "qwen2.5-1.5b-instruct": ("Qwen/Qwen2.5-1.5B-Instruct", "qwen2.5", "Qwen2ForCausalLM"),
    "qwen2.5-7b-instruct": ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5", "Qwen2ForCausalLM"),
    "llama-3.2-1b-instruct": ("meta-llama/Llama-3.2-1B-Instruct", "llama3", "LlamaForCausalLM"),
    "llama-3.1-8b-instruct": ("meta-llama/Llama-3.1-8B-Instruct", "llama3", "LlamaForCausalLM"),
    "mistral-7b-instruct-v0.3": ("mistralai/Mistral-7B-Instruct-v0.3", "mistral",
                                 "MistralForCausalLM"),
    "gemma-2-2b-it": ("google/gemma-2-2b-it", "gemma2", "Gemma2ForCausalLM"),
    "gemma-2-9b-it": ("google/gemma-2-9b-it", "gemma2", "Gemma2ForCausalLM"),
}
TINY = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}


def load_preset(name: str) -> RunConfig:
    config = load_config(PRESETS_DIR / f"{name}.yaml")
    assert config.train.mixed_precision == "bf16"
    return config


def test_every_preset_file_is_checked():
    assert {path.stem for path in PRESETS_DIR.glob("*.yaml")} == set(PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_adapts_a_tiny_model_of_its_architecture(name, tmp_path):
    hub_name, family_name, architecture = PRESETS[name]
    config = load_preset(name)
    assert config.model.path == hub_name
    assert (config.lora.enabled, config.lora.rank, config.lora.alpha) == (True, 8, 16.0)
    assert config.lora.target_modules == ["q_proj", "v_proj"]
    assert config.train.batch_size % config.train.grad_accum == 0

    family = FAMILIES[family_name]
    tokenizer = build_tokenizer(family)
    tiny_model_config(family, tokenizer).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    model_config = dataclasses.replace(config.model, path=str(tmp_path), from_scratch=TINY,
                                       dtype="float32")
    tokenizer = load_tokenizer(model_config)
    model = load_model(model_config, config.lora, torch.device("cpu"))
    assert type(model.get_base_model()).__name__ == architecture

    adapted = {name.split(".lora_A.")[0] for name, _ in model.named_parameters()
               if ".lora_A." in name}
    assert len(adapted) == 2 * TINY["num_hidden_layers"]
    assert all(module.endswith(("q_proj", "v_proj")) for module in adapted)

    example = Example(prompt="", response="", source="preset", messages=(
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"},
        {"role": "assistant", "content": "hi"}))
    batch = collate([encode_example(example, tokenizer, config.model.max_length)],
                    tokenizer.pad_token_id)
    loss = model(**batch).loss
    loss.backward()
    assert torch.isfinite(loss)
    trained = [param for param in model.parameters() if param.requires_grad]
    assert trained and all(param.grad is not None for param in trained)
    assert any(param.grad.abs().sum() > 0 for param in trained)
