"""Velocity bins: MIDI velocity 1..127 quantised to ``VELOCITY_BINS`` (8) dynamic levels.

The original threw velocity away (every output note had velocity 64). Here each note keeps one of 8
bins, one per written dynamic from ppp to fff. The bin edges sit halfway between the velocities that
notation programs commonly give those dynamics (ppp 16, pp 33, p 49, mp 64, mf 80, f 96, ff 112,
fff 127), and decoding gives that velocity back:

===  =======  ==============
bin  MIDI     decodes to
===  =======  ==============
0    1-24     16  (ppp)
1    25-40    33  (pp)
2    41-56    49  (p)
3    57-72    64  (mp)
4    73-88    80  (mf)
5    89-104   96  (f)
6    105-119  112 (ff)
7    120-127  127 (fff)
===  =======  ==============
"""

from __future__ import annotations

import numpy as np

from core.representation.events import VELOCITY_BINS

# Lowest velocity of bins 1..7 (bin 0 starts at 1).
BIN_EDGES: tuple[int, ...] = (25, 41, 57, 73, 89, 105, 120)
BIN_VELOCITIES: tuple[int, ...] = (16, 33, 49, 64, 80, 96, 112, 127)
assert len(BIN_VELOCITIES) == VELOCITY_BINS == len(BIN_EDGES) + 1

_VELOCITY_OF_BIN = np.array(BIN_VELOCITIES, np.int64)
_BIN_OF_VELOCITY = np.searchsorted(np.array(BIN_EDGES), np.arange(128), side="right").astype(np.int16)


def velocity_bin(velocity: int) -> int:
    """Bin 0..7 of a MIDI velocity 1..127 (values outside are clipped)."""
    return int(_BIN_OF_VELOCITY[min(max(int(velocity), 1), 127)])


def velocity_bins(velocities: np.ndarray) -> np.ndarray:
    """Bins of an array of velocities."""
    return _BIN_OF_VELOCITY[np.clip(np.asarray(velocities, dtype=np.int64), 1, 127)]


def bin_velocity(index: int) -> int:
    """The MIDI velocity a bin decodes to."""
    if not 0 <= index < VELOCITY_BINS:
        raise ValueError(f"velocity bin {index} is outside 0-{VELOCITY_BINS - 1}")
    return BIN_VELOCITIES[index]


def bin_velocities(bins: np.ndarray, default: int) -> np.ndarray:
    """The MIDI velocities an array of bins decodes to; ``default`` where a bin is outside 0-7 (none)."""
    bins = np.asarray(bins, dtype=np.int64)
    known = (bins >= 0) & (bins < VELOCITY_BINS)
    return np.where(known, _VELOCITY_OF_BIN[np.where(known, bins, 0)], default)
