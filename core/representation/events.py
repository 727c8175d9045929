"""Events as integer index arrays: the contract between the preprocessor, the network and generation.

MahlerNet describes music as a sequence of events sorted by onset (chord members by ascending pitch).
The original stored each event as a 367-wide one-hot uint8 row; here each property is one small
integer column, and the network builds one-hot vectors or embeddings from them. On disk a piece is
one ``.npz`` file of these columns (never pickle: ``allow_pickle=False`` when loading).

Columns of :class:`EventArrays` (``n`` events; ``-1`` = "none"):

=================== ======= ===================================================================
column              range   meaning
=================== ======= ===================================================================
offset              0..59   time since the previous event's onset (class index, see vocabulary)
duration            0..59   note duration class; 0 only for pause events
pitch               -1..95  pitch index = MIDI pitch - 17; -1 for a pause
instrument          -1..22  instrument class; -1 for a pause
beat                -1..7   metric position of the onset on the q*/2 grid; -1 when off the grid
velocity            -1..V-1 velocity bin (``VELOCITY_BINS`` bins); -1 for a pause
is_pause            bool    a time-advance-only event
active_pitches      bool    [n, 96] pitches sounding at the onset (not the event itself)
active_instruments  bool    [n, 23] instrument classes sounding at the onset
=================== ======= ===================================================================

An :class:`EncodedPiece` is the bars of one source file: the events of all bars concatenated, the
bar boundaries, and per bar its chunk (contexts never cross a chunk boundary), meter and tempo.
Within a bar the first event's offset is measured from the barline (MahlerNet's section 2.10).
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from core.errors import DatasetError

REPRESENTATION_VERSION = 1

N_OFFSETS = 60
N_DURATIONS = 60
N_PITCHES = 96
N_INSTRUMENTS = 23
N_BEATS = 8
VELOCITY_BINS = 8
LOWEST_PITCH = 17  # MIDI pitch of pitch index 0
NONE = -1

# The event properties the network's output chain predicts, in the chain's order (each conditioned on
# the ones before it, see core.model.output_chain), and each one's class count. Defined here once.
PROPERTIES = ("offset", "duration", "pitch", "instrument", "velocity")
PROPERTY_SIZES = {"offset": N_OFFSETS, "duration": N_DURATIONS, "pitch": N_PITCHES, "instrument": N_INSTRUMENTS, "velocity": VELOCITY_BINS}

_SCALAR_COLUMNS = ("offset", "duration", "pitch", "instrument", "beat", "velocity")
_BIT_MATRICES = {"active_pitches": N_PITCHES, "active_instruments": N_INSTRUMENTS}  # stored packed to bits


@dataclass(frozen=True)
class EventArrays:
    """``n`` events as parallel columns (see the module docstring for their meaning)."""

    offset: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    instrument: np.ndarray
    beat: np.ndarray
    velocity: np.ndarray
    is_pause: np.ndarray
    active_pitches: np.ndarray
    active_instruments: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.offset)
        for name in _SCALAR_COLUMNS:
            column = np.asarray(getattr(self, name), dtype=np.int16)
            if column.shape != (n,):
                raise ValueError(f"event column {name} has shape {column.shape}, expected ({n},)")
            object.__setattr__(self, name, column)
        object.__setattr__(self, "is_pause", np.asarray(self.is_pause, dtype=bool).reshape(n))
        object.__setattr__(
            self, "active_pitches", np.asarray(self.active_pitches, dtype=bool).reshape(n, N_PITCHES)
        )
        object.__setattr__(
            self,
            "active_instruments",
            np.asarray(self.active_instruments, dtype=bool).reshape(n, N_INSTRUMENTS),
        )

    def __len__(self) -> int:
        return len(self.offset)

    @classmethod
    def empty(cls) -> "EventArrays":
        return cls(
            *(np.zeros(0, np.int16) for _ in _SCALAR_COLUMNS),
            is_pause=np.zeros(0, bool),
            active_pitches=np.zeros((0, N_PITCHES), bool),
            active_instruments=np.zeros((0, N_INSTRUMENTS), bool),
        )

    @classmethod
    def concatenate(cls, parts: list["EventArrays"]) -> "EventArrays":
        if not parts:
            return cls.empty()
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def slice(self, start: int, stop: int) -> "EventArrays":
        return EventArrays(**{f.name: getattr(self, f.name)[start:stop] for f in fields(self)})

    def equals(self, other: "EventArrays") -> bool:
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))


@dataclass(frozen=True)
class EncodedPiece:
    """The bars of one source file, ready for training or as a generation seed.

    ``bar_bounds`` has ``bars + 1`` entries: bar ``i`` holds events ``bar_bounds[i]:bar_bounds[i+1]``.
    ``bar_chunk[i]`` is the chunk of bar ``i``; a bar whose chunk differs from the previous bar's
    (or the first bar) has the START context. ``bar_numerator``/``bar_denominator`` give its meter,
    ``bar_tempo`` its tempo in microseconds per quarter note. ``bar_start_tick`` (optional) is the tick
    of the source Score where each bar begins, so that bars can be found in, or written back to, the
    piece they came from (leading silence and unsupported meters are cut out of the encoding).
    ``bar_chords`` (optional, ``(bars, 2)``) holds the chords of each bar's two halves as indices into
    :data:`core.harmony.templates.VOCABULARY`, for chord-conditioned models; pieces saved before it
    existed load with None.
    """

    events: EventArrays
    bar_bounds: np.ndarray
    bar_chunk: np.ndarray
    bar_numerator: np.ndarray
    bar_denominator: np.ndarray
    bar_tempo: np.ndarray
    source: str = ""
    bar_start_tick: np.ndarray | None = None
    bar_chords: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "bar_bounds", np.asarray(self.bar_bounds, dtype=np.int64))
        if self.bar_start_tick is not None:
            object.__setattr__(self, "bar_start_tick", np.asarray(self.bar_start_tick, dtype=np.int64))
        if self.bar_chords is not None:
            object.__setattr__(self, "bar_chords", np.asarray(self.bar_chords, dtype=np.int16).reshape(-1, 2))
        for name in ("bar_chunk", "bar_numerator", "bar_denominator", "bar_tempo"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int32))
        bars = len(self.bar_bounds) - 1
        if bars < 0 or self.bar_bounds[0] != 0 or self.bar_bounds[-1] != len(self.events):
            raise ValueError("bar_bounds must run from 0 to the number of events")
        if np.any(np.diff(self.bar_bounds) < 1):
            raise ValueError("every bar holds at least one event (an empty bar is one pause)")
        for name in ("bar_chunk", "bar_numerator", "bar_denominator", "bar_tempo", "bar_start_tick"):
            if getattr(self, name) is not None and getattr(self, name).shape != (bars,):
                raise ValueError(f"{name} must have one entry per bar")
        if self.bar_chords is not None:
            from core.harmony.templates import VOCABULARY  # noqa: PLC0415 - only pieces with chords need it

            if len(self.bar_chords) != bars:
                raise ValueError("bar_chords must have one row per bar")
            if len(self.bar_chords) and not (0 <= self.bar_chords.min() and self.bar_chords.max() < len(VOCABULARY)):
                raise ValueError("bar_chords holds an index outside the chord vocabulary")

    @property
    def bar_count(self) -> int:
        return len(self.bar_bounds) - 1

    def bar_events(self, index: int) -> EventArrays:
        """The events of bar ``index`` (0-based)."""
        return self.events.slice(int(self.bar_bounds[index]), int(self.bar_bounds[index + 1]))

    def has_start_context(self, index: int) -> bool:
        """True when bar ``index`` opens its chunk, so its context is the START token."""
        return index == 0 or self.bar_chunk[index] != self.bar_chunk[index - 1]

    # ------------------------------------------------------------------------------------- files
    def save(self, path: str | Path) -> None:
        """Write as ``.npz`` atomically (temp file + rename), so a crash never leaves half a file. The
        active-note matrices are stored packed to bits (``event_active_pitches_bits``); :meth:`load`
        reads both that and plain boolean matrices."""
        path = Path(path)
        arrays = {f"event_{f.name}": getattr(self.events, f.name) for f in fields(self.events)}
        for name in _BIT_MATRICES:  # 8 flags to the byte: these two matrices are most of the file
            arrays[f"event_{name}_bits"] = np.packbits(arrays.pop(f"event_{name}"), axis=1)
        arrays.update(
            bar_bounds=self.bar_bounds,
            bar_chunk=self.bar_chunk,
            bar_numerator=self.bar_numerator,
            bar_denominator=self.bar_denominator,
            bar_tempo=self.bar_tempo,
            source=np.array(self.source),
            version=np.array(REPRESENTATION_VERSION),
        )
        if self.bar_start_tick is not None:
            arrays["bar_start_tick"] = self.bar_start_tick
        if self.bar_chords is not None:
            arrays["bar_chords"] = self.bar_chords
        buffer = io.BytesIO()
        _write_npz(buffer, arrays)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str | Path) -> "EncodedPiece":
        """Read a file written by :meth:`save`; anything else raises :class:`DatasetError`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                version = int(data["version"])
                if version != REPRESENTATION_VERSION:
                    raise DatasetError(
                        path, f"representation version {version}, this program reads {REPRESENTATION_VERSION}"
                    )
                columns = {}
                for f in fields(EventArrays):
                    if f.name in _BIT_MATRICES and f"event_{f.name}_bits" in data.files:
                        width = _BIT_MATRICES[f.name]
                        columns[f.name] = np.unpackbits(data[f"event_{f.name}_bits"], axis=1, count=width).astype(bool)
                    else:
                        columns[f.name] = data[f"event_{f.name}"]
                events = EventArrays(**columns)
                return cls(
                    events=events,
                    bar_bounds=data["bar_bounds"],
                    bar_chunk=data["bar_chunk"],
                    bar_numerator=data["bar_numerator"],
                    bar_denominator=data["bar_denominator"],
                    bar_tempo=data["bar_tempo"],
                    source=str(data["source"]),
                    bar_start_tick=data["bar_start_tick"] if "bar_start_tick" in data.files else None,
                    bar_chords=data["bar_chords"] if "bar_chords" in data.files else None,
                )
        except DatasetError:
            raise
        except FileNotFoundError:
            raise DatasetError(path, "no such file") from None
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            raise DatasetError(path, f"not an encoded piece ({error})") from None


def _write_npz(stream: io.BytesIO, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez``, but byte-for-byte deterministic (fixed member dates and order), so that
    encoding the same music twice gives identical files. Members are stored, not deflated: with the
    active-note matrices packed to bits a piece is already small, and writing a corpus takes half
    the time (the per-member cost dominates)."""
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.asanyarray(arrays[name]), allow_pickle=False)
            archive.writestr(member, payload.getvalue())
