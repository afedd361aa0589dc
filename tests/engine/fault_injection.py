"""Run the `mssr` CLI and SIGKILL the process itself at a chosen point (a real SIGKILL: no
cleanup runs). MSSR_KILL names the point: step:N (before global step N), eval:N (during the
N-th evaluation, counting from 0 = the base model's), checkpoint:N (during the N-th checkpoint
write, after its weights are on disk and before it is published). sigint:N sends SIGINT (as
Ctrl-C does) before global step N instead; sigint-rank1:N sends it to process 1 only (a
multi-process run must still stop every process after the same step). MSSR_ACCEPT=alternate
(replay.targets: self) keeps the model's real answers but accepts every other one, so a run of
the untrained tiny model has accepted answers to resume."""

import dataclasses
import os
import signal
import sys

from mssr.cli import main
from mssr.engine import recipe, scoring, state

point, count = os.environ.get("MSSR_KILL", "none:0").split(":")
count = int(count)
calls = {"eval": 0, "checkpoint": 0}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wrap(owner, name, should_die):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if should_die(*args):
            die()
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def nth(kind):
    def check(*_):
        calls[kind] += 1
        return calls[kind] - 1 == count
    return check


if point in ("sigint", "sigint-rank1"):
    original_step = recipe.ContinualRun.train_step
    only_rank = 1 if point == "sigint-rank1" else None

    def interrupted_step(self, *args, **kwargs):
        rank = self.accelerator.process_index
        if self.progress.global_step == count and only_rank in (None, rank):
            os.kill(os.getpid(), signal.SIGINT)
        return original_step(self, *args, **kwargs)

    recipe.ContinualRun.train_step = interrupted_step
elif point == "step":
    wrap(recipe.ContinualRun, "train_step", lambda self, *_: self.progress.global_step == count)
elif point == "eval":
    wrap(recipe.ContinualRun, "evaluate", nth("eval"))
elif point == "checkpoint":
    wrap(state, "save_tree", nth("checkpoint"))
if os.environ.get("MSSR_ACCEPT") == "alternate":
    answer = scoring.Scoring.answer

    def alternate(*args, **kwargs):
        answers = answer(*args, **kwargs)
        accepted = [text is not None and row % 2 == 0 for row, text in enumerate(answers.texts)]
        return dataclasses.replace(answers, accepted=accepted)

    scoring.Scoring.answer = alternate
sys.exit(main(sys.argv[1:]))
