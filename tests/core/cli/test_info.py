"""``mahlernet info``: the report on a good file, a clean one-line failure on a bad one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import main
from core.midi.files import write_midi
from core.music.score import KeySignature, Note, Score, TempoChange, TimeSignature, Track
from tests.core.midi_bytes import end_of_track, event, smf, tempo

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "resources" / "demo.mid"


def test_info_on_the_demo_piece(capsys: pytest.CaptureFixture[str]):
    assert main(["info", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "Title: Liliʻuokalani: Aloha ʻOe" in out
    assert "Length: 23 bars" in out
    assert "Tracks: 6" in out
    piano = next(line for line in out.splitlines() if "Piano" in line)
    assert piano.split()[1:] == ["Piano", "0", "Acoustic", "Grand", "Piano", "6", "265", "C2-C5", "(36-72)"]
    soprano = next(line for line in out.splitlines() if "Soprano" in line)
    assert "52 Choir Aahs" in soprano and "D4-C5 (62-72)" in soprano
    assert "  bar 1: 1/4\n  bar 2: 4/4\n" in out and "  bar 14: 5/8" in out
    assert "  bar 1: 90 bpm" in out
    assert "  bar 1: G\n" in out
    assert "Warnings: none" in out


def test_info_shows_changes_inside_bars_drums_and_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    score = Score(
        480,
        (Track("Kit", 0, 9, [Note(0, 10, 36, 100)]), Track("Strings", 48, 2, [Note(0, 4 * 1920, 55, 60)])),
        (TempoChange(0, 500_000), TempoChange(1920 + 480, 1_000_000)),
        (TimeSignature(0, 4, 4), TimeSignature(3840, 7, 8)),
        (KeySignature(0, -2, True),),
    )
    write_midi(score, tmp_path / "piece.mid")
    assert main(["info", str(tmp_path / "piece.mid")]) == 0
    out = capsys.readouterr().out
    assert "Drums (channel 10)" in out and "String Ensemble 1" in out
    assert "  bar 2 +480 ticks: 60 bpm" in out
    assert "  bar 3: 7/8" in out
    assert "  bar 1: Gm" in out

    broken = smf(tempo(0, 0) + event(0, 0x90, 60, 90) + end_of_track(480))
    (tmp_path / "broken.mid").write_bytes(broken)
    assert main(["info", str(tmp_path / "broken.mid")]) == 0
    out = capsys.readouterr().out
    assert "  - an invalid tempo (000000) at tick 0 was ignored" in out
    assert "  - 1 note was never released; it ends where its track ends" in out


@pytest.mark.parametrize("content", [b"", b"not a midi file at all", b"MThd\x00\x00\x00\x06\x00\x02\x00\x01\x01\xe0"])
def test_bad_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    assert main(["info", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mahlernet info: {path}: ")


def test_bad_file_from_the_shell_has_no_traceback(tmp_path: Path):
    path = tmp_path / "song.mid"
    path.write_text("This is text.\n")
    result = subprocess.run(
        [sys.executable, "-m", "core.cli.main", "info", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    expected = f"mahlernet info: {path}: is not a MIDI file (it does not start with 'MThd')"
    assert result.stderr.strip().splitlines() == [expected]
    assert "Traceback" not in result.stderr


def test_a_damaged_file_is_refused_or_reported_by_track_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    no_note = tmp_path / "no note.mid"
    no_note.write_bytes(smf(b"\x81\x81\x81\x81\x01\x90\x3c\x40" + end_of_track()))  # a 5-byte delta time
    assert main(["info", str(no_note)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"mahlernet info: {no_note}: no note could be read: MIDI track 1: malformed event at byte 0 of 12 "
        "(a delta time longer than 4 bytes)"
    ]
    score = Score(480, tuple(Track(name, 40 + i, i, [Note(b * 1920, 1920, 60, 80) for b in range(6)])
                             for i, name in enumerate(["Violin", "Viola", "Cello"])))
    write_midi(score, tmp_path / "whole.mid")
    data = (tmp_path / "whole.mid").read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: data.index(b"Viola") + 30])
    assert main(["info", str(tmp_path / "cut.mid")]) == 0
    out = capsys.readouterr().out
    assert 'Warnings:\n  - the file is cut short: "Viola" stops at bar ' in out
    lost = '  - the file ends after "Viola": 1 more track that its header declares (MIDI track 4 of 4) is missing'
    assert lost in out
