"""The dataset report: files used, skipped with reasons, bars, events, meters, instruments."""

import pytest

from core.errors import DatasetError
from core.preprocess.dataset import preprocess_folder
from core.preprocess.summary import dataset_report, read_dataset_report
from tests.core.tiny_training import write_junk_folder, write_midi_folder


def test_a_mixed_folder_reports_what_was_used_and_why_files_were_skipped(tmp_path):
    music = write_midi_folder(tmp_path / "music", count=3, bars=8)
    write_junk_folder(music / "junk")
    preprocess_folder(music, tmp_path / "data", jobs=1)
    report = read_dataset_report(tmp_path / "data")
    assert report.usable
    assert (report.files, report.used) == (6, 3)
    skipped = dict(report.skipped)
    assert set(skipped) == {"junk/noise.mid", "junk/empty.midi", "junk/drums.mid"}
    assert all(reason and reason != "skipped" for reason in skipped.values())
    assert report.bars == 24 and report.events > report.bars
    assert report.meters == {"4/4": 16, "3/4": 8}  # most bars first
    assert sum(report.instruments.values()) > 0 and len(report.instruments) == 2
    text = report.text()
    assert text.splitlines()[0] == report.headline() == f"6 files: 3 used, 3 skipped; 24 bars, {report.events:,} events"
    assert "Meters (bars): 4/4 16, 3/4 8" in text
    assert "junk/noise.mid: " + skipped["junk/noise.mid"] in text


def test_a_folder_of_junk_has_no_usable_bars_and_says_so(tmp_path):
    preprocess_folder(write_junk_folder(tmp_path / "junk"), tmp_path / "data", jobs=1)
    report = read_dataset_report(tmp_path / "data")
    assert not report.usable and report.bars == 0
    assert "no usable bars" in report.headline()
    assert len(report.skipped) == 3


def test_changed_files_are_listed_with_what_changed():
    manifest = {
        "totals": {"bars": 4, "events": 40, "meters": {"4/4": 4}, "dropped": {"drum channel": 3}},
        "files": [
            {"source": "a.mid", "status": "ok", "bars": 4, "events": 40, "dropped": {"drum channel": 3}, "trimmed": {}},
            {"source": "b.mid", "status": "ok", "bars": 0, "events": 0, "dropped": {}, "trimmed": {}},
        ],
    }
    report = dataset_report(manifest, "x")
    assert report.changed == (("a.mid", "4 bars, 40 events; dropped 3 (drum channel 3)"),)
    assert "Used with changes (1):" in report.text() and "b.mid" not in report.text()


def test_a_folder_without_a_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no manifest.json"):
        read_dataset_report(tmp_path)
