"""The base-model build resumes exactly: stopped after a step and rerun, it ends with the
weights of an uninterrupted build."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: scripts/

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import build_base_model as build  # noqa: E402


class TinyTokenizer:
    bos_token_id, eos_token_id, pad_token_id = 0, 1, 2

    def __len__(self) -> int:
        return 64


def tiny_args(work_dir, stop_after=None):
    return build.parse_args([
        "--work-dir", str(work_dir), "--hidden", "16", "--layers", "1", "--heads", "2",
        "--mlp", "32", "--steps", "6", "--batch-size", "4", "--block", "8",
        "--checkpoint-every", "0", "--threads", "1",
        *(["--stop-after", str(stop_after)] if stop_after else [])])


def trained(work_dir, stop_after=None):
    args = tiny_args(work_dir, stop_after)
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
