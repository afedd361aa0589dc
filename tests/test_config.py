"""The run config: every bad value is rejected before any model loads, naming the field."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mssr.errors import ConfigError
from mssr.run_config import RunConfig, dump_config, load_config
from mssr.typed_config import describe, from_mapping

SUITE = ["suite.name=default"]


@pytest.mark.parametrize("override, field, hint", [
    ("train.bogus=1", "train.bogus", "valid keys are: batch_size"),
    ("train.lr=fast", "train.lr", "expected float"),
    ("train.steps_per_task=1.5", "train.steps_per_task", "expected int"),
    ("replay.baseline.ratio=-0.2", "replay.baseline.ratio", "[0, 1]"),
    ("lora.rank=0", "lora.rank", ">= 1"),
    ("replay.strategy=magic", "replay.strategy", "valid: none, uniform, fixed"),
    ("model.dtype=float8", "model.dtype", "choose one of: auto, float32"),
    ("replay.clock.mode=wall", "replay.clock.mode", "steps, loss, update"),
    ("train.grad_accum=3", "train.grad_accum", "divide batch_size"),
    ("replay_budget=lots", "replay_budget", "match:STRATEGY"),
    ("replay_budget=match:msr", "replay_budget", "unknown strategy 'msr'; choose match:none"),
    ("replay_budget=match:loss", "replay_budget", "adapts its spend"),
    ("eval.max_new_tokens=128", "eval.max_new_tokens", "below model.max_length (128)"),
    ("lora.target_modules=[]", "lora.target_modules", "[q_proj, v_proj]"),
    ("model.path=' '", "model.path", "model directory"),
])
def test_bad_values_name_the_field_and_what_is_allowed(override, field, hint):
    with pytest.raises(ConfigError) as error:
        load_config(None, [*SUITE, override])
    assert error.value.field == field
    assert hint in str(error.value)


@pytest.mark.parametrize(("override", "field", "hint"), [
    ("suite.name=nosuch", "suite.name", "valid suites are: default"),
    ("suite.order=nope", "suite.order", "valid orders are: default, reverse, shuffled"),
])
def test_unknown_suite_names_name_the_field_and_the_valid_ones(override, field, hint):
    from mssr.data.suites import check_suite

    with pytest.raises(ConfigError) as error:
        check_suite(load_config(None, [*SUITE, override]).suite)
    assert error.value.field == field
    assert hint in str(error.value)


def test_bare_yaml_off_and_no_are_read_as_the_words_a_choice_expects():
    config = load_config(None, [*SUITE, "replay.memory.calibrate=off",
                                "train.mixed_precision=no"])
    assert config.replay.memory.calibrate == "off" and config.train.mixed_precision == "no"
    with pytest.raises(ConfigError, match="choose one of"):
        load_config(None, [*SUITE, "replay.clock.mode=yes"])


def test_a_replay_budget_and_a_per_task_cap_together_are_rejected():
    with pytest.raises(ConfigError) as error:
        load_config(None, [*SUITE, "replay_budget=100", "replay.budget_per_task=50"])
    assert error.value.field == "replay.budget_per_task"


def test_empty_task_list_is_rejected():
    with pytest.raises(ConfigError, match="non-empty task list"):
        load_config(None, ["tasks=[]"])


def test_bad_task_entry_names_its_index():
    with pytest.raises(ConfigError) as error:
        load_config(None, ['tasks=[{name: a, train: a.jsonl}, {name: b, train: b.jsonl, '
                           'scorer: bleu}]'])
    assert error.value.field == "tasks[1].scorer"


def test_yaml_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(path)
    path.write_text("suite: {name: default}\ntrain: {lr: -1}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: config field 'train.lr'"):
        load_config(path)


def test_non_utf8_config_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("seed: 0 # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_dump_and_load_round_trip(tmp_path):
    config = load_config(None, [*SUITE, "train.lr=0.002", "replay.strategy=fixed",
                                "model.from_scratch={hidden_size: 16}"])
    path = tmp_path / "c.yaml"
    path.write_text(dump_config(config))
    assert load_config(path) == config


def test_every_field_documents_itself():
    fields = list(describe(RunConfig))
    assert len(fields) > 50
    undocumented = [name for name, _, _, help_text in fields if not help_text]
    assert not undocumented


def test_shipped_configs_load_by_name_and_by_the_checkouts_path():
    from mssr.paths import CONFIGS_DIR, ready_config_names

    names = ready_config_names()
    assert {"demo", "demo-full", "smoke", "models/qwen2.5-0.5b-instruct"} <= set(names)
    assert not any(name.startswith("sequences") for name in names)  # those are --sequence's
    for name in names:
        assert load_config(name) == load_config(CONFIGS_DIR / f"{name}.yaml")
    assert load_config("configs/smoke.yaml") == load_config("smoke.yaml") == load_config("smoke")


def test_an_unknown_config_says_where_it_looked_and_lists_the_ready_ones(tmp_path,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="ready configs: demo, demo-full, models/") as caught:
        load_config("sub/nosuch.yaml")
    assert str(tmp_path / "sub" / "nosuch.yaml") in str(caught.value)


def test_relative_input_paths_in_a_config_file_point_beside_it(tmp_path, monkeypatch):
    """Task sources, data_root, reference_runs and a model directory resolve against the
    file's folder; hub sources, {data_root} sources, hub model names and output do not, nor
    do paths given on the command line (relative to where it is typed)."""
    sub = tmp_path / "sub"
    (sub / "model").mkdir(parents=True)
    (sub / "c.yaml").write_text(yaml.safe_dump({
        "tasks": [{"name": "a", "train": "tr.jsonl", "eval": "../ev.jsonl"},
                  {"name": "b", "train": "hf:org/data", "eval": "{data_root}/local/b"}],
        "data_root": "copies", "reference_runs": ["runs/joint", "/abs/run"],
        "model": {"path": "model"}, "output": "runs/{strategy}"}))
    monkeypatch.chdir(tmp_path)
    config = load_config("sub/c.yaml")
    a, b = config.tasks
    assert (a.train, a.eval) == (str(sub / "tr.jsonl"), str(sub / "../ev.jsonl"))
    assert (b.train, b.eval) == ("hf:org/data", "{data_root}/local/b")
    assert config.data_root == str(sub / "copies")
    assert config.reference_runs == [str(sub / "runs/joint"), "/abs/run"]
    assert config.model.path == str(sub / "model") and config.output == "runs/{strategy}"
    hub = load_config("sub/c.yaml", ["model.path=org/model", "data_root=here"])
    assert hub.model.path == "org/model" and hub.data_root == "here"
    (sub / "model").rmdir()
    assert load_config("sub/c.yaml").model.path == "model"  # not a folder there: a hub name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=12) | st.integers(), children, max_size=4),
    max_leaves=12)
section_keys = st.sampled_from(["seed", "tasks", "suite", "model", "lora", "train", "eval",
                                "replay", "joint", "replay_budget", "output", "bogus"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(section_keys, json_values, max_size=5))
def test_fuzzed_configs_raise_only_config_errors(data):
    try:
        from_mapping(RunConfig, data)
    except ConfigError:
        pass


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_fuzzed_yaml_text_raises_only_config_errors(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        load_config(path)
    except ConfigError:
        pass


def test_yaml_dump_is_plain_data():
    config = load_config(None, SUITE)
    assert isinstance(yaml.safe_load(dump_config(config)), dict)
