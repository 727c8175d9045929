"""The player's time: where "now" comes from and how its thread sleeps until something is due.

The player asks its clock for the time (in seconds, any origin) and, when nothing is due yet, asks
the clock to sleep on the player's condition until a given number of clock seconds passed or the
condition was notified (play, stop, pause...). :class:`MonotonicClock` is real time and is what the
app and the CLI use. Another clock, such as a test's clock that moves only when told, makes the
player's schedule checkable exactly, whatever the machine's speed: every message is sent once the
clock reaches its time, never before.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A time source the player can sleep on."""

    def now(self) -> float:
        """The current time in seconds (only differences matter)."""

    def sleep(self, condition: threading.Condition, seconds: float | None) -> None:
        """Called with ``condition`` held: release it and wait until ``seconds`` of this clock
        passed (None: no limit) or the condition is notified; return with it held again."""


class MonotonicClock:
    """Real time: ``time.monotonic`` and a plain timed wait on the condition."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, condition: threading.Condition, seconds: float | None) -> None:
        condition.wait(seconds)
