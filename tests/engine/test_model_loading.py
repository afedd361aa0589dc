"""`model.path` and `lora.target_modules` mistakes are ConfigErrors naming the field, raised
before any data loads (not transformers or peft tracebacks); checked offline."""

from __future__ import annotations

import pytest
import torch

from mssr.engine import model as model_io
from mssr.engine.recipe import ContinualRun
from mssr.errors import ConfigError
from mssr.run_config import LoraConfig, ModelConfig


@pytest.fixture
def offline_hub(monkeypatch, tmp_path):
    """An empty Hugging Face cache in tmp_path, with the hub offline."""
    from huggingface_hub import constants

    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return cache


def test_an_unknown_model_fails_before_any_data_loads(make_config, tmp_path, offline_hub,
                                                      monkeypatch):
    def no_data(*args, **kwargs):
        raise AssertionError("data loaded before the model path was checked")

    monkeypatch.setattr("mssr.engine.recipe.prepare_tasks", no_data)
    run = ContinualRun(make_config("model.path=nobody/no-such-model"), tmp_path / "r",
                       show_progress=False)
    with pytest.raises(ConfigError, match="not in the local Hugging Face cache") as error:
        run.setup()
    assert error.value.field == "model.path"


def test_a_hub_model_in_the_local_cache_is_accepted_offline(offline_hub):
    snapshot = offline_hub / "models--someone--tiny-model" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (offline_hub / "models--someone--tiny-model" / "refs").mkdir()
    (offline_hub / "models--someone--tiny-model" / "refs" / "main").write_text("abc123")
    assert model_io.check_model_source("someone/tiny-model") == "someone/tiny-model"


@pytest.mark.parametrize("exists, message", [
    (lambda self, name: False, "nor a model on the Hugging Face hub"),
    (lambda self, name: (_ for _ in ()).throw(OSError("network unreachable")),
     "could not be asked"),
])
def test_online_the_hub_is_asked_without_downloading(offline_hub, monkeypatch, exists, message):
    from huggingface_hub import HfApi, constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(HfApi, "repo_exists", exists)
    with pytest.raises(ConfigError, match=message) as error:
        model_io.check_model_source("someone/not-there")
    assert error.value.field == "model.path"


@pytest.mark.parametrize("make_path, message", [
    (lambda root: root, "without config.json"),
    (lambda root: root / "weights.bin", "is a file"),
    (lambda root: root / "a" / "b" / "c", "neither a directory nor a hub model name"),
])
def test_local_paths_that_hold_no_model(tmp_path, offline_hub, make_path, message):
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(ConfigError, match=message) as error:
        model_io.load_tokenizer(ModelConfig(path=str(make_path(tmp_path))))
    assert error.value.field == "model.path"


@pytest.mark.parametrize("targets, missing", [
    (["q_proj", "query_key_value"], "'query_key_value'"),
    ("model.*attention", "'model.*attention'"),
])
def test_target_modules_the_model_lacks_name_the_field_and_the_layers_it_has(
        engine_assets, targets, missing):
    with pytest.raises(ConfigError) as error:
        model_io.load_model(ModelConfig(path=str(engine_assets["model"])),
                            LoraConfig(target_modules=targets), torch.device("cpu"))
    assert error.value.field == "lora.target_modules"
    assert missing in str(error.value) and "q_proj" in str(error.value)


@pytest.mark.parametrize("targets", [["q_proj", "v_proj"], ["self_attn.o_proj"],
                                     r".*\.mlp\.up_proj", "all-linear", None])
def test_target_modules_the_model_has_are_adapted(engine_assets, targets):
    model = model_io.load_model(ModelConfig(path=str(engine_assets["model"])),
                                LoraConfig(target_modules=targets), torch.device("cpu"))
    assert any("lora_A" in name for name, _ in model.named_parameters())


def test_lora_hides_peft_s_deprecation_warning_and_nothing_else(engine_assets, monkeypatch):
    """peft reads transformers' deprecated `is_gradient_checkpointing` (a FutureWarning the user
    cannot act on, printed once per `mssr demo` process); any other warning still shows."""
    import warnings

    import peft

    original = peft.get_peft_model

    def warning_get_peft_model(*args, **kwargs):
        warnings.warn("`is_gradient_checkpointing` is deprecated and will be removed in v6.",
                      FutureWarning, stacklevel=2)
        warnings.warn("something a user can fix", UserWarning, stacklevel=2)
        return original(*args, **kwargs)

    monkeypatch.setattr(peft, "get_peft_model", warning_get_peft_model)
    model = model_io.load_model(ModelConfig(path=str(engine_assets["model"])),
                                LoraConfig(enabled=False), torch.device("cpu"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model_io.add_lora(model, LoraConfig(rank=2))
    assert [str(warning.message) for warning in caught] == ["something a user can fix"]
