"""Pitch range and octave folding (spec 1.4).

The representation holds 96 pitches, MIDI 17 to 112; pitch index = MIDI pitch - 17. Pitches outside
are moved by octaves into the range. The original moved MIDI 17 itself up to 29 (it tested ``<= 17``),
so pitch index 0 was never produced; here 17 stays 17 (spec section 6, item 1).
"""

from __future__ import annotations

from core.representation.events import LOWEST_PITCH, N_PITCHES

HIGHEST_PITCH = LOWEST_PITCH + N_PITCHES - 1  # MIDI 112


def fold_pitch(pitch: int) -> int:
    """MIDI ``pitch`` moved by whole octaves into 17..112."""
    if pitch < LOWEST_PITCH:
        return pitch + 12 * ((LOWEST_PITCH - pitch + 11) // 12)
    if pitch > HIGHEST_PITCH:
        return pitch - 12 * ((pitch - HIGHEST_PITCH + 11) // 12)
    return pitch


def pitch_index(midi_pitch: int) -> int:
    """Index 0..95 of a MIDI pitch (folded first)."""
    return fold_pitch(midi_pitch) - LOWEST_PITCH


def midi_pitch(index: int) -> int:
    """MIDI pitch of pitch index 0..95."""
    if not 0 <= index < N_PITCHES:
        raise ValueError(f"pitch index {index} is outside 0-{N_PITCHES - 1}")
    return index + LOWEST_PITCH
