"""`mssr sequences`, `mssr config --sequence` and `mssr run --sequence` on the stand-ins."""

from __future__ import annotations

import json

import pytest
import yaml
from hub_fixtures import write_data_root

from mssr.cli import main

TINY_RUN = ["model.path=bundled", "model.max_length=64", "lora.enabled=false",
            "model.from_scratch={hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, "
            "num_attention_heads: 2, num_key_value_heads: 2}",
            "train.steps_per_task=2", "train.batch_size=4", "train.checkpoint_every=0",
            "eval.max_new_tokens=3", "eval.batch_size=8", "replay.buffer.per_task=4",
            "tasks.alpaca_gpt4.max_eval_examples=3", "tasks.gsm8k.max_eval_examples=3",
            "tasks.math.max_eval_examples=3"]


def run_cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code


def test_sequences_lists_orders_tasks_and_sizes(capsys):
    assert run_cli(["sequences"]) == 0
    out = capsys.readouterr().out
    assert "order order1 (4 tasks): dbpedia amazon yahoo agnews" in out
    assert "order three_task (3 tasks): alpaca_gpt4 gsm8k math" in out
    assert "probes (scored, not trained" in out
    assert "task1572" in out and "train   1000  eval   100" in out


def test_config_validates_a_sequence_with_overrides(capsys):
    assert run_cli(["config", "--sequence", "superni:order2", "train.lr=0.0001"]) == 0
    out = capsys.readouterr().out
    assert "name: task748" in out and "lr: 0.0001" in out
    assert run_cli(["config", "--sequence", "paper:nope"]) == 2
    assert "no order 'nope'" in capsys.readouterr().err


def test_a_config_file_gives_the_settings_and_the_sequence_the_tasks(tmp_path, capsys):
    preset = tmp_path / "preset.yaml"
    preset.write_text("model: {path: Qwen/Qwen2.5-7B-Instruct, max_length: 2048}\n"
                      "lora: {rank: 16}\ntrain: {lr: 0.0002}\n")
    assert run_cli(["config", str(preset), "--sequence", "paper", "train.lr=0.0003"]) == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["path"] == "Qwen/Qwen2.5-7B-Instruct"
    assert config["model"]["max_length"] == 2048  # the file beats the sequence's 1024
    assert config["eval"]["max_new_tokens"] == 256  # the sequence's setting stays
    assert (config["lora"]["rank"], config["train"]["lr"]) == (16, 0.0003)
    assert [task["name"] for task in config["tasks"]] == ["alpaca_gpt4", "gsm8k", "math"]
    assert run_cli(["run", "train.lr=1"]) == 2
    assert "give a config file, --sequence" in capsys.readouterr().err


@pytest.mark.slow
def test_run_sequence_without_a_config_file(tmp_path, monkeypatch, capsys):
    """The paper's 3-task sequence end to end on its stand-ins, a tiny model, offline."""
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", None)  # any hub access would fail loudly
    root = write_data_root(tmp_path / "data")
    output = tmp_path / "run"
    code = run_cli(["run", "--sequence", "paper", f"data_root={root}", *TINY_RUN,
                    "--strategy", "mssr", "--output", str(output), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    results = json.loads((output / "results.json").read_text())
    assert results["tasks"] == ["alpaca_gpt4", "gsm8k", "math"]
    assert results["scorers"] == {"alpaca_gpt4": "rouge_l", "gsm8k": "numeric",
                                  "math": "exact_match"}
    assert run_cli(["run", str(output / "config.yaml"), "--sequence", "paper"]) == 2
    assert "the sequence paper gives the tasks; remove 'tasks'" in capsys.readouterr().err
