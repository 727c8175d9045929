"""What part of the piece the piano roll shows, and how ticks and pitches map to pixels.

Qt-free so that the mapping can be tested and benchmarked on its own. One Viewport is shared by the
canvas, the ruler and the keyboard of a piano roll: they all read it, only the roll changes it.
Time runs left to right; pitch runs bottom to top, one row of ``row_height`` pixels per semitone.
"""

from __future__ import annotations

from dataclasses import dataclass

LOWEST_PITCH = 0
HIGHEST_PITCH = 127
MIN_PX_PER_TICK = 1e-5
MAX_PX_PER_TICK = 2.0
MIN_ROW_HEIGHT = 2.0
MAX_ROW_HEIGHT = 40.0


@dataclass
class Viewport:
    """The visible window: ``left_tick`` at x = 0, ``top_pitch`` (a fractional pitch row, the row of
    pitch p spans p+1 at its top to p at its bottom) at y = 0; canvas size in pixels."""

    left_tick: float = 0.0
    px_per_tick: float = 0.05
    top_pitch: float = 96.0
    row_height: float = 10.0
    width: int = 800
    height: int = 400

    # ------------------------------------------------------------------------------ mapping
    def x_of(self, tick: float) -> float:
        return (tick - self.left_tick) * self.px_per_tick

    def tick_of(self, x: float) -> float:
        return self.left_tick + x / self.px_per_tick

    def y_of(self, pitch: float) -> float:
        """Top edge of the row of ``pitch``."""
        return (self.top_pitch - pitch - 1) * self.row_height

    def pitch_of(self, y: float) -> int:
        """The pitch whose row holds ``y``."""
        return int(self.top_pitch - y / self.row_height - 1e-9) if y >= 0 else int(self.top_pitch)

    @property
    def right_tick(self) -> float:
        return self.tick_of(self.width)

    @property
    def bottom_pitch(self) -> float:
        return self.top_pitch - self.height / self.row_height

    def visible_pitches(self) -> tuple[int, int]:
        """Lowest and highest pitch with at least part of their row on screen (clamped to 0-127)."""
        low = max(LOWEST_PITCH, int(self.bottom_pitch) - 1)
        high = min(HIGHEST_PITCH, int(self.top_pitch) + 1)
        return low, high

    # ----------------------------------------------------------------------------- changing
    def zoom_time(self, factor: float, anchor_x: float) -> None:
        """Scale time by ``factor`` keeping the tick under ``anchor_x`` where it is."""
        anchor_tick = self.tick_of(anchor_x)
        self.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, self.px_per_tick * factor))
        self.left_tick = max(0.0, anchor_tick - anchor_x / self.px_per_tick)

    def zoom_pitch(self, factor: float, anchor_y: float) -> None:
        """Scale the row height by ``factor`` keeping the pitch under ``anchor_y`` where it is."""
        anchor_pitch = self.top_pitch - anchor_y / self.row_height
        self.row_height = min(MAX_ROW_HEIGHT, max(self.min_row_height, self.row_height * factor))
        self.scroll_to_pitch(anchor_pitch + anchor_y / self.row_height)

    @property
    def min_row_height(self) -> float:
        """Rows never get so small that less than the whole MIDI range fills the canvas."""
        return max(MIN_ROW_HEIGHT, self.height / (HIGHEST_PITCH + 1))

    def scroll_to_tick(self, left_tick: float) -> None:
        self.left_tick = max(0.0, left_tick)

    def scroll_to_pitch(self, top_pitch: float) -> None:
        """Put ``top_pitch`` at the top, kept so that the rows stay inside 0-127."""
        span = self.height / self.row_height
        self.top_pitch = min(HIGHEST_PITCH + 1.0, max(LOWEST_PITCH + span, top_pitch))

    def fit(self, first_tick: int, last_tick: int, low_pitch: int, high_pitch: int) -> None:
        """Show ticks ``first_tick``-``last_tick`` and pitches ``low_pitch``-``high_pitch`` (with a
        little room around them) on the whole canvas."""
        span_ticks = max(1, last_tick - first_tick)
        self.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, self.width * 0.98 / span_ticks))
        self.left_tick = max(0.0, float(first_tick))
        low = max(LOWEST_PITCH, low_pitch - 2)
        high = min(HIGHEST_PITCH, high_pitch + 2)
        rows = max(24, high - low + 1)
        self.row_height = min(MAX_ROW_HEIGHT, max(self.min_row_height, self.height / rows))
        middle = (low + high + 1) / 2
        self.scroll_to_pitch(middle + self.height / self.row_height / 2)
