"""Small Scores for the audio tests."""

from __future__ import annotations

from core.score import Note, Score, TempoChange, Track


def make_score(notes_by_track, tempos=(TempoChange(0, 500_000),), ticks_per_quarter=480, **fields) -> Score:
    """A Score from {(name, program, channel): [(start, duration, pitch, velocity), ...]}."""
    tracks = tuple(
        Track(name, program, channel, tuple(Note(*n) for n in notes))
        for (name, program, channel), notes in notes_by_track.items()
    )
    return Score(ticks_per_quarter, tracks, tuple(tempos), **fields)


def write_midi_file(path, notes, program: int = 0, channel: int = 0, bpm: int = 120, ticks_per_quarter: int = 480):
    """A one-track type-1 MIDI file (written with mido, independent of core.midi_io) from
    [(start, duration, pitch, velocity), ...]; 4/4."""
    import mido  # noqa: PLC0415

    events = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))),
              (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
              (0, mido.Message("program_change", channel=channel, program=program))]
    for start, duration, pitch, velocity in notes:
        events.append((start, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))
        events.append((start + duration, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1].type == "note_on"))
    track = mido.MidiTrack()
    now = 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_quarter)
    midi.tracks.append(track)
    midi.save(str(path))
    return path
