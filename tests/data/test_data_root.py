"""The data root and `mssr fetch-data`: hub datasets saved once (online), read offline."""

from __future__ import annotations

import pytest
from hub_fixtures import hub_stand_in

from mssr.cli import main
from mssr.data.hub import HubSpec, resolve_data_root
from mssr.data.loaders import load_task
from mssr.errors import DataError
from mssr.run_config import TaskConfig


@pytest.fixture
def fake_hub(monkeypatch):
    """datasets.load_dataset answering from the stand-ins, recording every call."""
    import datasets

    calls = []
    monkeypatch.delenv("MSSR_DATA_ROOT", raising=False)

    def load_dataset(name, config=None, split=None, **kwargs):
        calls.append((name, config, split, kwargs))
        whole = hub_stand_in(f"hf:{name}" + (f":{config}" if config else ""))
        return whole if split is None else whole[split]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_fetch_data_writes_copies_that_runs_read_offline(fake_hub, tmp_path, monkeypatch,
                                                         capsys):
    with pytest.raises(SystemExit) as exited:
        main(["fetch-data", "paper", str(tmp_path)])
    assert exited.value.code == 0
    fetched = {(name, config) for name, config, _, _ in fake_hub}
    assert ("openai/gsm8k", "main") in fetched and ("cais/mmlu", "all") in fetched  # probes too
    assert len(fetched) == len(fake_hub)  # one download per dataset, shared by its tasks
    assert all(split is None and kwargs == {} for _, _, split, kwargs in fake_hub)
    copy = HubSpec.parse("hf:openai/gsm8k:main").local_copy(tmp_path)
    assert copy == tmp_path / "hf" / "openai" / "gsm8k" / "main" and copy.is_dir()
    assert f"MSSR_DATA_ROOT={tmp_path}" in capsys.readouterr().out

    fake_hub.clear()
    monkeypatch.setenv("MSSR_DATA_ROOT", str(tmp_path))
    task = TaskConfig(name="gsm8k", train="hf:openai/gsm8k:main", eval="hf:openai/gsm8k:main",
                      eval_split="test", doc_to_text="{{question}}", doc_to_target="{{answer}}")
    data = load_task(task, seed=0)
    assert fake_hub == [] and len(data.train) == 12 and len(data.eval) == 12
    assert data.eval[0].source == "hf:openai/gsm8k:main[test]:1"

    with pytest.raises(SystemExit):  # a second fetch keeps the copies
        main(["fetch-data", "paper", str(tmp_path)])
    assert fake_hub == [] and "kept" in capsys.readouterr().out


def test_fetch_data_names_sources_that_are_not_on_the_hub(fake_hub, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["fetch-data", "olora", str(tmp_path)])
    out = capsys.readouterr().out
    assert f"task amazon: not on the hub; put your copy at {tmp_path}/local/amazon_review_full" \
        in out


def test_remote_code_runs_only_when_the_task_allows_it(fake_hub, tmp_path):
    task = {"name": "t", "train": "hf:google/boolq", "doc_to_text": "{{question}}",
            "doc_to_target": "{{answer}}"}
    load_task(TaskConfig(**task), seed=0)
    load_task(TaskConfig(**task, trust_remote_code=True), seed=0)
    assert [kwargs for *_, kwargs in fake_hub] == [{}, {"trust_remote_code": True}]


def test_config_key_beats_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MSSR_DATA_ROOT", str(tmp_path / "env"))
    assert resolve_data_root(None) == tmp_path / "env"
    assert resolve_data_root(str(tmp_path / "key")) == tmp_path / "key"
    monkeypatch.delenv("MSSR_DATA_ROOT")
    assert resolve_data_root(None) is None


@pytest.mark.parametrize("spec", ["hf:../x", "hf:a//b", "hf:a/b:..", "hf:"])
def test_hub_names_cannot_leave_the_data_root(spec):
    with pytest.raises(DataError, match="expected hf:NAME"):
        HubSpec.parse(spec)


def test_fetch_data_reads_a_config_file_and_where_names_a_missing_column(fake_hub, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text('tasks:\n  - {name: q, train: "hf:google/boolq", where: {nope: 1},\n'
                      '     doc_to_text: "{{question}}", doc_to_target: "{{answer}}"}\n')
    with pytest.raises(SystemExit):
        main(["fetch-data", str(config), str(tmp_path / "root")])
    assert [(name, split) for name, _, split, _ in fake_hub] == [("google/boolq", None)]
    task = TaskConfig(name="q", train="hf:google/boolq", where={"nope": 1},
                      doc_to_text="{{question}}", doc_to_target="{{answer}}")
    with pytest.raises(DataError, match="no column 'nope'; columns: question, answer") as caught:
        load_task(task, seed=0, data_root=str(tmp_path / "root"))
    assert caught.value.field == "where.nope"


def test_capped_tasks_decode_a_seeded_sample_of_a_sorted_dataset(tmp_path):
    import datasets

    sorted_by_label = datasets.Dataset.from_list(
        [{"text": f"row {i}", "label": i // 50} for i in range(200)])  # like dbpedia's test
    datasets.DatasetDict({"train": sorted_by_label, "test": sorted_by_label}).save_to_disk(
        str(HubSpec.parse("hf:x/sorted").local_copy(tmp_path)))
    task = TaskConfig(name="t", train="hf:x/sorted", eval="hf:x/sorted", eval_split="test",
                      max_train_examples=10, max_eval_examples=20, doc_to_text="{{text}}",
                      doc_to_target="{{label}}", doc_to_choice=["a", "b", "c", "d"])
    first = load_task(task, seed=0, data_root=str(tmp_path))
    rows = [int(e.source.rsplit(":", 1)[1]) for e in first.eval]
    assert len(rows) == 20 and rows == sorted(rows) and rows != list(range(1, 21))
    assert {e.answer for e in first.eval} == {0, 1, 2, 3}
    assert len(first.train) == 10 and {e.answer for e in first.train} != {0}
    again = load_task(task, seed=0, data_root=str(tmp_path))
    assert (again.train, again.eval) == (first.train, first.eval)
    assert load_task(task, seed=1, data_root=str(tmp_path)).eval != first.eval
