"""results.json: written atomically and validated against results_schema.json on the way out
and on the way in, so every reader can trust its shape."""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from typing import Any

from mssr.errors import MSSRError
from mssr.files import atomic_write_bytes

RESULTS_FILE = "results.json"
# the libraries whose versions results.json records: a change in any of them can move a score
VERSIONED_PACKAGES = ("torch", "transformers", "peft", "accelerate", "trl", "datasets", "numpy")


def library_versions() -> dict[str, str | None]:
    """The installed version of each of VERSIONED_PACKAGES (None where not installed), then
    mssr's and Python's: the `versions` of results.json."""
    import platform
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for package in (*VERSIONED_PACKAGES, "mssr"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    versions["python"] = platform.python_version()
    return versions


@functools.cache
def results_schema() -> dict[str, Any]:
    """The JSON Schema of results.json (shipped as package data)."""
    return json.loads(resources.files("mssr.report").joinpath("results_schema.json").read_text())


def validate_results(results: dict[str, Any], source: str) -> None:
    """Raise MSSRError naming `source` and the offending field when `results` breaks the schema
    or its lists disagree with its task list."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(results_schema()).iter_errors(results))
    if error is not None:
        raise MSSRError(f"{source}: invalid results at {error.json_path}: {error.message}")
    tasks = results["tasks"]
    width = len(tasks)
    if set(results["scorers"]) != set(tasks):
        raise MSSRError(f"{source}: invalid results at $.scorers: needs one scorer per task "
                        f"{tasks}, has {sorted(results['scorers'])}")
    if len(results["base_scores"]) != width:
        raise MSSRError(f"{source}: invalid results at $.base_scores: needs {width} scores, "
                        f"has {len(results['base_scores'])}")
    for key in ("replay_timeline", "memory_snapshots"):
        for index, entry in enumerate(results[key]):
            if entry["task"] >= width:
                raise MSSRError(f"{source}: invalid results at $.{key}[{index}].task: "
                                f"{entry['task']} is not a task index (there are {width} tasks)")
    for index, row in enumerate(results["acc_matrix"]):
        if len(row) != width:
            raise MSSRError(f"{source}: invalid results at $.acc_matrix[{index}]: needs "
                            f"{width} scores, has {len(row)}")


def write_results(run_dir: Path, results: dict[str, Any]) -> Path:
    """Validate `results` and write them to run_dir/results.json atomically."""
    path = Path(run_dir) / RESULTS_FILE
    validate_results(results, str(path))
    try:
        text = json.dumps(results, indent=2, allow_nan=False)
    except ValueError as error:
        raise MSSRError(f"{path}: results hold a non-finite number (NaN or infinity), which "
                        f"JSON cannot carry: {error}") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (text + "\n").encode())
    return path


def load_results(path_or_dir: str | Path) -> dict[str, Any]:
    """A run's validated results, from results.json or the run directory holding it."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MSSRError(f"{path}: no such results file (has the run finished?)") from error
    except json.JSONDecodeError as error:
        raise MSSRError(f"{path}, line {error.lineno}: not valid JSON: {error.msg}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise MSSRError(f"{path}: cannot read results: {error}") from error
    validate_results(results, str(path))
    return results
