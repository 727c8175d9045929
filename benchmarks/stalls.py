"""What the window benchmarks share: a stall meter for the GUI thread's event loop."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QTimer


class StallMeter:
    """A 10 ms timer ticking in the GUI thread from creation: the longest gap between its ticks is
    the longest time the window could not repaint or answer (a stall)."""

    def __init__(self) -> None:
        self._clock = QElapsedTimer()
        self._clock.start()
        self.ticks: list[int] = [0]
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(lambda: self.ticks.append(self._clock.elapsed()))
        self._timer.start()

    def restart(self) -> None:
        """Forget the ticks so far (a new phase begins now)."""
        self.ticks = [self._clock.elapsed()]

    def longest_ms(self) -> float:
        return float(max((b - a for a, b in zip(self.ticks, self.ticks[1:])), default=0))
