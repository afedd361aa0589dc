"""The base-model build resumes exactly: stopped after a step and rerun, it ends with the
weights of an uninterrupted build."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: scripts/

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import build_base_model as build  # noqa: E402


class TinyTokenizer:
    bos_token_id, eos_token_id, pad_token_id = 0, 1, 2

    def __len__(self) -> int:
        return 64


def tiny_args(work_dir, stop_after=None, bf16=False):
    return build.parse_args([*(["--bf16"] if bf16 else []),
        "--work-dir", str(work_dir), "--hidden", "16", "--layers", "1", "--heads", "2",
        "--mlp", "32", "--steps", "6", "--batch-size", "4", "--block", "8",
        "--checkpoint-every", "0", "--threads", "1",
        *(["--stop-after", str(stop_after)] if stop_after else [])])


def trained(work_dir, stop_after=None, bf16=False):
    args = tiny_args(work_dir, stop_after, bf16)
    work_dir.mkdir(exist_ok=True)
    torch.manual_seed(args.seed)
    model = build.build_model(TinyTokenizer(), args)
    blocks = torch.randint(3, 64, (20, 8), generator=torch.Generator().manual_seed(1))
    build.pretrain(model, blocks, args)
    return model


def test_a_build_stopped_and_rerun_ends_with_the_uninterrupted_weights(tmp_path):
    straight = trained(tmp_path / "straight")
    stopped = trained(tmp_path / "resumed", stop_after=3)
    assert (tmp_path / "resumed" / "checkpoint.pt").is_file()
    assert not all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(),
                                                      stopped.state_dict().values(), strict=True))
    resumed = trained(tmp_path / "resumed")
    for name, weight in straight.state_dict().items():
        assert torch.equal(weight, resumed.state_dict()[name]), name


def test_a_bf16_build_resumes_exactly_and_refuses_a_precision_change(tmp_path):
    straight = trained(tmp_path / "straight", bf16=True)
    trained(tmp_path / "resumed", stop_after=3, bf16=True)
    float32 = trained(tmp_path / "float32")
    assert not all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(),
                                                      float32.state_dict().values(), strict=True))
    with pytest.raises(SystemExit, match="same --bf16"):
        trained(tmp_path / "resumed")
    resumed = trained(tmp_path / "resumed", bf16=True)
    for name, weight in straight.state_dict().items():
        assert torch.equal(weight, resumed.state_dict()[name]), name
