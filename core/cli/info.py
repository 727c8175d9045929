"""``mahlernet info FILE``: what a MIDI file holds, as MahlerNet Studio reads it.

Tracks (name, General MIDI program, channel, notes, pitch range), bars, meters, tempi and keys with
the bars where they change, and what the reader had to repair. A file that cannot be read ends with
exit status 2 and one line on stderr (the dispatcher prints the MidiFileError).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.music.gm import instrument_name, note_name
from core.music.score import Score

MAX_CHANGES_SHOWN = 40  # per map; a rubato file can hold thousands of tempo changes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="show the tracks, bars, meters, tempi and keys of a MIDI file",
        description="Show what a MIDI file holds as MahlerNet Studio reads it, and what had to be repaired.",
    )
    parser.add_argument("file", type=Path, help="a MIDI file (.mid, .midi, .rmi)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.midi.files import read_midi

    score = read_midi(args.file)
    print(describe(score, args.file.name))
    return 0


def describe(score: Score, name: str) -> str:
    """The report printed by ``mahlernet info``, as text."""
    seconds = round(score.duration_seconds)
    lines = [f"File: {_printable(name)}"]
    if score.title:
        lines.append(f"Title: {_printable(score.title)}")
    lines.append(
        f"Length: {score.bar_count} bars, {seconds // 60}:{seconds % 60:02d} (min:s), "
        f"{score.notes_count} notes, {score.ticks_per_quarter} ticks per quarter"
    )
    lines.append(f"Tracks: {len(score.tracks)}")
    rows = [("#", "Name", "Program", "Channel", "Notes", "Range")]
    for number, track in enumerate(score.tracks, 1):
        if track.is_drum:
            program = f"{track.program} {instrument_name(track.program, track.channel)} (channel 10)"
        else:
            program = f"{track.program} {instrument_name(track.program, track.channel)}"
        pitch_range = "-"
        if track.pitch_range:
            low, high = track.pitch_range
            pitch_range = f"{note_name(low)}-{note_name(high)} ({low}-{high})"
        name = _printable(track.name) or "-"
        rows.append((str(number), name, program, str(track.channel + 1), str(track.note_count), pitch_range))
    lines += _table(rows)
    lines.append("Meters:" + ("" if score.time_signatures else " 4/4 (none given)"))
    lines += _changes(score, [(m.tick, m.text) for m in score.time_signatures])
    lines.append("Tempi:" + ("" if score.tempos else " 120 bpm (none given)"))
    lines += _changes(score, [(t.tick, f"{t.bpm:.4g} bpm") for t in score.tempos])
    lines.append("Keys:" + ("" if score.key_signatures else " none given"))
    lines += _changes(score, [(k.tick, k.name) for k in score.key_signatures])
    lines.append("Warnings:" + ("" if score.warnings else " none"))
    lines += [f"  - {_printable(w)}" for w in score.warnings]
    return "\n".join(lines)


def _changes(score: Score, changes: list[tuple[int, str]]) -> list[str]:
    """'  bar N: value' lines (with the ticks into the bar for a change that falls inside one)."""
    lines = []
    for tick, value in changes[:MAX_CHANGES_SHOWN]:
        bar = score.bar_at(tick)
        where = f"bar {bar.number}" + (f" +{tick - bar.start} ticks" if tick != bar.start else "")
        lines.append(f"  {where}: {value}")
    if len(changes) > MAX_CHANGES_SHOWN:
        lines.append(f"  ... and {len(changes) - MAX_CHANGES_SHOWN} more")
    return lines


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _printable(text: str) -> str:
    """A name from a file, safe to print: control characters become '?'."""
    return "".join(c if c.isprintable() else "?" for c in text)
