"""Atomic, verified checkpoints: each is a directory written under a temporary name, fsynced,
checksummed in a manifest and renamed into place; `latest` names the newest complete one. A
torn or altered checkpoint fails verification and is never loaded."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mssr.errors import CheckpointError
from mssr.files import atomic_write_bytes, fsync_dir, fsync_file, write_synced

MANIFEST = "manifest.json"
LATEST = "latest"


class CheckpointManager:
    """Writes, verifies, finds and prunes the checkpoints of one run directory."""

    def __init__(self, run_dir: Path, keep: int = 2):
        self.root = Path(run_dir) / "checkpoints"
        self.keep = keep

    def save(self, name: str, write: Callable[[Path], None], min_free_bytes: int = 0) -> Path:
        """Call `write(tmp_dir)` to fill a new checkpoint, then publish it atomically."""
        write(self.begin(name, min_free_bytes))
        return self.publish(name)

    def begin(self, name: str, min_free_bytes: int = 0) -> Path:
        """A fresh temporary directory for checkpoint `name`, once the disk has room for it."""
        self.root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.root).free
        if free < min_free_bytes:
            raise CheckpointError(
                f"only {free / 2**20:.1f} MiB free under {self.root}, a checkpoint needs about "
                f"{min_free_bytes / 2**20:.1f} MiB: free some space, then rerun with --resume "
                "(the last checkpoint is intact)")
        tmp = self._tmp(name)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        return tmp

    def publish(self, name: str) -> Path:
        """Checksum, sync and rename the directory `begin` gave; point `latest` at it."""
        tmp, final = self._tmp(name), self.root / name
        manifest = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*"))
                    if p.is_file()}
        write_synced(tmp / MANIFEST, json.dumps(manifest, indent=1).encode())
        for path in tmp.rglob("*"):
            if path.is_file():
                fsync_file(path)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        fsync_dir(self.root)
        atomic_write_bytes(self.root / LATEST, name.encode())
        self._prune(keep_name=name)
        return final

    def _tmp(self, name: str) -> Path:
        return self.root / f".tmp-{name}"

    def latest(self) -> Path | None:
        """The newest checkpoint that verifies, or None when there is none."""
        if not self.root.is_dir():
            return None
        names = []
        pointer = self.root / LATEST
        if pointer.is_file():
            names.append(pointer.read_text().strip())
        names += sorted((p.name for p in self.root.iterdir()
                         if p.is_dir() and not p.name.startswith(".")), reverse=True)
        for name in dict.fromkeys(names):
            if verify(self.root / name):
                return self.root / name
        return None

    def _prune(self, keep_name: str) -> None:
        complete = sorted(p for p in self.root.iterdir()
                          if p.is_dir() and not p.name.startswith("."))
        for old in complete[:-self.keep]:
            if old.name != keep_name:
                shutil.rmtree(old, ignore_errors=True)


def verify(checkpoint: Path) -> bool:
    """True when every file listed in the manifest is present with its checksum."""
    try:
        manifest = json.loads((checkpoint / MANIFEST).read_text())
        return all(_sha256(checkpoint / rel) == digest for rel, digest in manifest.items())
    except (OSError, ValueError):
        return False


def save_tree(directory: Path, name: str, tree: dict[str, Any]) -> None:
    """A nested state dict as `name.json` plus its numpy arrays in `name.npz`."""
    arrays: dict[str, np.ndarray] = {}

    def strip(node: Any, key: str) -> Any:
        if isinstance(node, np.ndarray):
            arrays[key] = node
            return {"__array__": key}
        if isinstance(node, dict):
            return {k: strip(v, f"{key}/{k}") for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [strip(v, f"{key}/{i}") for i, v in enumerate(node)]
        if isinstance(node, np.generic):
            return node.item()
        return node

    skeleton = strip(tree, "")
    (directory / f"{name}.json").write_text(json.dumps(skeleton))
    with open(directory / f"{name}.npz", "wb") as handle:
        np.savez(handle, **arrays)


def load_tree(directory: Path, name: str) -> dict[str, Any]:
    """The inverse of `save_tree`."""
    skeleton = json.loads((directory / f"{name}.json").read_text())
    with np.load(directory / f"{name}.npz") as arrays:
        def fill(node: Any) -> Any:
            if isinstance(node, dict):
                if set(node) == {"__array__"}:
                    return arrays[node["__array__"]]
                return {k: fill(v) for k, v in node.items()}
            if isinstance(node, list):
                return [fill(v) for v in node]
            return node

        return fill(skeleton)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
