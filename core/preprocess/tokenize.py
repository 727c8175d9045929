"""Tokenisation (spec 2.2-2.3): the notes of a Score, cleaned the way a performer's MIDI needs it.

The notes of all tracks are walked in time order (at one tick: note ends, then meter changes, then note
starts) keeping, per track, the time of its last onset and the notes that just ended:

* *legato overlap*: a note shorter than a q* that a newer note of its track overlaps by less than
  half its length is cut where the newer note begins;
* *staccato compensation*: when a track starts a note, the short notes of its previous onset are
  extended to it if the gap is under a q*; after a longer rest they get the longest of q*, q*/2,
  q*/4, q*/3, q*/6 whose grid their start lies on;
* *chord snapping*: a start less than q*/16 after the track's last onset joins that onset;
* a pitch started again while it sounds ends the sounding note (or drops it, if it sounded over 25/3
  quarters: a stuck note).

Pitches are folded into range, drums and programs the instrument table ignores are dropped.

Fixes against the original (spec section 6, item 3): every threshold is in q* of the meter in force
(the original used real quarters here and q* later), and the stuck-note limit is 25/3 quarters at any
resolution (the original used 4000 ticks whatever the file's resolution). Notes are taken from the
Score, where they are already paired, so a note-off can never end the wrong note.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from core.preprocess import report as reasons
from core.preprocess.report import Tally
from core.representation.instruments import InstrumentTable
from core.representation.meters import Meter
from core.representation.pitch import fold_pitch
from core.score import Score

STUCK_NOTE_QUARTERS = Fraction(25, 3)  # 4000 ticks at the original's 480 ticks per quarter


@dataclass(frozen=True)
class MeterSection:
    """A stretch of the piece under one time signature: ``meter`` is None when it is unsupported."""

    tick: int
    numerator: int
    denominator: int
    meter: Meter | None
    default: bool = False  # the implied 4/4 before the first time signature

    @property
    def text(self) -> str:
        return f"{self.numerator}/{self.denominator}"


class Token:
    """A note being tokenised (mutable while the walk goes on; private to the preprocessor)."""

    __slots__ = ("start", "duration", "pitch", "instrument", "track", "tempo", "velocity", "valid", "order")

    def __init__(self, start: int, pitch: int, instrument: int, track: int, tempo: int, velocity: int, order: int):
        self.start = start
        self.duration = 0
        self.pitch = pitch
        self.instrument = instrument
        self.track = track
        self.tempo = tempo
        self.velocity = velocity
        self.valid = True
        self.order = order

    @property
    def end(self) -> int:
        return self.start + self.duration

    def __repr__(self) -> str:
        return f"Token({self.start}+{self.duration} p{self.pitch} i{self.instrument} t{self.track})"


class _TrackState:
    __slots__ = ("last_start", "ended")

    def __init__(self) -> None:
        self.last_start = 0
        self.ended: list[Token] = []


_END, _METER, _START = 0, 1, 2


def tokenize(score: Score, sections: list[MeterSection], table: InstrumentTable, tally: Tally) -> list[Token]:
    """The valid notes of ``score`` as tokens sorted by (start, pitch); ``sections`` is the meter map
    (first at tick 0). Notes crossing a section boundary must already be split there."""
    tpq = score.ticks_per_quarter
    stuck_limit = STUCK_NOTE_QUARTERS * tpq
    events: list[tuple[int, int, int, int]] = []  # (tick, kind, sequence, payload index)
    notes: list[tuple[int, int, int, int, int, int]] = []  # (start, end, pitch, class, track, velocity)
    for track_index, track in enumerate(score.tracks):
        if track.is_drum:
            tally.drop(reasons.DRUMS, len(track.notes))
            continue
        instrument = table.class_of(track.program)
        if instrument is None:
            tally.drop(reasons.IGNORED_PROGRAM, len(track.notes))
            continue
        for start, duration, pitch, velocity in track.notes:
            index = len(notes)
            notes.append((start, start + duration, fold_pitch(pitch), instrument, track_index, velocity))
            events.append((start, _START, index, index))
            events.append((start + duration, _END, index, index))
    for index, section in enumerate(sections):
        if index:
            events.append((section.tick, _METER, index, index))
    events.sort()

    qstars = [int(s.meter.quarters_per_qstar * tpq) if s.meter else tpq for s in sections]
    section_index = 0
    qstar = qstars[0]
    grid_origin = 0
    tempo_ticks = [t.tick for t in score.tempos]
    tempo_values = [t.us_per_quarter for t in score.tempos]
    tempo_index = -1
    tempo = 500_000

    states: dict[int, _TrackState] = {}
    sounding: dict[tuple[int, int], Token] = {}
    token_of: dict[int, Token] = {}
    tokens: list[Token] = []

    def end_note(token: Token, tick: int, state: _TrackState) -> None:
        duration = tick - token.start
        if duration < qstar and state.last_start > token.start and tick - state.last_start < duration / 2:
            duration = state.last_start - token.start  # legato overlap removal
        token.duration = duration
        limit = qstar / 8
        state.ended = [m for m in state.ended if token.end - m.end < limit]
        state.ended.append(token)

    for tick, kind, _, index in events:
        if kind == _END:
            start, end, pitch, instrument, track, velocity = notes[index]
            token = token_of.get(index)
            if token is not None and sounding.get((track, pitch)) is token:
                del sounding[(track, pitch)]
                end_note(token, tick, states[track])
        elif kind == _METER:
            section_index = index
            qstar = qstars[index]
            grid_origin = sections[index].tick
            for (track, pitch), token in list(sounding.items()):  # only possible without splitting
                token.valid = False
                del sounding[(track, pitch)]
            for state in states.values():
                if state.last_start < tick:
                    state.last_start = 0
        else:
            start, end, pitch, instrument, track, velocity = notes[index]
            while tempo_index + 1 < len(tempo_ticks) and tempo_ticks[tempo_index + 1] <= tick:
                tempo_index += 1
                tempo = tempo_values[tempo_index]
            state = states.get(track)
            if state is None:
                state = states[track] = _TrackState()
            if state.ended:
                _compensate_staccato(state, tick, qstar, grid_origin)
            if tick - state.last_start < qstar / 16:
                placed = state.last_start  # chord snapping
            else:
                placed = tick
                state.last_start = tick
            previous = sounding.get((track, pitch))
            if previous is not None:
                if tick - previous.start < stuck_limit:
                    end_note(previous, tick, state)
                else:
                    previous.valid = False
                    tally.drop(reasons.RETRIGGERED)
            token = Token(placed, pitch, instrument, track, tempo, velocity, index)
            token_of[index] = token
            sounding[(track, pitch)] = token
            tokens.append(token)
    del section_index

    tokens.sort(key=lambda t: (t.start, t.pitch, t.order))
    kept: list[Token] = []
    previous_key = None
    for token in tokens:
        if not token.valid:
            continue
        key = (token.start, token.pitch, token.duration, token.instrument)
        if key == previous_key:
            tally.drop(reasons.DUPLICATE)
            continue
        previous_key = key
        if token.duration <= 0:
            tally.drop(reasons.ZERO_LENGTH)
            continue
        kept.append(token)
    return kept


def _compensate_staccato(state: _TrackState, tick: int, qstar: int, grid_origin: int) -> None:
    """Lengthen the short notes of the track's previous onset (spec 2.3, note-on)."""
    near = qstar / 8
    tolerance = qstar / 16
    for note in state.ended:
        if note.duration < 2 * qstar and abs(note.start - state.last_start) < near:
            gap = tick - note.end
            if gap < qstar:
                note.duration = tick - note.start
            else:
                position = note.start - grid_origin
                for grid in (qstar, qstar / 2, qstar / 4, qstar / 3, qstar / 6):
                    rest = position % grid
                    if rest <= tolerance or grid - rest <= tolerance:
                        note.duration = int(grid)
                        break
    state.ended = []
