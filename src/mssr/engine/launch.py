"""Start or resume one run: the run directory's guard rails, the recipe, the output files."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from mssr.errors import ConfigError
from mssr.files import atomic_write_bytes
from mssr.run_config import RunConfig, dump_config, load_config

CONFIG_FILE = "config.yaml"


def run_dir_for(config: RunConfig) -> Path:
    """The run directory named by `config.output` ({strategy} and {seed} filled in)."""
    return Path(config.output.format(strategy=config.strategy_name, seed=config.seed))


def prepare_run_dir(run_dir: Path, config: RunConfig, resume: bool, overwrite: bool) -> None:
    """Refuse to mix two runs in one directory; save the config beside the results."""
    saved = run_dir / CONFIG_FILE
    if saved.exists() and not overwrite:
        if not resume:
            raise ConfigError("output", f"{run_dir} already holds a run: pass --resume to "
                              "continue it or --overwrite to replace it")
        if not same_run(load_config(saved, anchor_paths=False), config):
            raise ConfigError("output", f"{run_dir} holds a run with a different config "
                              f"({saved}); resume it with that config or use another --output")
        return  # resumed: the saved config stays the record
    if run_dir.exists() and any(run_dir.iterdir()) and not overwrite:
        raise ConfigError("output", f"{run_dir} is not empty and holds no mssr run: choose "
                          "another --output or pass --overwrite")
    if overwrite and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(saved, dump_config(config).encode())


def same_run(saved: RunConfig, config: RunConfig) -> bool:
    """Whether `config` continues the saved run: equal, except that joint runs, which replay
    nothing, ignore the replay settings (a changed shipped strategy does not orphan them)."""
    if saved.joint and config.joint:
        saved = dataclasses.replace(saved, replay=config.replay,
                                    replay_budget=config.replay_budget)
    return saved == config


def execute(config: RunConfig, run_dir: Path | None = None, resume: bool = False,
            overwrite: bool = False, show_progress: bool = True) -> tuple[Path, dict[str, Any]]:
    """Run (or resume) `config`; write results.json, report.md and plots; return both."""
    from transformers.utils import logging as transformers_logging

    from mssr.data.suites import check_suite
    from mssr.engine.distributed import make_accelerator
    from mssr.engine.recipe import ContinualRun
    from mssr.report import write_report, write_results
    from mssr.report.reference import load_reference, with_normalised_score

    check_suite(config.suite)  # before the run directory or any model
    run_dir = Path(run_dir) if run_dir is not None else run_dir_for(config)
    transformers_logging.disable_progress_bar()  # our own bar shows the run's progress
    accelerator = make_accelerator(config.train, config.replay, run_dir)
    if accelerator.is_main_process:
        prepare_run_dir(run_dir, config, resume, overwrite)
    accelerator.wait_for_everyone()
    run = ContinualRun(config, run_dir, accelerator, show_progress=show_progress)
    run.setup(resume=resume)
    reference = load_reference(config.reference_runs) if config.reference_runs else None
    if reference is not None:  # checked before training: a bad reference fails fast
        reference.for_tasks([task.name for task in run.tasks],
                            {task.name: task.data.scorer for task in run.tasks}, "reference_runs")
    results = with_normalised_score(run.run(), reference, "reference_runs")
    if accelerator.is_main_process:
        write_results(run_dir, results)
        write_report(run_dir, results)
    accelerator.wait_for_everyone()
    return run_dir, results


def execute_all(configs: list[RunConfig], jobs: int = 1, resume: bool = True,
                overwrite: bool = False) -> list[Path]:
    """Each config's run directory, running `jobs` of them at once in worker processes with
    an equal share of the CPU threads (one each when jobs >= the cores): on a small CPU,
    single-threaded runs side by side beat one run at a time with every thread."""
    from mssr.data.suites import check_suite

    for config in configs:  # every name checked before the first run starts
        check_suite(config.suite)
    if jobs == 1:
        return [execute(config, resume=resume, overwrite=overwrite)[0] for config in configs]
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_share_threads, initargs=(jobs,)) as pool:
        return list(pool.map(partial(_execute_quietly, resume=resume, overwrite=overwrite),
                             configs))


def _share_threads(jobs: int) -> None:
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // jobs))


def _execute_quietly(config: RunConfig, resume: bool, overwrite: bool) -> Path:
    run_dir = execute(config, resume=resume, overwrite=overwrite, show_progress=False)[0]
    print(f"finished {run_dir}", flush=True)
    return run_dir
