"""Mixed precision through accelerate: bf16 autocast trains full fine-tuning on CPU with fp32
master weights; fp16 (GPU only) and half-precision master weights are refused before work."""

from __future__ import annotations

import json

import pytest
import torch
from accelerate.state import AcceleratorState

from mssr.engine.recipe import ContinualRun
from mssr.errors import ConfigError


@pytest.fixture(autouse=True)
def fresh_accelerate_state():
    """accelerate keeps one precision per process: start and leave each test with none."""
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_bf16_autocast_trains_fp32_master_weights(make_config, tmp_path, monkeypatch):
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * 3)
    config = make_config("train.mixed_precision=bf16", "lora.enabled=false",
                         "replay.strategy=none", "train.checkpoint_every=0")
    run = ContinualRun(config, tmp_path / "run", show_progress=False)
    run.setup()
    before = {name: p.detach().clone() for name, p in run.model.named_parameters()}
    linear = next(m for m in run.model.modules() if isinstance(m, torch.nn.Linear))
    compute_dtypes = []
    linear.register_forward_hook(lambda module, args, out: compute_dtypes.append(out.dtype))
    run.run()
    assert set(compute_dtypes) == {torch.bfloat16}  # the matmuls ran under autocast
    after = dict(run.model.named_parameters())
    assert all(p.dtype == torch.float32 for p in after.values())  # master weights stay fp32
    assert any(not torch.equal(before[n], after[n]) for n in before)
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").open()]
    first_task = [record["loss"] for record in log if record["task"] == 0]
    assert all(torch.isfinite(torch.tensor(first_task)))
    assert first_task[-1] < first_task[0]


def test_fp16_on_cpu_is_refused_before_any_work(make_config, tmp_path):
    with pytest.raises(ConfigError, match="train.mixed_precision.*GPU"):
        ContinualRun(make_config("train.mixed_precision=fp16"), tmp_path / "run")


def test_half_master_weights_under_mixed_precision_are_refused(make_config, tmp_path):
    config = make_config("train.mixed_precision=bf16", "lora.enabled=false",
                         "model.dtype=bfloat16")
    run = ContinualRun(config, tmp_path / "run", show_progress=False)
    with pytest.raises(ConfigError, match="model.dtype"):
        run.setup()
