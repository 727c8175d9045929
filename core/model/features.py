"""Network features from integer event columns, and the timing facts the network needs.

The event contract (:mod:`core.representation.events`) stores each property as a small integer column
with ``-1`` for "none". The network sees them as concatenated one-hot blocks, in the order of the
original MahlerNet's vectors (spec 1.9): offset, beats, duration, pitch, instrument, then (ours)
velocity; the decoder's step input adds the active pitches and instruments; the context encoder's row
starts with the START flag. A ``-1`` becomes an all-zero block, so pauses, off-grid beats, START rows
and padding need no special case.

Timing is counted in *units* of 1/24 of a normalised quarter (q*), in which every offset and duration
class has an integer length (spec 1.2). Beats and the active-note sets can therefore be recomputed
from sampled events (scheduled sampling, free-running evaluation, generation) without ticks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.errors import UnsupportedMeterError
from core.representation import meters, vocabulary
from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, VELOCITY_BINS

# Length in units of every offset/duration class (the vocabulary's table, as a tensor).
CLASS_UNITS = torch.tensor(vocabulary.CLASS_UNITS)
BEAT_UNITS = vocabulary.HALF_BEAT_UNITS  # beats sit on a q*/2 grid


def one_hot(index: torch.Tensor, classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot of an integer tensor where ``-1`` (none, padding) gives an all-zero row."""
    return F.one_hot((index.long() + 1).clamp(min=0), classes + 1)[..., 1:].to(dtype)


def event_width(velocity: bool) -> int:
    """Width of an event row: offset, beats, duration, pitch, instrument (and velocity)."""
    return N_OFFSETS + N_BEATS + N_DURATIONS + N_PITCHES + N_INSTRUMENTS + (VELOCITY_BINS if velocity else 0)


def event_features(
    offset: torch.Tensor,
    beat: torch.Tensor,
    duration: torch.Tensor,
    pitch: torch.Tensor,
    instrument: torch.Tensor,
    velocity: torch.Tensor | None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The one-hot row of events (any leading shape); ``velocity=None`` leaves the block out."""
    blocks = [
        one_hot(offset, N_OFFSETS, dtype),
        one_hot(beat, N_BEATS, dtype),
        one_hot(duration, N_DURATIONS, dtype),
        one_hot(pitch, N_PITCHES, dtype),
        one_hot(instrument, N_INSTRUMENTS, dtype),
    ]
    if velocity is not None:
        blocks.append(one_hot(velocity, VELOCITY_BINS, dtype))
    return torch.cat(blocks, dim=-1)


def step_features(
    offset: torch.Tensor,
    beat: torch.Tensor,
    duration: torch.Tensor,
    pitch: torch.Tensor,
    instrument: torch.Tensor,
    velocity: torch.Tensor | None,
    active_pitches: torch.Tensor,
    active_instruments: torch.Tensor,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """The decoder's input row for a previous event: its event row plus what sounded at its onset."""
    row = event_features(offset, beat, duration, pitch, instrument, velocity, dtype)
    return torch.cat([row, active_pitches.to(dtype), active_instruments.to(dtype)], dim=-1)


def step_width(velocity: bool) -> int:
    return event_width(velocity) + N_PITCHES + N_INSTRUMENTS


# ------------------------------------------------------------------------------------------ timing
def bar_units(numerator: int, denominator: int) -> int:
    """Length of a bar of this meter in units (the representation's meter rules)."""
    try:
        return meters.bar_units(numerator, denominator)
    except UnsupportedMeterError:
        return 4 * vocabulary.UNITS_PER_QUARTER


def beats_of(time_units: torch.Tensor, bar_length: torch.Tensor) -> torch.Tensor:
    """Beat class of onsets at ``time_units`` from the barline (``-1`` off the q*/2 grid or past 7).

    ``bar_length`` (units) broadcasts against ``time_units``; a time on the next barline is beat 0.
    Same rule as :meth:`core.representation.meters.Meter.beat_of`, on tensors.
    """
    position = torch.remainder(time_units, bar_length.clamp(min=1))
    beat = torch.div(position, BEAT_UNITS, rounding_mode="floor")
    on_grid = (torch.remainder(position, BEAT_UNITS) == 0) & (beat < N_BEATS)
    return torch.where(on_grid, beat, torch.full_like(beat, -1))


def onset_times(offset: torch.Tensor) -> torch.Tensor:
    """Onset of every event of a bar in units from the barline: the running sum of its offsets."""
    lengths = CLASS_UNITS.to(offset.device)[offset.long().clamp(min=0)]
    return torch.cumsum(lengths * (offset >= 0), dim=-1)


def sounding_in_bar(
    time: torch.Tensor, duration: torch.Tensor, pitch: torch.Tensor, instrument: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitches and instruments of this bar's earlier notes that still sound at each onset.

    All inputs ``(B, L)``. A note sounds at time t if it started at or before t (earlier in the
    sequence) and ends after t (a note ending exactly at t is over, spec 1.7). Returns bool tensors
    ``(B, L, 96)`` and ``(B, L, 23)``. Notes held over from earlier bars are not included.
    """
    end = time + CLASS_UNITS.to(time.device)[duration.long().clamp(min=0)]
    is_note = pitch >= 0
    steps = time.shape[-1]
    earlier = torch.ones(steps, steps, dtype=torch.bool, device=time.device).tril(-1)  # [t, s]: s < t
    sounding = earlier & is_note.unsqueeze(-2) & (end.unsqueeze(-2) > time.unsqueeze(-1))  # (B, t, s)
    weights = sounding.float()
    pitches = torch.bmm(weights, one_hot(pitch, N_PITCHES)) > 0
    instruments = torch.bmm(weights, one_hot(instrument, N_INSTRUMENTS)) > 0
    return pitches, instruments
