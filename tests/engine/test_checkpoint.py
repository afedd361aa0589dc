import json

import numpy as np
import pytest

from mssr.engine.checkpoint import CheckpointManager, load_tree, save_tree, verify
from mssr.errors import CheckpointError


def write_payload(value):
    def write(directory):
        (directory / "payload.txt").write_text(value)
        save_tree(directory, "state", {"a": np.arange(3), "b": {"c": [1.5, np.ones(2)]},
                                       "d": None, "e": "x"})
    return write


def test_tree_round_trip(tmp_path):
    tree = {"a": np.arange(3), "b": {"c": [1.5, np.ones(2)], "big": 2**70}, "d": None}
    save_tree(tmp_path, "t", tree)
    loaded = load_tree(tmp_path, "t")
    np.testing.assert_array_equal(loaded["a"], tree["a"])
    np.testing.assert_array_equal(loaded["b"]["c"][1], np.ones(2))
    assert loaded["b"]["c"][0] == 1.5 and loaded["b"]["big"] == 2**70 and loaded["d"] is None


def test_latest_is_newest_verified_and_old_ones_pruned(tmp_path):
    manager = CheckpointManager(tmp_path, keep=2)
    for step in range(4):
        manager.save(f"step-{step:04d}", write_payload(str(step)))
    latest = manager.latest()
    assert latest.name == "step-0003"
    assert (latest / "payload.txt").read_text() == "3"
    assert sorted(p.name for p in manager.root.iterdir() if p.is_dir()) == ["step-0002",
                                                                           "step-0003"]


def test_torn_checkpoint_is_never_loaded(tmp_path):
    manager = CheckpointManager(tmp_path)
    manager.save("step-0001", write_payload("good"))
    newest = manager.save("step-0002", write_payload("newer"))
    (newest / "payload.txt").write_text("torn")  # a write that did not finish
    assert not verify(newest)
    assert manager.latest().name == "step-0001"


def test_leftover_temp_directory_is_ignored(tmp_path):
    manager = CheckpointManager(tmp_path)
    manager.save("step-0001", write_payload("good"))
    (manager.root / ".tmp-step-0002").mkdir()  # killed during a write
    assert manager.latest().name == "step-0001"


def test_manifest_lists_every_file(tmp_path):
    path = CheckpointManager(tmp_path).save("c", write_payload("v"))
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(manifest) == {"payload.txt", "state.json", "state.npz"}


def test_too_little_free_space_fails_before_writing(tmp_path):
    manager = CheckpointManager(tmp_path)
    manager.save("step-0001", write_payload("good"))
    with pytest.raises(CheckpointError, match="free"):
        manager.save("step-0002", write_payload("x"), min_free_bytes=2**62)
    assert manager.latest().name == "step-0001"
