"""The frontier benchmark: budget shares, the arm table against the config loader, the tables,
and a real tiny frontier that a rerun reuses without training again."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mssr.engine.recipe import ContinualRun
from mssr.paths import CONFIGS_DIR
from mssr.run_config import load_config

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: benchmarks/
_spec = importlib.util.spec_from_file_location(
    "bench_frontier", PROJECT_ROOT / "benchmarks" / "bench_frontier.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses resolve their annotations through it
_spec.loader.exec_module(bench)


@pytest.mark.parametrize(("share", "steps", "batch", "expected"), [
    (0.01, 400, 16, 64), (0.03, 400, 16, 192), (0.3, 400, 16, 1920),
    (0.0125, 100, 16, 20),  # 20.0 exactly
    (0.1, 4, 7, 3),  # 2.8 rounds up
    (0.001, 10, 8, 1),  # 0.08 would round to 0: at least one example
])
def test_a_budget_share_becomes_replayed_examples_per_task(share, steps, batch, expected):
    assert bench.budget_per_task(share, steps, batch) == expected


def test_every_arm_loads_and_pins_its_laws_over_other_settings():
    flipped = ["replay.sampler.law=inverse_strength", "replay.memory.loss_norm=ema_quantile",
               "replay.schedule.law=saturating", "replay.mode=append",
               "replay.memory.calibrate=global"]
    today = ("risk_softmax", "none", "geometric", "replace", "off")
    paper = ("inverse_strength", "ema_quantile", "sequence", "replace", "off")

    def laws(arm: str, before: list[str]) -> tuple:
        replay = load_config(CONFIGS_DIR / "demo.yaml", [*before, *bench.ARMS[arm]]).replay
        return (replay.sampler.law, replay.memory.loss_norm, replay.schedule.law, replay.mode,
                replay.memory.calibrate)

    for arm in bench.ARMS:  # an unknown key or a bad value would raise here
        config = load_config(CONFIGS_DIR / "demo.yaml", list(bench.ARMS[arm]))
        assert config.strategy_name == {"mssr-paper": "mssr", "mssr-calibrated": "mssr",
                                        "mssr-append": "mssr", "mssr-adaptive": "mssr",
                                        "mssr-forgetting": "mssr-every-step",
                                        "mssr-forgetting-self": "mssr-every-step",
                                        "uniform-adaptive": "adaptive",
                                        "uniform-adaptive-ledger": "adaptive",
                                        "uniform-self": "uniform"}.get(arm, arm)
        assert config.replay.targets == ("self" if arm.endswith(("-self", "-ledger")) else "stored")
    assert laws("mssr", flipped) == laws("mssr-sampler", flipped) == today
    assert laws("mssr-every-step", flipped) == today
    assert laws("mssr-calibrated", flipped) == (*today[:-1], "per_task")
    assert laws("mssr-append", flipped) == (*today[:3], "append", "off")
    assert laws("mssr-paper", []) == laws("mssr-paper", flipped) == paper
    paper_config = load_config(CONFIGS_DIR / "demo.yaml", list(bench.ARMS["mssr-paper"]))
    schedule = paper_config.replay.schedule
    assert (schedule.intervals, schedule.interval_unit) == ([1, 2, 4, 7, 15], 10)
    for arm in bench.UNBUDGETED:
        assert load_config(CONFIGS_DIR / "demo.yaml", list(bench.ARMS[arm])).replay_budget is None


@pytest.mark.parametrize("config_file", sorted(bench.REGIME_CONFIGS.values()))
def test_the_shipped_arm_is_what_the_regime_configs_ship(config_file):
    shipped = load_config(config_file, list(bench.ARMS[bench.SHIPPED]))
    assert load_config(config_file) == shipped  # its runs confirm MSSR as shipped


def test_runs_are_planned_per_order_seed_arm_and_budget(tmp_path):
    runs = bench.plan_runs(CONFIGS_DIR / "demo.yaml", tmp_path, ["none", "uniform", "joint"],
                           {0.01: 64, 0.1: 640}, [0, 1], ["default", "reverse"], ["train.lr=0.002"])
    assert len(runs) == 2 * 2 * (1 + 2 + 1)
    uniform = next(run for run in runs if run.arm == "uniform" and run.budget == 0.1
                   and run.seed == 1 and run.order == "reverse")
    assert uniform.run_dir == tmp_path / "reverse" / "seed1" / "uniform-0.1"
    assert uniform.config.replay_budget == 640 and uniform.config.train.lr == 0.002
    assert uniform.config.suite.order == "reverse" and uniform.config.seed == 1
    assert runs[0].run_dir == tmp_path / "default" / "seed0" / "none"
    assert len({run.run_dir for run in runs}) == len(runs)


def record(arm, budget, order, seed, ap, bwt=-0.2, replayed=30.0, learned=0.9, spearman=None,
           by_task=(40, 20, 0)):
    return {"arm": arm, "budget": budget, "order": order, "seed": seed, "run_dir": "x",
            "ap": ap, "bwt": bwt, "replayed_examples": 2 * replayed, "replayed_per_task": replayed,
            "learned": learned, "calibration_spearman": spearman, "tasks": ["a", "b", "c"],
            "acc_matrix": [[0.5, 0.0, 0.0], [0.4, 1.0, 0.0], [0.3, 0.25, 1.0]],
            "replays_by_task": list(by_task)}


def test_where_the_replays_went_counts_each_tasks_replays_on_the_tuning_run():
    results = {"tasks": ["a", "b", "c"], "calibration": {"task": [0, 1, 0, 0]}}
    assert bench.replays_by_task(results) == [3, 1, 0]
    assert bench.replays_by_task({"tasks": ["a"], "calibration": None}) == [0]
    records = [record("uniform", 0.01, "default", 0, 0.5, by_task=(30, 30, 0)),
               record("uniform", 0.1, "default", 0, 0.5, by_task=(99, 99, 0)),
               record("uniform", 0.01, "default", 1, 0.5, by_task=(77, 77, 0))]
    text = bench.render_markdown(records, ["uniform"], [0.01, 0.1], {0.01: 16, 0.1: 160},
                                 ("default", 0), "cmd")
    section = text.split("### Where the replays went: order default, seed 0, 16 ")[1]
    assert "| uniform | 30 / 0.500 → 0.300 | 30 / 1.000 → 0.250 | 0 / 1.000 → 1.000 |" in (
        section.split("###")[0])


def test_tuning_and_confirmation_runs_get_their_own_tables():
    records = [record("none", None, "default", 0, 0.1, replayed=0.0),
               record("uniform", 0.1, "default", 0, 0.5),
               record("uniform", 0.1, "default", 1, 0.3),
               record("uniform", 0.1, "reverse", 0, 0.4),
               record("joint", None, "default", 0, 0.9, bwt=None, replayed=0.0)]
    text = bench.render_markdown(records, ["none", "uniform", "joint"], [0.1], {0.1: 640},
                                 ("default", 0), "python benchmarks/bench_frontier.py")
    tuning, seeds, orders = text.split("### Why")[0].split("### Confirmation runs")
    assert "| uniform | — | 0.500 / -0.200 / 30 |" in tuning
    assert "| none | 0.100 / -0.200 / 0 |" in tuning and "| joint | 0.900 / — / 0 |" in tuning
    assert "| Arm | no budget | 10% (640) |" in tuning
    assert seeds.startswith(": order default, seed 1\n") and orders.startswith(": order reverse,")
    assert "| uniform | — | 0.300 / -0.200 / 30 |" in seeds
    assert "| uniform | — | 0.400 / -0.200 / 30 |" in orders
    assert "### Targets" not in text  # no candidate among the arms
    cells = bench.frontier_cells(records, ["none", "uniform", "joint"], [0.1], "default")
    uniform = next(cell for cell in cells if cell["arm"] == "uniform")
    assert len(uniform["runs"]) == 3 and uniform["summary"]["seeds"] == [0, 1]
    assert uniform["summary"]["ap_mean"] == pytest.approx(0.4)
    assert (uniform["summary"]["ap_min"], uniform["summary"]["ap_max"]) == (0.3, 0.5)


def test_targets_pair_the_shipped_default_with_uniform_and_why_shows_learning_and_calibration():
    records = [record("uniform", b, "default", seed, ap, bwt=-0.3)
               for seed, ap in ((0, 0.5), (1, 0.5), (2, 0.6)) for b in (0.01, 0.1)]
    records += [record("mssr-every-step", 0.1, "default", 1, 0.55, bwt=-0.2, learned=0.7,
                       spearman=0.2),
                record("mssr-every-step", 0.1, "default", 2, 0.62, bwt=-0.45, learned=0.8,
                       spearman=0.4),
                record("mssr-every-step", 0.01, "default", 1, 0.5, bwt=-0.3),
                record("mssr-every-step", 0.1, "default", 0, 0.1, learned=0.0)]  # tuning: left out
    text = bench.render_markdown(records, ["uniform", "mssr-every-step"], [0.01, 0.03, 0.1],
                                 {0.01: 16, 0.03: 48, 0.1: 160}, ("default", 0), "cmd")
    targets = text.split("### Targets")[1].split("###")[0]
    # 10%: seeds 1 and 2 pair up; AP gain (0.05 + 0.02) / 2 = 0.035, BWT (0.1 - 0.15) / 2 < 0
    # detectable: 2.8 x sd(0.05, 0.02) / sqrt(2) = 2.8 x 0.0212 / 1.414 = 0.042
    assert ("| 10% (160) | 2 | +0.035 | [+0.020, +0.050] | +0.020 | 0.042 | -0.025 | AP ≥ "
            "uniform +0.02, better BWT | **no** |") in targets
    assert ("| 1% (16) | 1 | +0.000 | [+0.000, +0.000] | +0.000 | — | +0.000 | AP ≥ uniform "
            "+0.02, better BWT | **no** |") in targets
    assert "| 3% (48) | 0 | — | — | — | — | — |" in targets
    full = bench.render_markdown(records, ["uniform", "mssr-every-step"], [0.01, 0.1],
                                 {0.01: 16, 0.1: 160}, ("default", 0), "cmd", regime="full")
    # full fine-tuning's target is "not below uniform by more than 0.01" at every budget
    assert ("| 10% (160) | 2 | +0.035 | [+0.020, +0.050] | +0.020 | 0.042 | -0.025 | AP ≥ "
            "uniform -0.01 | yes |") in full
    why = text.split("### Why")[1]
    # all seeds, the tuning run's too
    assert "| mssr-every-step | — | 0.900 / — | — | 0.500 / +0.300 |" in why
    records.append(record("mssr-every-step", 0.1, "reverse", 0, 0.5, learned=0.1, spearman=-0.9))
    assert why in bench.render_markdown(records, ["uniform", "mssr-every-step"], [0.01, 0.03, 0.1],
                                        {0.01: 16, 0.03: 48, 0.1: 160}, ("default", 0), "cmd")
    records.append(record("mssr-sampler", 0.1, "default", 2, 0.7, bwt=-0.1))
    both = bench.render_markdown(records, ["uniform", "mssr-sampler", "mssr-every-step"], [0.1],
                                 {0.1: 160}, ("default", 0), "cmd").split("### Targets: ")[1:]
    assert [section.split(" ")[0] for section in both] == ["mssr-sampler", "mssr-every-step"]
    seed2 = "| 10% (160) | 1 | +0.100 | [+0.100, +0.100] | +0.100 | — | +0.200 |"
    assert seed2 in both[0]
    assert bench.learned_score([[0.5, 0.0], [0.2, 0.7]]) == 0.7
    assert bench.learned_score([[None] * 3, [None] * 3, [0.9, 1.0, 1.0]]) is None  # joint
    assert bench.learned_score([[0.5]]) is None


@pytest.mark.slow
def test_a_tiny_frontier_then_a_rerun_that_trains_nothing(tmp_path, monkeypatch, capsys):
    argv = ["--regime", "full", "--config", str(CONFIGS_DIR / "smoke.yaml"), "--tasks", "2",
            "--steps", "4", "--budgets", "0.1", "0.3", "--arms", "joint", "uniform", "mssr",
            "none", "--seeds", "0", "--output", str(tmp_path), "train.checkpoint_every=0",
            "suite.eval_examples=8"]
    bench.main(argv)
    first = capsys.readouterr().out
    frontier = json.loads((tmp_path / "frontier.json").read_text())
    assert frontier["command"].endswith("benchmarks/bench_frontier.py " + " ".join(argv))
    assert frontier["budgets"] == [{"share": 0.1, "per_task": 3}, {"share": 0.3, "per_task": 10}]
    assert frontier["runs"] == 6 and frontier["summary_order"] == "default"
    assert len(frontier["tasks"]["default"]) == 2 and frontier["steps_per_task"] == 4
    cells = {(cell["arm"], cell["budget"]): cell for cell in frontier["cells"]}
    assert list(cells) == [("none", None), ("uniform", 0.1), ("uniform", 0.3), ("mssr", 0.1),
                           ("mssr", 0.3), ("joint", None)]
    for (arm, budget), cell in cells.items():
        (run,) = cell["runs"]
        results = json.loads((tmp_path / "default" / "seed0" / (
            arm if budget is None else f"{arm}-{budget:g}") / "results.json").read_text())
        assert results["metrics"]["ap"] == run["ap"] == cell["summary"]["ap_mean"]
        assert run["replayed_examples"] == results["compute"]["replayed_examples"]
        assert run["replayed_per_task"] == run["replayed_examples"]  # replay in task 2 only
        assert run["replayed_per_task"] <= {None: 0, 0.1: 3, 0.3: 10}[budget]
    assert cells[("uniform", 0.3)]["runs"][0]["replayed_examples"] > 3  # the budget is spent
    assert cells[("joint", None)]["runs"][0]["bwt"] is None
    markdown = (tmp_path / "frontier.md").read_text()
    assert "Tuning run: order default, seed 0" in markdown and "Confirmation" not in markdown
    assert all(f"| {arm} |" in markdown for arm in ("none", "uniform", "mssr", "joint"))
    assert markdown.strip() in first and "6 runs (0 reused)" in first
    assert (tmp_path / "frontier.png").read_bytes()[:4] == b"\x89PNG"

    results_before = sorted(p.read_text() for p in tmp_path.glob("default/seed0/*/results.json"))

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(ContinualRun, "train_step", no_training)
    bench.main(argv)
    assert "6 runs (6 reused)" in capsys.readouterr().out
    assert sorted(p.read_text() for p in tmp_path.glob("default/seed0/*/results.json")) == \
        results_before
    again = json.loads((tmp_path / "frontier.json").read_text())
    assert again["cells"] == frontier["cells"]

    bench.main([*argv[:argv.index("--arms") + 1], "fixed", *argv[argv.index("--arms") + 1:],
                "--report-only"])  # an arm never run: reported as missing, nothing trained
    assert "report of the 6 finished runs" in capsys.readouterr().out
    partial = json.loads((tmp_path / "frontier.json").read_text())
    assert partial["runs"] == 6
    assert [c["summary"] for c in partial["cells"] if c["arm"] == "fixed"] == [None, None]


def test_dry_run_lists_the_runs_and_trains_nothing(tmp_path, capsys):
    bench.main(["--regime", "lora", "--dry-run", "--output", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    budgeted = len(bench.ARMS) - len(bench.UNBUDGETED)
    assert out[-1] == f"{3 * (budgeted * 4 + 2)} runs"  # 3 seeds x (arms x budgets + none, joint)
    assert sum(line.startswith("uniform ") and "budget 0.03" in line for line in out) == 3
    assert sum(line.startswith("uniform-self ") and "budget 0.03" in line for line in out) == 3
    assert not any(tmp_path.iterdir())


def test_the_bootstrap_interval_covers_the_mean_and_narrows_with_more_pairs():
    rng = np.random.default_rng(1)
    few, many = rng.normal(0.02, 0.05, 6), rng.normal(0.02, 0.05, 200)
    low, high = bench.bootstrap_interval(list(few))
    assert low < np.mean(few) < high
    wide = high - low
    low, high = bench.bootstrap_interval(list(many))
    assert low < np.mean(many) < high and high - low < wide / 3
    assert bench.bootstrap_interval([0.01, 0.01]) == (0.01, 0.01)


@pytest.mark.parametrize("regime", ["lora", "full"])
def test_the_realtext_suite_runs_every_arm_on_its_eight_tasks(regime, tmp_path, capsys):
    args = bench.parse_args(["--regime", regime, "--suite", "realtext"])
    assert args.output.name == f"realtext-{regime}"
    runs = bench.plan_runs(args.config, tmp_path, ["none", "uniform"], {0.03: 72}, [0],
                           ["default"], list(args.suite_overrides))
    for run in runs:
        assert run.config.suite.name == "realtext" and run.config.suite.num_tasks is None
        assert run.config.lora.enabled == (regime == "lora")
        assert run.config.model.max_length == 128
    bench.main(["--regime", regime, "--suite", "realtext", "--dry-run", "--seeds", "0",
                "--output", str(tmp_path)])
    budgeted = len(bench.ARMS) - len(bench.UNBUDGETED)
    assert capsys.readouterr().out.splitlines()[-1] == f"{budgeted * 4 + 2} runs"
