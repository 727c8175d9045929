"""read_midi / write_midi: round trips, an independent reader, and how MIDI tracks become Score tracks."""

from __future__ import annotations

import random
from pathlib import Path

import mido
import pretty_midi
import pytest

from core.errors import MidiFileError
from core.midi.events import consecutive_groups
from core.midi.files import read_midi, read_midi_bytes, write_midi
from core.midi.writing import encode_midi
from core.music.score import (
    ChannelPressure,
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Score,
    TempoChange,
    TimeSignature,
    Track,
)
from tests.core.midi_bytes import end_of_track, event, meta, meter, name, notes_body, riff, smf, tempo

TPQ = 480
BAR = 4 * TPQ


def orchestra() -> Score:
    """A hand-made piece with what a file can hold: strings, a pedalled piano, drums on channel 10,
    an empty track, meter changes (one inside a bar), tempo changes and keys."""
    violin = Track(
        "Violin I",
        40,
        0,
        [Note(i * TPQ, TPQ, 76 + i % 5, 60 + i) for i in range(16)] + [Note(0, 2 * BAR, 64, 50)],
        [ControlChange(0, 7, 100), ControlChange(0, 10, 40)],
    )
    piano = Track(
        "Piano",
        0,
        1,
        [Note(0, 960, 60, 50), Note(960, 960, 60, 60), Note(960, 480, 67, 70), Note(1440, 480, 67, 71)],
        [ControlChange(0, 64, 127), ControlChange(1900, 64, 0), ControlChange(1920, 64, 127)],
        [PitchBend(0, -8192), PitchBend(960, 0), PitchBend(1000, 8191)],
        [ChannelPressure(960, 100)],
    )
    drums = Track("Drum kit", 0, 9, [Note(i * 240, 10, 36 + (i % 3) * 6, 100) for i in range(32)])
    basses = Track("Bässe & Celli", 42, 3, [Note(7 * BAR, 1, 36, 1)])
    return Score(
        TPQ,
        (violin, piano, drums, Track("Flute (tacet)", 73, 2), basses),
        (TempoChange(0, 500_000), TempoChange(BAR, 400_000), TempoChange(BAR + 240, 750_000)),
        (TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4), TimeSignature(2 * BAR + 3 * TPQ + 240, 6, 8)),
        (KeySignature(0, 2), KeySignature(3 * BAR, -4, True)),
        title="Round trip study",
    )


def test_hand_made_score_round_trips(tmp_path: Path):
    score = orchestra()
    write_midi(score, tmp_path / "piece.mid")
    again = read_midi(tmp_path / "piece.mid")
    assert again == score
    assert again.warnings == ()
    assert [t.name for t in again.tracks] == [t.name for t in score.tracks]
    assert again.tracks[2].is_drum and again.tracks[2].channel == 9


def test_a_read_piece_is_written_and_counted_without_making_its_notes(tmp_path: Path):
    """The reader hands its tracks numpy columns (core.music.score.NoteColumns): what needs only
    arrays never makes the Note objects (writing the piece again here)."""
    write_midi(orchestra(), tmp_path / "piece.mid")
    again = read_midi(tmp_path / "piece.mid")
    write_midi(again, tmp_path / "again.mid")
    assert again.notes_count == orchestra().notes_count
    assert all("notes" not in track.__dict__ for track in again.tracks)
    assert (tmp_path / "again.mid").read_bytes() == (tmp_path / "piece.mid").read_bytes()
    assert again.tracks[0].notes == orchestra().tracks[0].notes


def test_writing_is_deterministic_and_replaces_the_file(tmp_path: Path):
    path = tmp_path / "piece.mid"
    path.write_bytes(b"old contents")
    write_midi(orchestra(), path)
    first = path.read_bytes()
    write_midi(orchestra(), path)
    assert path.read_bytes() == first == encode_midi(orchestra())
    assert [p.name for p in tmp_path.iterdir()] == ["piece.mid"]  # no temporary file left behind


@pytest.mark.parametrize("tpq", [1, 24, 96, 960, 32767])
def test_any_resolution_round_trips(tpq: int):
    score = Score(
        tpq,
        (Track("Cello", 42, 4, [Note(0, tpq, 48, 80), Note(3 * tpq, 5 * tpq, 43, 81)]),),
        (TempoChange(0, 1), TempoChange(tpq, 0xFFFFFF)),
        (TimeSignature(0, 255, 128), TimeSignature(2 * tpq, 1, 1)),
    )
    assert read_midi_bytes(encode_midi(score)) == score


def test_empty_scores_round_trip():
    for score in (Score(), Score(96, (Track("Nothing yet", 5, 6),)), Score(title="Only a title")):
        assert read_midi_bytes(encode_midi(score)) == score


def fifo_canonical(notes: list[Note]) -> list[Note]:
    """Notes of one pitch re-paired first in, first out (k-th start with k-th end), which is how any
    MIDI reader must pair them: a note-off does not say which note it ends."""
    by_pitch: dict[int, list[Note]] = {}
    for note in notes:
        by_pitch.setdefault(note.pitch, []).append(note)
    result = []
    for pitch, group in by_pitch.items():
        group.sort()
        ends = sorted(n.end for n in group)
        result += [Note(n.start, end - n.start, pitch, n.velocity) for n, end in zip(group, ends)]
    return result


def random_score(seed: int) -> Score:
    rng = random.Random(seed)
    tpq = rng.choice([96, 120, 480, 960])
    tracks = []
    for index in range(rng.randint(1, 6)):
        channel = rng.choice([index, 9]) % 16
        notes = [
            Note(rng.randrange(0, 40 * tpq), rng.randint(1, 4 * tpq), rng.randint(0, 127), rng.randint(1, 127))
            for _ in range(rng.randint(0, 200))
        ]
        controls = [ControlChange(rng.randrange(0, 40 * tpq), rng.choice([1, 7, 10, 64, 91]), rng.randint(0, 127))
                    for _ in range(rng.randint(0, 20))]
        bends = [PitchBend(rng.randrange(0, 40 * tpq), rng.randint(-8192, 8191)) for _ in range(rng.randint(0, 30))]
        pressures = [ChannelPressure(rng.randrange(0, 40 * tpq), rng.randint(0, 127)) for _ in range(rng.randint(0, 9))]
        program = rng.randint(0, 127)
        tracks.append(Track(f"Part {index + 1}", program, channel, fifo_canonical(notes), controls, bends, pressures))
    end = 40 * tpq
    tempos = [TempoChange(rng.randrange(0, end), rng.randint(200_000, 1_500_000)) for _ in range(rng.randint(0, 5))]
    meters = [TimeSignature(rng.randrange(0, 40 * tpq), rng.randint(1, 13), rng.choice([2, 4, 8, 16]))
              for _ in range(rng.randint(0, 4))]
    keys = [
        KeySignature(rng.randrange(0, end), rng.randint(-7, 7), rng.random() < 0.5) for _ in range(rng.randint(0, 3))
    ]
    return Score(tpq, tuple(tracks), tuple(tempos), tuple(meters), tuple(keys), title=rng.choice(["", "Étude"]))


@pytest.mark.parametrize("seed", range(40))
def test_random_scores_round_trip(seed: int):
    score = random_score(seed)
    again = read_midi_bytes(encode_midi(score))
    assert again == score
    assert again.warnings == ()


def test_nested_same_pitch_notes_come_back_paired_first_in_first_out():
    """The one thing MIDI cannot say (see core.midi.writing): the same pitch sounds over the same span."""
    score = Score(TPQ, (Track("Organ", 19, 0, [Note(0, 960, 60, 80), Note(240, 240, 60, 90)]),))
    again = read_midi_bytes(encode_midi(score))
    assert again.tracks[0].notes == (Note(0, 480, 60, 80), Note(240, 720, 60, 90))
    assert again.tracks[0].notes == tuple(sorted(fifo_canonical(list(score.tracks[0].notes))))


def test_same_pitch_notes_that_touch_or_start_together_round_trip():
    notes = [Note(0, 480, 60, 80), Note(480, 480, 60, 81), Note(960, 100, 62, 82), Note(960, 300, 62, 83)]
    score = Score(TPQ, (Track("Piano", 0, 0, notes),))
    assert read_midi_bytes(encode_midi(score)) == score


def test_riff_wrapped_file_reads_like_the_plain_one():
    plain = encode_midi(orchestra())
    assert read_midi_bytes(riff(plain)) == orchestra()


def test_write_errors_name_the_file(tmp_path: Path):
    with pytest.raises(MidiFileError, match="cannot be written") as raised:
        write_midi(orchestra(), tmp_path / "no such folder" / "piece.mid")
    assert "piece.mid" in str(raised.value)
    far = Score(TPQ, (Track("x", 0, 0, [Note(0x10000000, 1, 60, 60)]),))
    with pytest.raises(MidiFileError, match="gap"):
        write_midi(far, tmp_path / "far.mid")


# ------------------------------------------------------------------------- independent readers
def _as_written(text: str) -> str:
    """mido and pretty_midi decode MIDI text as Latin-1; we write UTF-8."""
    return text.encode("latin-1").decode("utf-8")


def test_pretty_midi_reads_what_we_write(tmp_path: Path):
    score = orchestra()
    path = tmp_path / "piece.mid"
    write_midi(score, path)
    pm = pretty_midi.PrettyMIDI(str(path))
    instruments = {_as_written(i.name): i for i in pm.instruments}
    sounding = [t for t in score.tracks if t.notes]
    assert sorted(instruments) == sorted(t.name for t in sounding)
    for track in sounding:
        theirs = instruments[track.name]
        assert (theirs.program, theirs.is_drum) == (track.program, track.is_drum)
        their_notes = sorted((n.start, n.end, n.pitch, n.velocity) for n in theirs.notes)
        seconds = score.seconds_at
        our_notes = sorted((seconds(n.start), seconds(n.end), n.pitch, n.velocity) for n in track.notes)
        assert len(their_notes) == len(our_notes)
        for a, b in zip(their_notes, our_notes):
            assert a[0] == pytest.approx(b[0], abs=1e-6) and a[1] == pytest.approx(b[1], abs=1e-6)
            assert a[2:] == b[2:]
        their_bends = [(round(pm.time_to_tick(b.time)), b.pitch) for b in theirs.pitch_bends]
        assert their_bends == [(b.tick, b.value) for b in track.pitch_bends]
    times, bpms = pm.get_tempo_changes()
    assert list(bpms) == pytest.approx([t.bpm for t in score.tempos])
    assert list(times) == pytest.approx([score.seconds_at(t.tick) for t in score.tempos])
    meters = [(m.numerator, m.denominator, m.time) for m in pm.time_signature_changes]
    expected = [(m.numerator, m.denominator, pytest.approx(score.seconds_at(m.tick))) for m in score.time_signatures]
    assert meters == expected
    keys = [(k.key_number, k.time) for k in pm.key_signature_changes]
    assert keys == [(2, 0.0), (12 + 5, pytest.approx(score.seconds_at(3 * BAR)))]  # D major, F minor


def test_mido_sees_a_type_1_file_with_a_conductor_and_one_named_track_per_instrument(tmp_path: Path):
    score = orchestra()
    path = tmp_path / "piece.mid"
    write_midi(score, path)
    midi = mido.MidiFile(str(path))
    assert midi.type == 1 and midi.ticks_per_beat == TPQ
    conductor, *tracks = midi.tracks
    assert conductor.name == "Round trip study"
    assert not any(message.type in ("note_on", "note_off") for message in conductor)
    assert [_as_written(t.name) for t in tracks] == [t.name for t in score.tracks]
    for midi_track, track in zip(tracks, score.tracks):
        channels = {m.channel for m in midi_track if hasattr(m, "channel")}
        programs = [m.program for m in midi_track if m.type == "program_change"]
        assert channels == {track.channel} and programs == [track.program]
        controls = [(m.control, m.value) for m in midi_track if m.type == "control_change"]
        assert sorted(controls) == sorted((c.number, c.value) for c in track.controls)


def test_we_read_what_mido_writes(tmp_path: Path):
    midi = mido.MidiFile(type=1, ticks_per_beat=240)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600_000, time=0),
                                mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0)])
    horn = mido.MidiTrack([mido.MetaMessage("track_name", name="Horn", time=0),
                           mido.Message("program_change", channel=4, program=60, time=0),
                           mido.Message("note_on", channel=4, note=65, velocity=70, time=0),
                           mido.Message("note_off", channel=4, note=65, velocity=30, time=360)])
    midi.tracks += [conductor, horn]
    midi.save(str(tmp_path / "mido.mid"))
    score = read_midi(tmp_path / "mido.mid")
    assert score.tracks == (Track("Horn", 60, 4, [Note(0, 360, 65, 70)]),)
    assert score.tempos == (TempoChange(0, 600_000),) and score.time_signatures == (TimeSignature(0, 6, 8),)


# --------------------------------------------------------------- from MIDI tracks to Score tracks
def test_type_0_file_splits_into_one_track_per_channel():
    body = (
        name("Song")
        + event(0, 0xC0, 40)
        + event(0, 0xC1, 32)
        + event(0, 0xB1, 7, 90)
        + event(0, 0xB5, 7, 10)  # a channel without notes
        + event(0, 0x99, 42, 100)
        + event(0, 0x91, 40, 70)
        + event(0, 0x90, 76, 80)
        + event(240, 0x89, 42, 0)
        + event(240, 0x80, 76, 0)
        + event(0, 0x81, 40, 0)
        + end_of_track()
    )
    score = read_midi_bytes(smf(body, fmt=0))
    assert score.title == "Song"
    assert [(t.name, t.program, t.channel, len(t.notes)) for t in score.tracks] == [
        ("Song: Drums", 0, 9, 1),
        ("Song: Acoustic Bass", 32, 1, 1),
        ("Song: Violin", 40, 0, 1),
    ]  # in the order in which they are first heard (same tick: file order)
    assert score.tracks[1].controls == (ControlChange(0, 7, 90),)
    assert "1 control change on a channel without notes was dropped" in score.warnings


def test_program_change_between_notes_starts_a_new_track():
    body = (
        name("Winds")
        + event(0, 0xC0, 73)
        + event(0, 0x90, 72, 80)
        + event(480, 0x80, 72, 0)
        + event(0, 0xC0, 71)
        + event(0, 0x90, 60, 80)
        + event(480, 0x80, 60, 0)
        + event(0, 0xC0, 73)
        + event(0, 0x90, 74, 80)
        + event(480, 0x80, 74, 0)
        + end_of_track()
    )
    score = read_midi_bytes(smf(body))
    assert [(t.name, t.program, [n.pitch for n in t.notes]) for t in score.tracks] == [
        ("Winds: Flute", 73, [72, 74]),
        ("Winds: Clarinet", 71, [60]),
    ]


def test_program_changes_and_controls_of_a_set_up_track_apply_to_their_channel():
    setup = name("Setup") + event(0, 0xC2, 68) + event(0, 0xB2, 7, 99) + event(960, 0xC2, 70) + end_of_track()
    player = name("Reed") + notes_body([(0, 480, 70, 80), (960, 480, 50, 80)], channel=2)
    score = read_midi_bytes(smf(setup, player))
    assert score.title == "Setup"
    assert [(t.name, t.program, [n.pitch for n in t.notes]) for t in score.tracks] == [
        ("Reed: Oboe", 68, [70]),
        ("Reed: Bassoon", 70, [50]),
    ]
    assert score.tracks[0].controls == (ControlChange(0, 7, 99),)
    assert score.warnings == ()


def test_a_tracks_own_program_wins_at_one_tick():
    first = name("A") + notes_body([(0, 480, 60, 80)], channel=0, program=40)
    second = name("B") + notes_body([(0, 480, 62, 80)], channel=0, program=41)
    score = read_midi_bytes(smf(first, second))
    assert [(t.name, t.program) for t in score.tracks] == [("A", 40), ("B", 41)]
    assert score.title == ""  # the first track plays: it is not a conductor track


def test_a_program_change_applies_from_its_place_in_its_own_track_and_at_once_for_the_others():
    own = (
        name("A")
        + event(0, 0x90, 60, 80)
        + event(0, 0xC0, 40)  # after the first note of its track at this tick, before the second
        + event(0, 0x90, 64, 80)
        + event(480, 0x80, 60, 0)
        + event(0, 0x80, 64, 0)
        + end_of_track()
    )
    other = name("B") + notes_body([(0, 480, 67, 80), (480, 480, 69, 80)], channel=0)
    score = read_midi_bytes(smf(own, other))
    assert [(t.name, t.program, [n.pitch for n in t.notes]) for t in score.tracks] == [
        ("A: Acoustic Grand Piano", 0, [60]),
        ("A: Violin", 40, [64]),
        ("B", 40, [67, 69]),  # another track's change at the same tick came first
    ]


def test_tracks_read_in_small_groups_give_the_same_score(monkeypatch: pytest.MonkeyPatch):
    """Chunks are decoded, and notes paired, many tracks at a time; the seams between groups must
    not show: one track per group and block gives the same Score, warnings included."""
    rng = random.Random(3)
    bodies = [name("Setup") + event(0, 0xC1, 30) + event(0, 0xB1, 7, 90) + end_of_track()]
    for channel in (0, 1, 1, 2, 0):
        notes = [(rng.randrange(0, 4000), rng.randrange(0, 500), rng.randrange(40, 90), 80) for _ in range(60)]
        bodies.append(notes_body(notes, channel=channel, program=rng.choice([None, 40, 41])))
    bodies.append(name("Cut") + event(0, 0x90, 60, 80) + event(10, 0x90, 62, 0xC8))  # a malformed event
    data = smf(*bodies)
    together = read_midi_bytes(data)
    monkeypatch.setattr("core.midi.events._GROUP_BYTES", 1)
    monkeypatch.setattr("core.midi.assembling._BLOCK_EVENTS", 1)
    apart = read_midi_bytes(data)
    assert apart == together
    assert len(together.tracks) >= 5 and any("malformed" in w for w in together.warnings)


def test_consecutive_groups_stay_within_their_budget_and_a_large_item_goes_alone():
    assert consecutive_groups([3, 4, 2, 9, 1, 1], 8) == [(0, 2), (2, 3), (3, 4), (4, 6)]
    assert consecutive_groups([], 8) == [(0, 0)]


def test_tracks_without_names_are_named_after_their_instrument():
    score = read_midi_bytes(smf(notes_body([(0, 10, 60, 80)], 3, 41), notes_body([(0, 10, 38, 80)], 9)))
    assert [t.name for t in score.tracks] == ["Viola", "Drums"]


def test_maps_from_any_track_are_merged():
    first = notes_body([(0, 1920, 60, 80)])
    second = meta(0, 0x58, bytes([3, 2, 24, 8])) + tempo(480, 1_000_000) + meta(0, 0x59, b"\xfd\x01") + end_of_track()
    score = read_midi_bytes(smf(first, second))
    assert score.time_signatures == (TimeSignature(0, 3, 4),)
    assert score.tempos == (TempoChange(480, 1_000_000),)
    assert score.key_signatures == (KeySignature(480, -3, True),)


def test_the_later_of_two_tempo_or_meter_events_at_one_tick_wins():
    """A player applies events in file order, so at one tick the last tempo (or meter) is the one
    heard, whatever its value: the slower tempo first and the faster last gives the faster one."""
    conductor = tempo(0, 500_000) + tempo(0, 375_000) + meter(0, 3, 2) + meter(0, 2, 2) + end_of_track()
    score = read_midi_bytes(smf(conductor, notes_body([(0, 1920, 60, 80)])))
    assert score.tempos == (TempoChange(0, 375_000),)
    assert score.time_signatures == (TimeSignature(0, 2, 4),)
    # Across tracks at one tick, the later track's event comes later in file order.
    first = tempo(960, 400_000) + notes_body([(0, 1920, 60, 80)])
    second = tempo(960, 800_000) + meter(0, 5, 3) + end_of_track()
    third = meter(960, 7, 3) + end_of_track()
    score = read_midi_bytes(smf(first, second, third))
    assert score.tempos == (TempoChange(960, 800_000),)
    assert score.time_signatures == (TimeSignature(960, 7, 8),)


def test_pitch_bends_and_channel_pressure_are_kept_and_polyphonic_aftertouch_is_counted():
    body = (
        event(0, 0xE2, 0, 0x40)  # in tune, before the note
        + event(0, 0x92, 60, 80)
        + event(10, 0xE2, 0x7F, 0x7F)  # the top of the range
        + event(0, 0xD2, 5)
        + event(0, 0xA2, 60, 5)  # polyphonic aftertouch: not kept
        + event(5, 0xE2, 0, 0)  # the bottom of the range, then another bend at the same tick: it wins
        + event(0, 0xE2, 0, 0x50)
        + event(5, 0x82, 60, 0)
        + end_of_track()
    )
    score = read_midi_bytes(smf(body))
    track = score.tracks[0]
    assert track.notes == (Note(0, 20, 60, 80),) and track.channel == 2
    assert track.pitch_bends == (PitchBend(0, 0), PitchBend(10, 8191), PitchBend(15, 0x50 * 128 - 8192))
    assert track.pressures == (ChannelPressure(10, 5),)
    assert score.warnings == ("1 polyphonic aftertouch event is not kept",)


def test_saving_keeps_pitch_bends_and_pressure_on_their_channel_and_tick(tmp_path: Path):
    """Open a file with pitch bends in two tracks (one of them a set-up track without notes), save it,
    and read the saved file with mido: every bend and pressure is there, at its tick, on its channel."""
    setup = name("Setup") + event(0, 0xE1, 0, 0x30) + end_of_track()
    bends = b"".join(event(0 if i == 0 else 30, 0xE0, i % 128, 64 + i % 32) for i in range(40))
    guitar = name("Guitar") + event(0, 0xC0, 27) + event(0, 0x90, 64, 90) + bends + event(0, 0xD0, 77)
    guitar += event(10, 0x80, 64, 0) + end_of_track()
    bass = name("Bass") + event(0, 0xC1, 33) + event(0, 0x91, 40, 90) + event(600, 0xD1, 12) + event(600, 0x81, 40, 0)
    source = tmp_path / "bent.mid"
    source.write_bytes(smf(guitar, bass + end_of_track(), setup))
    score = read_midi(source)
    assert score.warnings == ()
    saved = tmp_path / "saved.mid"
    write_midi(score, saved)

    def heard(path: Path, kind: str) -> list[tuple[int, int, int]]:
        found, tick = [], 0
        for message in mido.merge_tracks(mido.MidiFile(str(path)).tracks):
            tick += message.time
            if message.type == kind:
                found.append((tick, message.channel, message.pitch if kind == "pitchwheel" else message.value))
        return sorted(found)

    assert heard(saved, "pitchwheel") == heard(source, "pitchwheel")
    assert len(heard(saved, "pitchwheel")) == 41
    assert heard(saved, "aftertouch") == heard(source, "aftertouch") == [(600, 1, 12), (1170, 0, 77)]
    assert read_midi(saved) == score


def test_same_channel_programs_sound_right_in_a_player_that_follows_them_in_time(tmp_path: Path):
    """A MIDI track that changes program between notes becomes two Score tracks on one channel;
    written back, every note must sound with its own program in a player that merges the tracks in
    time and follows program changes per channel (here mido, not the project's reader)."""
    body = name("Winds")
    for bar in range(4):  # flute, clarinet, flute, clarinet: one channel, the program changing
        program = 73 if bar % 2 == 0 else 71
        body += event(0, 0xC0, program) + event(0, 0x90, 72 + bar, 80) + event(BAR, 0x80, 72 + bar, 0)
    score = read_midi_bytes(smf(body + end_of_track()))
    assert [(t.name, t.program, t.channel) for t in score.tracks] == [
        ("Winds: Flute", 73, 0),
        ("Winds: Clarinet", 71, 0),
    ]
    path = tmp_path / "winds.mid"
    write_midi(score, path)
    assert heard_programs(path) == expected_programs(score)
    assert read_midi(path) == score


def test_overlapping_and_simultaneous_notes_of_two_programs_on_one_channel(tmp_path: Path):
    horn = Track("Horn", 60, 4, [Note(0, 960, 60, 80), Note(480, 960, 64, 80), Note(1920, 480, 67, 80)])
    oboe = Track("Oboe", 68, 4, [Note(0, 480, 72, 80), Note(240, 960, 76, 80), Note(1920, 480, 79, 80)])
    empty = Track("Tuba (tacet)", 58, 4)  # an empty track must not change the channel's program
    score = Score(TPQ, (horn, empty, oboe))
    path = tmp_path / "shared.mid"
    write_midi(score, path)
    assert heard_programs(path) == expected_programs(score)
    assert read_midi(path).tracks == (horn, oboe)  # the tacet track on a played channel is not kept


@pytest.mark.parametrize("seed", range(12))
def test_random_scores_with_shared_channels_sound_with_each_tracks_program(seed: int, tmp_path: Path):
    rng = random.Random(seed)
    tracks = tuple(
        Track(f"Part {i}", rng.randrange(128), rng.choice([0, 1, 9]),
              [Note(rng.randrange(0, 20) * 120, rng.randint(1, 600), rng.randint(30, 90), 64) for _ in range(30)])
        for i in range(rng.randint(2, 5))
    )
    score = Score(TPQ, tracks)
    path = tmp_path / "random.mid"
    write_midi(score, path)
    assert heard_programs(path) == expected_programs(score)


def heard_programs(path: Path) -> list[tuple[int, int, int, int]]:
    """(tick, channel, pitch, program) of every note-on of a file as a General MIDI player hears it:
    mido merges the tracks in time order (file order at one tick) and the program of each channel
    is followed through its program changes."""
    program = [0] * 16
    heard, tick = [], 0
    for message in mido.merge_tracks(mido.MidiFile(str(path)).tracks):
        tick += message.time
        if message.type == "program_change":
            program[message.channel] = message.program
        elif message.type == "note_on" and message.velocity > 0:
            heard.append((tick, message.channel, message.note, program[message.channel]))
    return sorted(heard)


def expected_programs(score: Score) -> list[tuple[int, int, int, int]]:
    return sorted((n.start, t.channel, n.pitch, t.program) for t in score.tracks for n in t.notes)


def test_demo_piece_is_a_clean_multi_instrument_piece():
    demo = read_midi(Path(__file__).resolve().parents[3] / "resources" / "demo.mid")
    assert demo.warnings == ()
    assert 16 <= demo.bar_count <= 32
    assert len({t.program for t in demo.tracks}) >= 2 and len(demo.tracks) >= 4
    assert len({m.text for m in demo.time_signatures}) > 1
    assert read_midi_bytes(encode_midi(demo)) == demo
