"""Stop requests agreed by every process: Ctrl-C (SIGINT) on any process sets accelerate's
trigger, and every process checks the trigger after each step (one small all-reduce), so all
of them stop after the same step and write the same checkpoint instead of hanging in a
collective that only some of them reach."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from accelerate import Accelerator


class StopRequests:
    """Collects Ctrl-C while installed; `agreed()` says whether any process asked to stop."""

    def __init__(self, accelerator: Accelerator):
        self.accelerator = accelerator
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """SIGINT asks for a stop instead of raising at once (main thread only)."""
        def request_stop(signum, frame):
            self.requested = True

        try:
            previous = signal.signal(signal.SIGINT, request_stop)
        except ValueError:  # not the main thread: leave signals alone
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def agreed(self) -> bool:
        """True on every process when any process asked to stop (call on all, at one point)."""
        if self.requested:
            self.accelerator.set_trigger()
            self.requested = False
        return self.accelerator.check_trigger()
