"""``mahlernet chords``: its text and JSON output, and a clean failure on a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli.main import main
from core.harmony.labels import Chord
from core.midi.files import write_midi
from tests.core.harmony.chord_scores import BAR, block_chords, voiced


def _progression_file(tmp_path: Path) -> Path:
    chords = [Chord(0, "maj"), Chord(7, "maj"), Chord(9, "min"), Chord(6, "min7")]
    score = block_chords([voiced(chord) for chord in chords], length=BAR // 2)
    path = tmp_path / "progression.mid"
    write_midi(score, path)
    return path


def test_json_lists_bar_beat_and_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["chords", str(_progression_file(tmp_path)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"bar": 1, "beat": 1.0, "chord": "C:maj"},
        {"bar": 1, "beat": 3.0, "chord": "G:maj"},
        {"bar": 2, "beat": 1.0, "chord": "A:min"},
        {"bar": 2, "beat": 3.0, "chord": "F#:min7"},
    ]


def test_text_output_and_bar_resolution(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = _progression_file(tmp_path)
    assert main(["chords", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["bar 1 beat 1  C:maj", "bar 1 beat 3  G:maj"]
    assert main(["chords", str(path), "--resolution", "bar", "--json"]) == 0
    assert [entry["bar"] for entry in json.loads(capsys.readouterr().out)] == [1, 2]


def test_a_broken_file_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    assert main(["chords", str(bad)]) == 2
    error = capsys.readouterr().err.strip()
    assert "bad.mid" in error and "\n" not in error
