"""Hostile and broken MIDI files, made by the tests: each ends in a clean MidiFileError (naming the
file and the reason) or loads with a warning that says what was repaired, within a second."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

import pytest

import core.midi.files as midi_io
from core.errors import MidiFileError
from core.midi.files import read_midi, read_midi_bytes, write_midi
from core.music.score import Note, Score, TempoChange, TimeSignature, Track
from tests.core.midi_bytes import (
    chunk,
    end_of_track,
    event,
    header,
    meta,
    meter,
    name,
    notes_body,
    smf,
    tempo,
    vlq,
)

ONE_NOTE = notes_body([(0, 480, 60, 100)])


def _random_bytes(count: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(count)


def _many_notes_in_one_bar(count: int) -> bytes:
    body = bytearray()
    for i in range(count):  # all within the first 1920 ticks (one 4/4 bar at 480 per quarter)
        body += event(0 if i % 100 else 1, 0x90, 20 + i % 100, 64)
    for i in range(count):
        body += event(1 if i == 0 else 0, 0x80, 20 + i % 100, 0)
    return smf(bytes(body) + end_of_track())


# (id, file bytes, "error" or "warning", pattern that the message must match)
CASES = [
    ("empty file", b"", "error", "empty"),
    ("text file named .mid", b"This is a text file, not music.\n" * 3, "error", "not a MIDI file"),
    ("wrong magic", b"MTHD" + header()[4:] + chunk(ONE_NOTE), "error", "not a MIDI file"),
    ("truncated header", header()[:10], "error", "truncated"),
    ("header length below 6", header(length=4) + chunk(ONE_NOTE), "error", "at least 6"),
    ("header length past the end", header(length=1000), "error", "header claims 1000 bytes"),
    ("format 2", smf(ONE_NOTE, fmt=2), "error", "format 2"),
    ("format 3", smf(ONE_NOTE, fmt=3), "error", "unknown MIDI format 3"),
    ("zero division", smf(ONE_NOTE, division=0), "error", "zero ticks per quarter"),
    ("SMPTE with 20 fps", smf(ONE_NOTE, division=(256 - 20) << 8 | 40), "error", "SMPTE.*20 frames"),
    ("SMPTE with 0 ticks per frame", smf(ONE_NOTE, division=(256 - 25) << 8), "error", "zero ticks per frame"),
    (
        "header claims 65535 tracks",
        smf(ONE_NOTE, tracks=65535),
        "warning",
        'the file ends after "Acoustic Grand Piano": 65534 more tracks .*MIDI tracks 2-65535 of 65535. are missing',
    ),
    (
        "a file cut at the end of its conductor track",
        smf(tempo(0, 500_000) + end_of_track(), tracks=3),
        "error",
        "no note could be read: 2 more tracks that its header declares are missing",
    ),
    ("header claims 0 tracks", smf(ONE_NOTE, tracks=0), "warning", "declares 0 tracks"),
    ("no track chunk", header(), "error", "no track"),
    ("2000 tracks", header(1, 2000) + chunk(ONE_NOTE) * 2000, "error", "more than 1024 tracks"),
    ("5000 unknown chunks", header() + chunk(b"", b"XXXX") * 5000 + chunk(ONE_NOTE), "error", "more than 4096 chunks"),
    ("chunk length past the end", header() + chunk(ONE_NOTE, length=100_000), "warning", "cut short"),
    (
        "chunk cut in the middle of an event",
        header() + chunk(ONE_NOTE[:6], length=len(ONE_NOTE)),
        "warning",
        "runs past the end|cut short",
    ),
    (
        "running status without status byte",
        smf(event(0, 0x3C, 0x40) + ONE_NOTE),
        "error",
        "no note could be read: MIDI track 1: malformed event at byte 0 .*running status with no status byte",
    ),
    ("data byte above 127", smf(event(0, 0x90, 0x3C, 0xC8) + ONE_NOTE), "error", "no note could be read.*above 127"),
    ("SysEx past the chunk", smf(vlq(0) + b"\xf0" + vlq(1000) + b"\x01\x02\xf7"), "error", "no note.*SysEx message"),
    ("meta length past the chunk", smf(vlq(0) + b"\xff\x01" + vlq(5000) + b"abc"), "error", "no note.*meta event"),
    ("meta length as a 5-byte VLQ", smf(vlq(0) + b"\xff\x01\x81\x81\x81\x81\x01"), "error", "no note.*meta event"),
    (
        "5-byte delta time",
        smf(b"\x81\x81\x81\x81\x01\x90\x3c\x40" + ONE_NOTE),
        "error",
        "no note could be read: MIDI track 1: malformed event at byte 0 .*delta time longer than 4 bytes",
    ),
    (
        "a note, then a data byte above 127",
        smf(ONE_NOTE[:-4] + event(0, 0x90, 0x3C, 0xC8)),
        "warning",
        "\"Acoustic Grand Piano\" stops at bar 1: malformed event at byte 9 of 13 .a data byte above 127.; the rest",
    ),
    ("illegal status byte F4", smf(event(0, 0x90, 60, 64) + event(10, 0xF4, 1, 2)), "warning", "malformed event"),
    ("empty track chunk", smf(b""), "error", "no note could be read: MIDI track 1: the track is empty"),
    ("an empty track chunk after a good one", smf(ONE_NOTE, b""), "warning", "MIDI track 2: the track is empty"),
    ("tempo 0", smf(tempo(0, 0) + ONE_NOTE), "warning", "invalid tempo"),
    ("tempo of 2 bytes", smf(meta(0, 0x51, b"\x07\xa1") + ONE_NOTE), "warning", "invalid tempo"),
    ("meter 0/4", smf(meter(0, 0, 2) + ONE_NOTE), "warning", "invalid time signature"),
    ("meter 4/2^200", smf(meter(0, 4, 200) + ONE_NOTE), "warning", "invalid time signature"),
    ("key with 9 sharps", smf(meta(0, 0x59, b"\x09\x00") + ONE_NOTE), "warning", "invalid key signature"),
    (
        "random bytes after a valid header",
        header() + _random_bytes(2 * 2**20),
        "error",
        "no track",
    ),
    ("2 MB of random bytes after a valid file", smf(ONE_NOTE) + _random_bytes(2 * 2**20), "warning", "not MIDI chunks"),
    ("100,000 notes in one bar", _many_notes_in_one_bar(100_000), "ok", ""),
    (
        "a note far beyond the bar limit",
        smf(event(10**8, 0x90, 60, 64) + event(1, 0x80, 60, 0), division=1),
        "error",
        "longer than 100000 bars",
    ),
    ("events beyond tick 2**32", smf(event(0x0FFFFFFF, 0x90, 60, 64) * 17), "error", "beyond the limit"),
    ("RIFF of another kind", b"RIFF\x04\x00\x00\x00WAVEfmt ", "error", "RIFF file of type 'WAVE'"),
    ("RIFF MIDI without data", b"RIFF\x04\x00\x00\x00RMID", "error", "no 'data' chunk"),
]


@pytest.mark.parametrize("data, outcome, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_file_fails_cleanly_or_loads_with_a_warning(tmp_path: Path, data: bytes, outcome: str, pattern: str):
    path = tmp_path / "case.mid"
    path.write_bytes(data)
    if outcome == "error":
        with pytest.raises(MidiFileError, match=pattern) as raised:
            read_midi(path)
        message = str(raised.value)
        assert message.startswith(str(path) + ": ") and "\n" not in message
    else:
        score = read_midi(path)
        if outcome == "warning":
            assert any(__import__("re").search(pattern, w) for w in score.warnings), score.warnings
        else:
            assert score.warnings == ()


def test_100000_notes_in_one_bar_all_arrive():
    score = read_midi_bytes(_many_notes_in_one_bar(100_000))
    assert score.notes_count == 100_000
    assert score.bar_count == 1
    assert score.tracks[0].pitch_range == (20, 119)


def test_what_comes_before_a_broken_event_is_kept():
    body = event(0, 0x90, 60, 100) + event(480, 0x80, 60, 0) + event(0, 0x90, 62, 0xFF) + ONE_NOTE
    score = read_midi_bytes(smf(body))
    assert score.tracks[0].notes == (Note(0, 480, 60, 100),)
    assert any("malformed event at byte 9 of" in w for w in score.warnings)


def test_running_status_across_meta_events_and_note_on_zero_as_off():
    body = event(0, 0x90, 60, 100) + meta(0, 0x01, b"text") + event(480, 60, 0) + event(0, 64, 90) + event(240, 64, 0)
    score = read_midi_bytes(smf(body + end_of_track()))
    assert score.tracks[0].notes == (Note(0, 480, 60, 100), Note(480, 240, 64, 90))
    assert score.warnings == ()


def test_same_pitch_overlaps_pair_first_in_first_out():
    body = (
        event(0, 0x90, 60, 10)
        + event(100, 0x90, 60, 20)
        + event(100, 0x90, 60, 30)  # three notes of pitch 60 sounding
        + event(100, 0x80, 60, 0)  # ends the oldest
        + event(100, 0x80, 60, 0)
        + event(100, 0x80, 60, 0)
        + event(100, 0x80, 60, 0)  # nothing left to end: ignored
        + end_of_track()
    )
    score = read_midi_bytes(smf(body))
    assert score.tracks[0].notes == (Note(0, 300, 60, 10), Note(100, 300, 60, 20), Note(200, 300, 60, 30))
    assert score.warnings == ()


def test_notes_never_released_end_with_their_track():
    body = event(0, 0x90, 60, 100) + event(0, 0x90, 64, 100) + event(480, 0x80, 64, 0) + end_of_track(1440)
    score = read_midi_bytes(smf(body))
    assert score.tracks[0].notes == (Note(0, 480, 64, 100), Note(0, 1920, 60, 100))
    assert any("1 note was never released; it ends where its track ends" in w for w in score.warnings)


def test_zero_length_notes_get_one_tick():
    body = event(0, 0x99, 36, 100) + event(0, 0x89, 36, 0) + end_of_track(10)
    score = read_midi_bytes(smf(body))
    assert score.tracks[0].notes == (Note(0, 1, 36, 100),)
    assert score.tracks[0].is_drum
    assert any("given 1 tick" in w for w in score.warnings)


def test_missing_end_of_track_is_fine():
    body = event(0, 0x90, 60, 100) + event(480, 0x80, 60, 0)
    score = read_midi_bytes(smf(body))
    assert score.tracks[0].notes == (Note(0, 480, 60, 100),)
    assert score.warnings == ()


def test_unknown_chunks_are_skipped_and_trailing_bytes_ignored():
    data = header(1, 1) + chunk(b"vendor data", b"XFIH") + chunk(ONE_NOTE) + b"\x00\x01"
    score = read_midi_bytes(data)
    assert score.tracks[0].notes == (Note(0, 480, 60, 100),)
    assert score.warnings == ("2 stray bytes at the end of the file were ignored",)


def test_smpte_time_is_converted_to_exact_ticks():
    body = tempo(0, 300_000) + event(0, 0x90, 60, 100) + event(1000, 0x80, 60, 0) + end_of_track()
    score = read_midi_bytes(smf(body, division=(256 - 25) << 8 | 40))  # 25 fps x 40 = 1000 ticks a second
    assert score.ticks_per_quarter == 1000
    assert score.seconds_at(1000) == pytest.approx(1.0)
    assert any("SMPTE" in w for w in score.warnings)
    assert any("tempo events were ignored" in w for w in score.warnings)
    drop_frame = read_midi_bytes(smf(ONE_NOTE, division=(256 - 29) << 8 | 100))
    assert drop_frame.ticks_per_quarter == 3000
    assert drop_frame.seconds_at(3000) == pytest.approx(1.001)  # 30 frames at 29.97 frames a second


def test_folder_and_missing_file_fail_cleanly(tmp_path: Path):
    with pytest.raises(MidiFileError, match="is a folder"):
        read_midi(tmp_path)
    with pytest.raises(MidiFileError, match="cannot be read"):
        read_midi(tmp_path / "missing.mid")


def test_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(midi_io, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.mid"
    path.write_bytes(smf(ONE_NOTE) + bytes(2000))
    with pytest.raises(MidiFileError, match="larger than the limit"):
        read_midi(path)


def test_note_limit(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(midi_io, "MAX_NOTES", 99)
    with pytest.raises(MidiFileError, match="more than 99 notes"):
        read_midi_bytes(_many_notes_in_one_bar(100))


def test_instrument_limit():
    body = b"".join(event(0, 0xC0, p) + event(0, 0x90, 60, 64) + event(1, 0x80, 60, 0) for p in range(128))
    data = smf(*[body.replace(b"\xc0", bytes([0xC0 | c])).replace(b"\x90", bytes([0x90 | c])).replace(
        b"\x80", bytes([0x80 | c])) for c in range(9)])
    with pytest.raises(MidiFileError, match="more than 1024 instruments"):
        read_midi_bytes(data)


def damage_source() -> bytes:
    """A small valid file (two tracks, two tempos, 3/4) to damage."""
    from core.midi.writing import encode_midi

    return encode_midi(
        Score(
            96,
            (
                Track("Violin", 40, 0, [Note(i * 48, 48, 60 + i % 12, 80) for i in range(60)]),
                Track("Drums", 0, 9, [Note(i * 96, 10, 36 + i % 10, 100) for i in range(30)]),
            ),
            (TempoChange(0, 500_000), TempoChange(960, 600_000)),
            (TimeSignature(0, 3, 4),),
        )
    )


def damaged_copies(original: bytes, count: int = 300, seed: int = 2024) -> Iterator[bytes]:
    """``count`` copies of ``original`` with bytes flipped, dropped and inserted, a fifth cut short
    (also timed by benchmarks/hostile_midi.py)."""
    rng = random.Random(seed)
    for _ in range(count):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            action = rng.random()
            if action < 0.6:
                data[at] = rng.randrange(256)
            elif action < 0.8:
                del data[at]
            else:
                data.insert(at, rng.randrange(256))
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        yield bytes(data)


def test_random_damage_never_crashes():
    """Flip, drop and insert bytes in a valid file: every result loads or fails with MidiFileError."""
    outcomes = {"loaded": 0, "refused": 0}
    for data in damaged_copies(damage_source()):
        try:
            read_midi_bytes(data)
            outcomes["loaded"] += 1
        except MidiFileError:
            outcomes["refused"] += 1
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0


def test_track_names_that_are_not_utf8_are_read_as_latin1(tmp_path: Path):
    data = smf(name(b"Fl\xfbte") + ONE_NOTE)
    assert read_midi_bytes(data).tracks[0].name == "Fl\u00fbte"


def test_written_file_of_a_hostile_read_is_clean(tmp_path: Path):
    """What the reader repaired, the writer writes as a valid file that reads back without warnings."""
    body = event(0, 0x90, 60, 100) + event(0, 0x90, 62, 100) + event(480, 0x80, 60, 0)  # 62 never released
    score = read_midi_bytes(smf(tempo(0, 0) + body))
    assert score.warnings
    write_midi(score, tmp_path / "clean.mid")
    again = read_midi(tmp_path / "clean.mid")
    assert again == score and again.warnings == ()


def test_warnings_are_collected_not_printed(capsys: pytest.CaptureFixture[str]):
    score = read_midi_bytes(smf(tempo(0, 0) + meter(0, 0, 2) + event(0, 0x90, 60, 64)))
    assert len(score.warnings) == 4  # tempo, meter, a note never released, and of no length
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_many_warnings_are_summarised():
    body = b"".join(tempo(1, 0) for _ in range(50)) + ONE_NOTE
    score = read_midi_bytes(smf(body))
    assert len(score.warnings) == midi_io.MAX_WARNINGS
    assert score.warnings[-1] == "... and 31 more warnings"


def test_a_file_whose_every_note_lies_past_a_malformed_event_is_refused(tmp_path: Path):
    """A conductor track that reads fine and an instrument track that breaks before its first note:
    not an empty piece to open, but a broken file, refused with the reason."""
    conductor = name("Sonata") + tempo(0, 500_000) + end_of_track()
    broken = name("Piano") + vlq(0) + b"\x3c\x40" + ONE_NOTE  # running status with no status before it
    path = tmp_path / "broken.mid"
    path.write_bytes(smf(conductor, broken))
    with pytest.raises(MidiFileError) as raised:
        read_midi(path)
    assert str(raised.value) == (
        f"{path}: no note could be read: MIDI track 2: malformed event at byte 9 of {len(broken)} "
        "(running status with no status byte before it)"
    )
    cut = tmp_path / "cut.mid"
    cut.write_bytes(smf(conductor, ONE_NOTE)[:-11])  # the file ends inside the first note-on
    with pytest.raises(MidiFileError, match=r"cut\.mid: no note could be read: the file is cut short in MIDI track 2"):
        read_midi(cut)


def _quartet() -> Score:
    bar = 1920
    parts = [("Violin I", 40, 0), ("Violin II", 40, 1), ("Viola", 41, 2), ("Cello", 42, 3)]
    tracks = tuple(Track(label, program, channel, [Note(i * bar, bar, 60, 80) for i in range(8)])
                   for label, program, channel in parts)
    return Score(480, tracks, title="Quartet")


def test_a_truncated_file_opens_with_what_it_holds_and_names_the_tracks_it_lost():
    from core.midi.writing import encode_midi

    data = encode_midi(_quartet())
    viola = data.index(b"Viola")
    score = read_midi_bytes(data[: viola + 40])  # inside the Viola track: its first notes are there
    assert [t.name for t in score.tracks] == ["Violin I", "Violin II", "Viola"]
    assert score.tracks[0] == _quartet().tracks[0] and score.tracks[1] == _quartet().tracks[1]
    assert 0 < len(score.tracks[2].notes) < 8
    cut, lost = score.warnings[:2]  # what is missing comes before the repairs
    assert cut.startswith('the file is cut short: "Viola" stops at bar ')
    assert lost == 'the file ends after "Viola": 1 more track that its header declares (MIDI track 5 of 5) is missing'
    assert not any("header declares 5 tracks" in w for w in score.warnings)  # said once, in the app's words


def test_a_malformed_event_inside_a_track_names_the_track_and_the_bar():
    notes = notes_body([(i * 1920, 1920, 60, 80) for i in range(3)], program=41)
    body = name("Viola") + notes[:-4] + event(0, 0x90, 60, 0xC8) + notes_body([(0, 10, 62, 80)])
    score = read_midi_bytes(smf(body))
    assert len(score.tracks[0].notes) == 3
    assert score.warnings[0].startswith('"Viola" stops at bar 4: malformed event at byte ')
    assert score.warnings[0].endswith("(a data byte above 127); the rest of that track is missing")
