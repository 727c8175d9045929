"""Sharded datasets (core/preprocess/shards.py): lazy reading gives the pairs of the per-piece format,
an interrupted run resumes to the dataset of an uninterrupted one without redoing finished shards,
duplicates are skipped, and training, the CLI and bad folders behave."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from core.model.batching import PairSet, load_pairs, load_pieces
from core.cli.main import main
from core.errors import Cancelled, DatasetError
from core.preprocess.dataset import preprocess_folder
from core.preprocess.shards import INDEX, SHARDS, open_sharded, preprocess_sharded, walk_midi_files
from tests.core.tiny_training import write_midi_folder, write_tiny_preset


@pytest.fixture
def midi(tmp_path) -> Path:
    """Seven tunes (bars vary per tune) in a flat folder."""
    folder = write_midi_folder(tmp_path / "midi", count=7, bars=6)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_lazy_shards_give_the_pairs_of_the_per_piece_dataset(midi, tmp_path):
    preprocess_folder(midi, tmp_path / "pieces", jobs=1)
    summary = preprocess_sharded(midi, tmp_path / "sharded", jobs=1, shard_files=3)
    assert (summary.files, summary.encoded, summary.shards) == (7, 7, 3)
    whole = PairSet(load_pieces(tmp_path / "pieces"), context_bars=2)
    lazy = load_pairs(tmp_path / "sharded", context_bars=2)
    assert lazy.sources == whole.sources and len(lazy) == len(whole)
    for name in ("bar_start", "bar_stop", "context_start", "start_token", "bar_length", "piece_of"):
        assert np.array_equal(getattr(lazy, name), getattr(whole, name)), name
    ids = np.random.default_rng(0).permutation(whole.pairs)[:20]  # rows from every shard, shuffled
    first, second = whole.collate(ids), lazy.collate(ids)
    for part in ("context", "bar", "previous"):
        for name, value in vars(getattr(first, part)).items():
            assert torch.equal(value, getattr(getattr(second, part), name)), (part, name)
    # The events stay on disk: memory-mapped columns, read batch by batch.
    assert all(isinstance(shard["pitch"], np.memmap) for shard in lazy.store.shards)
    assert lazy.bar_key(int(ids[0])) == whole.bar_key(int(ids[0]))
    # Both carry each bar's chords, which chord-conditioned models train on.
    assert whole.bar_chords is not None and np.array_equal(lazy.bar_chords, whole.bar_chords)
    assert torch.equal(first.chords, second.chords)


def test_an_interrupted_run_resumes_without_redoing_shards_and_ends_as_an_uninterrupted_one(midi, tmp_path):
    preprocess_sharded(midi, tmp_path / "straight", jobs=1, shard_files=2)
    shards_done = []

    def cancel_after_two() -> bool:
        return len(shards_done) >= 2

    def progress(done: int, total: int, name: str) -> None:
        if done:
            shards_done.append(done)

    with pytest.raises(Cancelled):
        preprocess_sharded(midi, tmp_path / "resumed", jobs=1, shard_files=2, progress=progress, cancel=cancel_after_two)
    with pytest.raises(DatasetError, match="shards.json"):
        open_sharded(tmp_path / "resumed")  # no index yet: the dataset is not complete
    finished = sorted(p.name for p in (tmp_path / "resumed" / SHARDS).iterdir())
    assert finished == ["000000", "000001"]
    (tmp_path / "resumed" / SHARDS / "000002.tmp").mkdir()  # what a killed worker leaves behind
    stamp = (tmp_path / "resumed" / SHARDS / "000000" / "pitch.npy").stat().st_mtime_ns
    summary = preprocess_sharded(midi, tmp_path / "resumed", jobs=2, shard_files=2)
    assert (summary.shards, summary.reused_shards) == (4, 2)
    assert (tmp_path / "resumed" / SHARDS / "000000" / "pitch.npy").stat().st_mtime_ns == stamp
    assert _files(tmp_path / "resumed") == _files(tmp_path / "straight")


def test_a_changed_file_redoes_its_shard_only(midi, tmp_path):
    preprocess_sharded(midi, tmp_path / "out", jobs=1, shard_files=3)
    write_midi_folder(tmp_path / "other", count=1, bars=9)
    shutil.copy(tmp_path / "other" / "tune0.mid", midi / "tune4.mid")  # shard 1 holds tunes 3-5
    summary = preprocess_sharded(midi, tmp_path / "out", jobs=1, shard_files=3)
    assert summary.reused_shards == 2
    assert load_pairs(tmp_path / "out").summary()["bars"] == 6 * 6 + 9


def test_duplicates_within_and_across_shards_are_skipped(midi, tmp_path):
    # Shards of 4 in walk order: [tune0 tune1 tune1x tune2] [tune2b tune3 tune4 tune5] [tune6 more/again]
    shutil.copy(midi / "tune1.mid", midi / "tune1x.mid")  # the same shard as its original
    shutil.copy(midi / "tune2.mid", midi / "tune2b.mid")  # the next shard
    (midi / "more").mkdir()
    shutil.copy(midi / "tune5.mid", midi / "more" / "again.mid")  # the last shard
    summary = preprocess_sharded(midi, tmp_path / "out", jobs=2, shard_files=4)
    assert (summary.files, summary.encoded, summary.duplicates) == (10, 7, 3)
    report = (tmp_path / "out" / "report.txt").read_text()
    assert "more/again.mid: duplicate of tune5.mid (same content)" in report
    assert "tune1x.mid: duplicate of tune1.mid (same content)" in report
    assert "tune2b.mid: duplicate of tune2.mid (same content)" in report
    pairs = load_pairs(tmp_path / "out")
    assert sorted(pairs.sources) == [f"tune{i}.mid" for i in range(7)]
    assert pairs.summary()["bars"] == 7 * 6


def test_the_walk_lists_folders_in_name_order_depth_first(tmp_path):
    for name in ("b/x.mid", "a.mid", "b/c/y.MID", "c.midi", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [f.relative for f in walk_midi_files(tmp_path)] == ["a.mid", "c.midi", "b/x.mid", "b/c/y.MID"]


def test_broken_sharded_folders_give_one_line_errors(midi, tmp_path):
    preprocess_sharded(midi, tmp_path / "out", jobs=1, shard_files=4)
    (tmp_path / "out" / SHARDS / "000001" / "pitch.npy").write_bytes(b"junk")
    with pytest.raises(DatasetError, match="000001: damaged shard"):
        open_sharded(tmp_path / "out")
    (tmp_path / "out" / INDEX).write_text("{not json")
    with pytest.raises(DatasetError, match="shards.json"):
        load_pairs(tmp_path / "out")
    with pytest.raises(DatasetError, match="is not a folder"):
        preprocess_sharded(tmp_path / "nowhere", tmp_path / "out2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no MIDI files"):
        preprocess_sharded(tmp_path / "empty", tmp_path / "out3")


def test_the_cli_preprocesses_sharded_and_trains_on_it(midi, tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["preprocess", str(midi), str(out), "--sharded", "--shard-files", "3", "--jobs", "1"]) == 0
    assert "7 files: 7 encoded" in capsys.readouterr().out
    assert json.loads((out / INDEX).read_text())["complete"] is True
    assert main(["preprocess", str(midi), str(out), "--shard-files", "3"]) == 2  # --shard-files needs --sharded
    preset = write_tiny_preset(tmp_path, "continuation", epochs=1, batch_size=8)
    assert main(["train", str(out), str(tmp_path / "run"), "--preset", str(preset), "--device", "cpu"]) == 0
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["dataset"]["pairs"] == 7 * 6 and info["dataset"]["manifest"]["encoded"] == 7


def test_a_chord_model_trains_from_a_sharded_dataset_and_old_shards_without_chords_are_made_again(tmp_path, capsys):
    from core.harmony.labels import Chord
    from core.midi.files import write_midi
    from tests.core.harmony.chord_scores import BAR, block_chords, voiced

    midi = tmp_path / "chords"
    midi.mkdir()
    for index in range(4):
        progression = [Chord((root + index) % 12, q) for root, q in ((0, "maj"), (7, "dom7"), (9, "min"), (5, "maj"))] * 2
        write_midi(block_chords([voiced(chord) for chord in progression], length=BAR // 2), midi / f"p{index}.mid")
    out = tmp_path / "data"
    assert main(["preprocess", str(midi), str(out), "--sharded", "--shard-files", "2", "--jobs", "1"]) == 0
    pairs = load_pairs(out)
    assert pairs.bar_chords is not None and pairs.bar_chords.shape == (len(pairs.bar_start), 2)
    assert len(np.unique(pairs.bar_chords)) > 4  # the progressions' chords, not a constant
    preset = write_tiny_preset(tmp_path / "presets", "interpolation", epochs=1, chords=True)
    assert main(["train", str(out), str(tmp_path / "run"), "--preset", str(preset)]) == 0
    assert "finished after 1 epoch" in capsys.readouterr().err
    # A shard written before chords were stored holds none: the dataset trains no chord model,
    # and preprocessing again makes that shard again (the other is kept as it is).
    first, second = sorted((out / SHARDS).iterdir())
    (second / "bar_chords.npy").unlink()
    kept_before = (first / "pitch.npy").stat().st_mtime_ns
    assert load_pairs(out).bar_chords is None
    assert main(["train", str(out), str(tmp_path / "run2"), "--preset", str(preset)]) == 2
    assert "needs a dataset with chords" in capsys.readouterr().err
    assert main(["preprocess", str(midi), str(out), "--sharded", "--shard-files", "2", "--jobs", "1"]) == 0
    assert (second / "bar_chords.npy").is_file() and (first / "pitch.npy").stat().st_mtime_ns == kept_before
    assert np.array_equal(load_pairs(out).bar_chords, pairs.bar_chords)
    np.save(second / "bar_chords.npy", np.full((3, 2), 999, np.int16))  # damaged: wrong length, no chord
    with pytest.raises(DatasetError, match="bar_chords.npy.*outside the chord vocabulary"):
        load_pairs(out)
