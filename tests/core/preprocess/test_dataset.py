"""Datasets on disk: a folder of mixed files, the manifest and report, incremental and deterministic
runs, loading, and the two CLI commands."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from core.cli.main import main
from core.errors import Cancelled, DatasetError
from core.midi.files import write_midi
from core.preprocess import report as reasons
from core.preprocess.dataset import MANIFEST, REPORT, find_midi_files, load_dataset, preprocess_folder
from core.preprocess.stats import dataset_stats, format_stats
from tests.core.preprocess.scores import line, piece


def make_folder(root):
    """Two good files (one deep, upper-case suffix), drums only, harp only, no notes, a truncated
    file (refused by the reader: no note could be read), a file that is no MIDI and a text file."""
    (root / "sub" / "deeper").mkdir(parents=True)
    melody = [(480 * i, 480, 60 + (i * 5) % 12) for i in range(32)]
    write_midi(piece(line(*melody, name="Piano")), root / "a.mid")
    strings = piece(
        line(*[(1440 * i, 1440, 67) for i in range(8)], program=40, channel=0, name="Violin"),
        line(*[(720 * i, 720, 48 + i % 3) for i in range(16)], program=42, channel=1, name="Cello"),
        meters=((0, 3, 4),),
    )
    write_midi(strings, root / "sub" / "deeper" / "b.MIDI")
    write_midi(piece(line((0, 480, 36), (480, 480, 38), channel=9, name="Drums")), root / "drums.mid")
    write_midi(piece(line((0, 480, 60), program=46, name="Harp")), root / "sub" / "harp.mid")
    write_midi(piece(), root / "empty.mid")
    (root / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x10\x00\x90")
    (root / "garbage.mid").write_bytes(b"this is not a MIDI file at all" * 3)
    (root / "notes.txt").write_text("not music")


@pytest.fixture
def folder(tmp_path):
    make_folder(tmp_path / "in")
    return tmp_path / "in"


def entries(out) -> dict[str, dict]:
    return {e["source"]: e for e in json.loads((out / MANIFEST).read_text())["files"]}


def test_finds_midi_files_at_any_depth_in_any_case(folder):
    names = [p.relative_to(folder).as_posix() for p in find_midi_files(folder)]
    assert names == [
        "a.mid", "broken.mid", "drums.mid", "empty.mid", "garbage.mid", "sub/deeper/b.MIDI", "sub/harp.mid",
    ]  # fmt: skip


def test_mixed_folder_counts_and_reasons(folder, tmp_path):
    out = tmp_path / "out"
    seen = []
    summary = preprocess_folder(folder, out, jobs=1, progress=lambda done, total, name: seen.append((done, total)))
    assert (summary.files, summary.encoded, summary.skipped, summary.reused) == (7, 2, 5, 0)
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)
    files = entries(out)
    assert files["drums.mid"]["reason"] == "only drums"
    assert files["sub/harp.mid"]["reason"] == "only programs the instrument table ignores"
    assert files["empty.mid"]["reason"] == "no notes"
    assert files["broken.mid"]["reason"].startswith("no note could be read: the file is cut short in MIDI track 1")
    assert files["garbage.mid"]["status"] == "skipped" and "MIDI" in files["garbage.mid"]["reason"]
    assert "\n" not in files["garbage.mid"]["reason"]
    assert files["drums.mid"]["dropped"] == {reasons.DRUMS: 2}
    assert files["a.mid"]["status"] == "ok" and files["a.mid"]["bars"] == 8
    assert files["sub/deeper/b.MIDI"]["meters"] == {"3/4": 8}
    assert files["sub/deeper/b.MIDI"]["instruments"] == {"Violin": 8, "Cello": 16}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.npz")) == ["a.mid.npz", "sub/deeper/b.MIDI.npz"]
    totals = json.loads((out / MANIFEST).read_text())["totals"]
    assert (totals["files"], totals["encoded"], totals["skipped"], totals["bars"]) == (7, 2, 5, 16)
    report = (out / REPORT).read_text()
    for name in ("broken.mid", "drums.mid", "empty.mid", "garbage.mid", "sub/harp.mid"):
        assert f"  {name}: " in report
    assert "a.mid" not in report  # encoded without changes


def test_runs_are_incremental(folder, tmp_path):
    out = tmp_path / "out"
    preprocess_folder(folder, out, jobs=1)
    again = preprocess_folder(folder, out, jobs=1)
    assert (again.reused, again.encoded, again.skipped) == (7, 2, 5)

    stat = (folder / "a.mid").stat()
    os.utime(folder / "a.mid", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
    write_midi(piece(line((0, 1920, 60), (1920, 1920, 64))), folder / "sub" / "harp.mid")  # now a piano
    (folder / "drums.mid").unlink()
    third = preprocess_folder(folder, out, jobs=1)
    assert (third.files, third.reused, third.encoded, third.skipped) == (6, 5, 3, 3)
    files = entries(out)
    assert files["sub/harp.mid"]["status"] == "ok" and "drums.mid" not in files
    assert files["a.mid"]["mtime_ns"] == stat.st_mtime_ns + 10**9
    assert preprocess_folder(folder, out, jobs=1, redo=True).reused == 0


def test_output_is_deterministic_across_runs_and_worker_counts(folder, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    preprocess_folder(folder, one, jobs=1)
    preprocess_folder(folder, two, jobs=2)
    produced = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert produced == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for relative in produced:
        assert (one / relative).read_bytes() == (two / relative).read_bytes(), relative


def test_load_dataset_and_stats(folder, tmp_path):
    out = tmp_path / "out"
    preprocess_folder(folder, out, jobs=1)
    dataset = load_dataset(out)
    assert [p.source for p in dataset.pieces] == ["a.mid", "sub/deeper/b.MIDI"]
    assert dataset.manifest["totals"]["bars"] == sum(p.bar_count for p in dataset.pieces)
    stats = dataset_stats(dataset)
    assert (stats.files, stats.skipped, stats.bars) == (2, 5, 16)
    assert stats.events == sum(len(p.events) for p in dataset.pieces)
    assert stats.max_events_per_bar == max(int(np.diff(p.bar_bounds).max()) for p in dataset.pieces)
    assert stats.histograms["instrument"][[0, 4, 6]].tolist() == [32, 8, 16]
    text = format_stats(stats)
    assert "bars: 16" in text and "Violin" in text


def test_bad_folders_fail_clearly(tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        preprocess_folder(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DatasetError, match="no MIDI files"):
        preprocess_folder(tmp_path / "nothing", tmp_path / "out")
    with pytest.raises(DatasetError, match="manifest.json"):
        load_dataset(tmp_path / "nothing")


def test_cancel_stops_the_run(folder, tmp_path):
    with pytest.raises(Cancelled):
        preprocess_folder(folder, tmp_path / "out", jobs=1, cancel=lambda: True)


def test_cli_preprocess_and_stats(folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["preprocess", str(folder), str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "7 files: 2 encoded, 5 skipped" in printed and "report.txt" in printed
    assert main(["dataset-stats", str(out)]) == 0
    assert "events per bar:" in capsys.readouterr().out
    assert main(["preprocess", str(tmp_path / "missing"), str(out)]) == 2
    assert main(["dataset-stats", str(tmp_path / "missing")]) == 2
    assert main(["preprocess", str(folder), str(out), "--jobs", "0"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 3 and "Traceback" not in error


def test_outputs_hold_no_pickle(folder, tmp_path):
    out = tmp_path / "out"
    preprocess_folder(folder, out, jobs=1)
    for path in out.rglob("*"):
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                assert all(data[name].dtype != object for name in data.files)
        elif path.is_file():
            assert path.suffix in (".json", ".txt")
            path.read_text()  # plain text


def test_cli_counts_kept_notes_as_notes_and_reads_karaoke_files(tmp_path, capsys):
    """Issue #15: "kept" counted the pieces long notes are split into at barlines (8 whole-bar-plus
    notes made 16+ pieces, more than the notes in); and .kar files were not picked up. A karaoke
    file is an SMF under another name."""
    folder = tmp_path / "in"
    folder.mkdir()
    long_notes = piece(line(*[(2880 * i, 2880, 60 + i) for i in range(8)]))  # 1.5 bars of 4/4 each
    write_midi(long_notes, folder / "long.mid")
    write_midi(piece(line(*[(480 * i, 480, 64) for i in range(8)])), folder / "song.KAR")
    assert [p.name for p in find_midi_files(folder)] == ["long.mid", "song.KAR"]
    out = tmp_path / "out"
    assert main(["preprocess", str(folder), str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "2 files: 2 encoded, 0 skipped" in printed and "16 of 16 notes kept" in printed
    long_entry = entries(out)["long.mid"]
    assert long_entry["notes_in"] == long_entry["notes_kept"] == 8
    assert long_entry["trimmed"][reasons.SPLIT_LONG] == 8  # each note split, still one kept note
