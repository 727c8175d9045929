"""Does new music continue the piece? Figures a composer would hear, measured on note lists.

Accuracy on reconstructed bars is the paper's metric; a composer hears instead whether new bars keep
the key, the texture and density, the instruments and voices that move like the seed's. These
functions measure that on plain note arrays (:class:`Notes`), so the same figures apply to a model's
bars and to the free baselines they are compared with (the seed repeated, another work transposed, the
real continuation), see ``benchmarks/musicality.py``.

Definitions (every share counts notes, not their durations, unless it says so):

* **key**: Krumhansl-Schmuckler: the correlation of the duration-weighted pitch-class histogram with
  the Krumhansl-Kessler major and minor profiles rotated to each of the 12 tonics; the best wins.
* **in key**: the share of notes whose pitch class is in the key's scale: the major scale, or for a
  minor key the natural minor scale plus the leading tone (the raised seventh of harmonic minor),
  since the leading tone belongs to the key in this repertoire.
* **pitch-class overlap**: the histogram intersection of two duration-weighted, normalised
  pitch-class histograms (1 = the same distribution, 0 = no pitch class in common).
* **polyphony**: the mean number of notes sounding at each distinct onset.
* **top-voice leaps**: the top voice is the highest note sounding at each onset; the share of its
  consecutive moves that leap more than an octave.
* **foreign instruments**: the share of notes on instrument classes the reference (seed and context
  bars) does not use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.representation.instruments import MAHLERNET
from core.music.score import Score

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor and the leading tone
LEAP = 12  # semitones: a leap over an octave
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class Notes:
    """The pitched notes of a stretch of music, as parallel arrays (drums left out)."""

    start: np.ndarray  # ticks from the stretch's start
    duration: np.ndarray
    pitch: np.ndarray
    instrument: np.ndarray  # MahlerNet instrument class (-1: a program the table ignores)

    def __len__(self) -> int:
        return len(self.pitch)

    @classmethod
    def of(cls, score: Score) -> "Notes":
        starts, durations, pitches, instruments = [], [], [], []
        for track in score.tracks:
            if track.is_drum:
                continue
            kind = MAHLERNET.class_of(track.program)
            for note in track.notes:
                starts.append(note.start)
                durations.append(note.duration)
                pitches.append(note.pitch)
                instruments.append(-1 if kind is None else kind)
        return cls(*(np.asarray(values, np.int64) for values in (starts, durations, pitches, instruments)))

    def transposed(self, semitones: int) -> "Notes":
        return Notes(self.start, self.duration, self.pitch + semitones, self.instrument)

    def between(self, start: int, end: int) -> "Notes":
        """The notes starting in ``[start, end)``, their times from ``start``."""
        keep = (self.start >= start) & (self.start < end)
        return Notes(self.start[keep] - start, self.duration[keep], self.pitch[keep], self.instrument[keep])


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, C = 0
    minor: bool

    @property
    def name(self) -> str:
        return f"{NAMES[self.tonic]} {'minor' if self.minor else 'major'}"

    @property
    def scale(self) -> frozenset[int]:
        return frozenset((self.tonic + step) % 12 for step in (MINOR_SCALE if self.minor else MAJOR_SCALE))


def pitch_class_histogram(notes: Notes) -> np.ndarray:
    """(12,) duration-weighted pitch-class distribution (zeros for no notes)."""
    histogram = np.bincount(notes.pitch % 12, weights=np.maximum(notes.duration, 1), minlength=12).astype(float)
    total = histogram.sum()
    return histogram / total if total else histogram


def find_key(notes: Notes) -> Key | None:
    """The Krumhansl-Schmuckler key of ``notes`` (None without notes or with one pitch class only)."""
    histogram = pitch_class_histogram(notes)
    if np.count_nonzero(histogram) < 2:
        return None
    best, best_score = None, -np.inf
    for minor, profile in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE)):
        for tonic in range(12):
            score = np.corrcoef(histogram, np.roll(profile, tonic))[0, 1]
            if score > best_score:
                best, best_score = Key(tonic, minor), score
    return best


def in_key(notes: Notes, key: Key) -> float:
    """Share of notes in ``key``'s scale (nan without notes)."""
    if not len(notes):
        return float("nan")
    return float(np.isin(notes.pitch % 12, sorted(key.scale)).mean())


def pitch_class_overlap(a: Notes, b: Notes) -> float:
    """Histogram intersection of the two duration-weighted pitch-class distributions (nan if either is
    empty)."""
    if not len(a) or not len(b):
        return float("nan")
    return float(np.minimum(pitch_class_histogram(a), pitch_class_histogram(b)).sum())


def polyphony(notes: Notes) -> float:
    """Mean number of notes sounding at each distinct onset (nan without notes)."""
    if not len(notes):
        return float("nan")
    onsets = np.unique(notes.start)
    ends = notes.start + np.maximum(notes.duration, 1)
    sounding = (notes.start[None, :] <= onsets[:, None]) & (ends[None, :] > onsets[:, None])
    return float(sounding.sum(axis=1).mean())


def top_voice(notes: Notes) -> np.ndarray:
    """The highest sounding pitch at each onset, in time order (a note held from an earlier onset
    counts: an inner voice moving under a held melody note is not the top voice)."""
    if not len(notes):
        return np.zeros(0, np.int64)
    ends = notes.start + np.maximum(notes.duration, 1)
    onsets = np.unique(notes.start)
    sounding = (notes.start[None, :] <= onsets[:, None]) & (ends[None, :] > onsets[:, None])
    return np.where(sounding, notes.pitch[None, :], -1).max(axis=1)


def leap_share(notes: Notes) -> float:
    """Share of the top voice's moves that leap more than an octave (nan with fewer than two onsets)."""
    voice = top_voice(notes)
    if len(voice) < 2:
        return float("nan")
    return float((np.abs(np.diff(voice)) > LEAP).mean())


def foreign_share(notes: Notes, reference: Notes) -> float:
    """Share of ``notes`` on instrument classes that ``reference`` does not use (nan without notes)."""
    if not len(notes):
        return float("nan")
    return float((~np.isin(notes.instrument, np.unique(reference.instrument))).mean())


def note_f1(decoded: Notes, original: Notes) -> float:
    """F1 of the notes of ``decoded`` against ``original``, a note matching one with the same onset and
    pitch (each matched once). 1 for two empty lists."""
    if not len(decoded) and not len(original):
        return 1.0
    wanted = {}
    for key in zip(original.start.tolist(), original.pitch.tolist()):
        wanted[key] = wanted.get(key, 0) + 1
    hits = 0
    for key in zip(decoded.start.tolist(), decoded.pitch.tolist()):
        if wanted.get(key, 0):
            wanted[key] -= 1
            hits += 1
    if not hits:
        return 0.0
    precision, recall = hits / len(decoded), hits / len(original)
    return 2 * precision * recall / (precision + recall)


def transposition_to(notes: Notes, key: Key) -> int:
    """Semitones (-5..6) that move ``notes``' own key's tonic onto ``key``'s (0 if it has no key)."""
    own = find_key(notes)
    if own is None:
        return 0
    return (key.tonic - own.tonic + 6) % 12 - 6
