"""Score -> EncodedPiece: the whole preprocessor for one piece of music.

:func:`encode_score` is what the dataset builder, the generator (to encode the bars a composer picks)
and the app call. It never raises for music it cannot represent: it drops what it must and says so in
the :class:`~core.preprocess.report.FileReport`; ``piece`` is None only when nothing is left.

Steps: resample the times when the resolution cannot hold every class (spec section 6, item 2: a
resolution not divisible by 96 ticks per quarter is multiplied up to one that is, losslessly, or, when
that would pass the 32,767 a MIDI file can hold, moved to the nearest multiple of 96); build the
meter map; split notes that cross a meter change (the original dropped them); tokenise (2.3); cut into
chunks and sections, normalise, unify and finalise (2.4-2.7); rows (2.8); bars (2.10); the chords of
each half bar (:mod:`core.harmony`, heard over the whole Score) for chord-conditioned models.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.errors import UnsupportedMeterError
from core.harmony.conditioning import bar_chords
from core.preprocess import report as reasons
from core.preprocess.report import EncodeOptions, FileReport, Tally
from core.preprocess.segment import build_chunks
from core.preprocess.tokenize import MeterSection, tokenize
from core.preprocess.vectors import BarRows, ChunkRows, chunk_bars, chunk_rows
from core.representation.events import LOWEST_PITCH, N_INSTRUMENTS, N_PITCHES, EncodedPiece, EventArrays
from core.representation.meters import meter_for, working_resolution
from core.representation.velocity import velocity_bins
from core.music.score import DEFAULT_TEMPO, Note, NoteColumns, Score, TempoChange, TimeSignature, Track

DEFAULT_OPTIONS = EncodeOptions()

# Bounds on the work of one file (issue #15). A note is encoded as one row per bar it sounds in, so a
# file of notes never released (560 of them over 20,000 bars: 3 KB) asked for 11 million rows and
# 23 GiB. Notes are cut after MAX_HELD_QUARTERS (16 bars of 4/4: a pedal tone survives, a stuck
# note does not fill the piece), and a file whose rows would still pass MAX_ROWS (measured at about
# 1 KB of peak memory each: 400,000 rows ~ 400 MB) is skipped with that reason before any work.
MAX_HELD_QUARTERS = 64
MAX_ROWS = 400_000


@dataclass(frozen=True)
class EncodeResult:
    piece: EncodedPiece | None
    report: FileReport


@dataclass(frozen=True)
class EncodedChunks:
    """The intermediate result (for tests and tools): rows and bars of every chunk, and the ratio by
    which the piece's ticks were multiplied to reach the working resolution."""

    chunks: tuple[tuple[ChunkRows, BarRows], ...]
    ratio: Fraction  # working ticks per tick of the Score
    notes_in: int
    tally: Tally


def meter_sections(score: Score, ticks_per_quarter: int, original_only: bool) -> list[MeterSection]:
    """The meter map of a Score at ``ticks_per_quarter``: a 4/4 default before the first time
    signature, and repeated signatures that change nothing (same meter, on a barline) left out."""
    signatures = list(score.time_signatures)
    sections: list[MeterSection] = []
    if not signatures or signatures[0].tick > 0:
        sections.append(MeterSection(0, 4, 4, meter_for(4, 4, original_only), default=True))
    for signature in signatures:
        try:
            meter = meter_for(signature.numerator, signature.denominator, original_only)
        except UnsupportedMeterError:
            meter = None
        if sections:
            previous = sections[-1]
            if (previous.numerator, previous.denominator) == (signature.numerator, signature.denominator):
                if previous.meter is not None:
                    bar = previous.meter.unit_ticks(ticks_per_quarter) * previous.meter.bar_units
                else:
                    bar = TimeSignature(0, signature.numerator, signature.denominator).bar_ticks(ticks_per_quarter)
                if (signature.tick - previous.tick) % bar == 0:
                    continue
        sections.append(MeterSection(signature.tick, signature.numerator, signature.denominator, meter))
    return sections


def _resample(score: Score, ratio: Fraction) -> Score:
    """The Score at ``ratio`` times its resolution (exact for a whole ratio, rounded to the tick else)."""
    if ratio == 1:
        return score

    def scale(tick: int) -> int:
        return int(tick * ratio) if ratio.denominator == 1 else round(tick * ratio)

    tracks = []
    for track in score.tracks:
        if ratio.denominator == 1:  # every time times a whole number: the order stays, no notes made
            factor = int(ratio)
            columns = track.note_columns
            scaled = NoteColumns(columns.start * factor, columns.duration * factor, columns.pitch, columns.velocity)
            tracks.append(Track.from_checked(track.name, track.program, track.channel, scaled, end_tick=track.end_tick * factor))
            continue
        notes = []
        for n in track.notes:
            start = scale(n.start)
            notes.append(Note(start, max(1, scale(n.start + n.duration) - start), n.pitch, n.velocity))
        tracks.append(dataclasses.replace(track, notes=tuple(notes), controls=(), pitch_bends=(), pressures=()))
    return score.replace(
        ticks_per_quarter=int(score.ticks_per_quarter * ratio),
        tracks=tuple(tracks),
        tempos=tuple(TempoChange(scale(t.tick), t.us_per_quarter) for t in score.tempos),
        time_signatures=tuple(dataclasses.replace(m, tick=scale(m.tick)) for m in score.time_signatures),
        key_signatures=(),
    )


def encode_chunks(score: Score, options: EncodeOptions = DEFAULT_OPTIONS, vectorised: bool = True) -> EncodedChunks:
    """Rows and bars of every chunk of ``score`` (spec 2.2-2.10), before they become an EncodedPiece.
    ``vectorised=False`` tokenises every track step by step (the reference path, for tests)."""
    tally = Tally()
    notes_in = score.notes_count
    working = working_resolution(score.ticks_per_quarter)
    ratio = Fraction(working, score.ticks_per_quarter)
    if ratio != 1:
        tally.trim(reasons.RESAMPLED, 1)
    if estimated_rows(score) > MAX_ROWS:  # encode_score says why; nothing is worked on
        return EncodedChunks((), ratio, notes_in, tally)
    work = _cut_held_notes(_resample(score, ratio), tally)
    sections = meter_sections(work, working, options.original_meters_only)
    tokens = tokenize(work, sections, options.instruments, tally, vectorised)
    unit_of = {s.meter: s.meter.unit_ticks(working) for s in sections if s.meter is not None}
    chunks = build_chunks(tokens, sections, unit_of, tally)
    encoded = []
    for chunk in chunks:
        rows = chunk_rows(chunk, tally)
        encoded.append((rows, chunk_bars(rows)))
    return EncodedChunks(tuple(encoded), ratio, notes_in, tally)


def _cut_held_notes(score: Score, tally: Tally) -> Score:
    """The Score with every note cut to at most :data:`MAX_HELD_QUARTERS` quarters."""
    limit = MAX_HELD_QUARTERS * score.ticks_per_quarter
    if all(track.note_columns.duration.max(initial=0) <= limit for track in score.tracks):
        return score
    tracks = []
    for track in score.tracks:
        cut = int(np.count_nonzero(track.note_columns.duration > limit))
        tally.trim(reasons.HELD_TOO_LONG, cut)
        if cut:
            notes = tuple(n._replace(duration=min(n.duration, limit)) for n in track.notes)
            track = dataclasses.replace(track, notes=notes)
        tracks.append(track)
    return score.replace(tracks=tuple(tracks))


def estimated_rows(score: Score) -> int:
    """An upper estimate of the rows encoding ``score`` makes: a row per note and per bar it sounds
    in (after :func:`_cut_held_notes`), and two per bar for the pauses of empty bars (bars counted as
    half notes, the shortest bar of the common meters, so the estimate errs high)."""
    half = 2 * score.ticks_per_quarter
    limit = MAX_HELD_QUARTERS * score.ticks_per_quarter
    rows = 0
    end = 0
    for track in score.tracks:
        if track.note_count:
            starts = track.note_columns.start
            lengths = np.minimum(track.note_columns.duration, limit)
            rows += len(starts) + int((lengths // half).sum())
            end = max(end, int((starts + lengths).max()))
    return rows + 2 * (end // half + 1)


def encode_score(
    score: Score, options: EncodeOptions = DEFAULT_OPTIONS, source: str = "", chords: bool = True
) -> EncodeResult:
    """Encode a whole Score. ``source`` names it in the piece and the report. A Score too large to
    encode within bounded memory (see :data:`MAX_ROWS`) is skipped at once with that reason.
    ``chords=False`` leaves the bars' chord labels out (``bar_chords`` None), for a caller that never
    reads them: labelling is ~half of encoding a piece."""
    rows = estimated_rows(score)
    if rows > MAX_ROWS:
        reason = f"{reasons.TOO_LARGE}: about {rows:,} rows, more than the {MAX_ROWS:,} a file may have"
        return EncodeResult(None, FileReport(source, "skipped", reason, score.notes_count))
    encoded = encode_chunks(score, options)
    tally = encoded.tally
    parts: list[EventArrays] = []
    bounds: list[np.ndarray] = []
    bar_chunk: list[np.ndarray] = []
    meter_pairs: list[np.ndarray] = []
    bar_ticks: list[np.ndarray] = []
    events_so_far = 0
    for chunk_index, (rows, bars) in enumerate(encoded.chunks):
        parts.append(_bar_events(rows, bars))
        bounds.append(bars.bounds[1:] + events_so_far)
        events_so_far += int(bars.bounds[-1])
        bar_chunk.append(np.full(len(bars.bar_start), chunk_index, np.int32))
        section_meters = np.array([(i.meter.numerator, i.meter.denominator) for i in rows.sections], np.int64)
        meter_pairs.append(section_meters[bars.bar_section])
        anchors = np.array([a for info in rows.sections for a in info.anchors], np.int64)  # increasing
        anchor = anchors[np.searchsorted(anchors[:, 0], bars.bar_start, side="right") - 1]
        working_ticks = bars.bar_start - anchor[:, 0] + anchor[:, 1]
        bar_ticks.append(np.rint(working_ticks / float(encoded.ratio)).astype(np.int64))
    numerators, denominators = (np.concatenate(meter_pairs)[:, i].tolist() if meter_pairs else [] for i in (0, 1))
    source_ticks = np.concatenate(bar_ticks) if bar_ticks else np.zeros(0, np.int64)
    tempos = _tempo_at(score, source_ticks)
    dropped = dict(tally.dropped)
    trimmed = dict(tally.trimmed)
    if not parts:
        reason = _skip_reason(score, dropped, encoded.notes_in, options.original_meters_only)
        report = FileReport(source, "skipped", reason, encoded.notes_in, dropped=dropped, trimmed=trimmed)
        return EncodeResult(None, report)
    events = EventArrays.concatenate(parts)
    piece = EncodedPiece(
        events=events,
        bar_bounds=np.concatenate([[0]] + bounds),
        bar_chunk=np.concatenate(bar_chunk),
        bar_numerator=numerators,
        bar_denominator=denominators,
        bar_tempo=tempos,
        source=source,
        bar_start_tick=source_ticks,
        bar_chords=bar_chords(score, source_ticks.tolist()) if chords else None,
    )
    meters = Counter(f"{n}/{d}" for n, d in zip(numerators, denominators))
    names = options.instruments.names
    played = events.instrument[events.instrument >= 0]
    instruments = {names[i]: int(c) for i, c in enumerate(np.bincount(played, minlength=N_INSTRUMENTS)) if c}
    report = FileReport(
        source,
        "ok",
        notes_in=encoded.notes_in,
        notes_kept=max(0, encoded.notes_in - sum(dropped.values())),  # notes, not the pieces split ones make
        chunks=len(encoded.chunks),
        bars=piece.bar_count,
        events=len(events),
        dropped=dropped,
        trimmed=trimmed,
        meters=dict(meters),
        instruments=instruments,
    )
    return EncodeResult(piece, report)


def _tempo_at(score: Score, ticks: np.ndarray) -> np.ndarray:
    """Tempo (µs per quarter) in force at each tick."""
    if not score.tempos:
        return np.full(len(ticks), DEFAULT_TEMPO, np.int64)
    changes = np.array([t.tick for t in score.tempos], np.int64)
    values = np.array([t.us_per_quarter for t in score.tempos], np.int64)
    index = np.searchsorted(changes, ticks, side="right") - 1
    return np.where(index >= 0, values[np.maximum(index, 0)], DEFAULT_TEMPO)


def _bar_events(rows: ChunkRows, bars: BarRows) -> EventArrays:
    sel = bars.rows
    real = sel >= 0
    take = np.where(real, sel, 0)

    def column(values: np.ndarray, fill: int) -> np.ndarray:
        if len(values) == 0:
            return np.full(len(sel), fill, np.int16)
        return np.where(real, values[take], fill).astype(np.int16)

    pitch = column(rows.pitch, -1)
    pitch = np.where(pitch >= 0, pitch - LOWEST_PITCH, -1)
    velocity = column(rows.velocity, -1)
    velocity = np.where(velocity > 0, velocity_bins(np.maximum(velocity, 1)), -1)
    source = bars.active_from
    zeros_p = np.zeros((1, N_PITCHES), bool)
    zeros_i = np.zeros((1, N_INSTRUMENTS), bool)
    active_p = np.concatenate([rows.active_pitches, zeros_p])[np.where(source >= 0, source, len(rows))]
    active_i = np.concatenate([rows.active_instruments, zeros_i])[np.where(source >= 0, source, len(rows))]
    return EventArrays(
        offset=bars.offset,
        duration=column(rows.duration, 0),
        pitch=pitch,
        instrument=column(rows.instrument, -1),
        beat=bars.beat,
        velocity=velocity,
        is_pause=np.where(real, rows.is_pause[take] if len(rows) else True, True),
        active_pitches=active_p,
        active_instruments=active_i,
    )


def _skip_reason(score: Score, dropped: dict[str, int], notes_in: int, original_only: bool) -> str:
    if notes_in == 0:
        return "no notes"
    unplayed = [reason for reason in (reasons.DRUMS, reasons.IGNORED_PROGRAM) if dropped.get(reason)]
    if unplayed and sum(dropped[r] for r in unplayed) == notes_in:
        return {
            (reasons.DRUMS,): "only drums",
            (reasons.IGNORED_PROGRAM,): "only programs the instrument table ignores",
        }.get(tuple(unplayed), "only drums and programs the instrument table ignores")
    if dropped.get(reasons.UNSUPPORTED_METER) and set(dropped) <= {reasons.UNSUPPORTED_METER, *unplayed}:
        meters = sorted({m.text for m in score.time_signatures if not _supported(m, original_only)})
        return f"only unsupported meters ({', '.join(meters)})"
    detail = ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items()))
    return f"nothing left to encode ({detail})"


def _supported(meter: TimeSignature, original_only: bool) -> bool:
    try:
        meter_for(meter.numerator, meter.denominator, original_only)
    except UnsupportedMeterError:
        return False
    return True
