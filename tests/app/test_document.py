"""The document: undo restores the exact piece, saving is explicit, export writes real MIDI."""

from __future__ import annotations

import pytest

from app.document import Document
from core.music.edits import clear_bars, transpose_bars
from core.errors import MidiFileError
from core.midi.files import read_midi
from core.music.selection import BarRange
from tests.app.pieces import write_quartet


@pytest.fixture
def document(qtbot, tmp_path):
    document = Document()
    document.load(write_quartet(tmp_path))
    yield document
    document.close()


def test_edits_and_undo_restore_the_exact_piece(document):
    original = document.score
    modified: list[bool] = []
    document.modified_changed.connect(modified.append)
    document.edit("Transpose", transpose_bars, 2, 3, 5)
    document.edit("Clear", clear_bars, 1, 1)
    assert document.score != original and document.is_modified
    assert document.undo_stack.undoText() == "Clear"
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.score is original  # the very object: nothing recomputed, nothing lost
    assert not document.is_modified
    assert modified == [True, False]
    document.undo_stack.redo()
    assert document.score == transpose_bars(original, 2, 3, 5)


def test_the_file_is_written_only_by_save(document, tmp_path):
    path = document.path
    before = path.read_bytes()
    document.edit("Clear", clear_bars, 1, 4)
    assert path.read_bytes() == before
    document.save()
    assert not document.is_modified
    assert read_midi(path) == document.score
    document.undo_stack.undo()
    assert document.is_modified  # undoing past the save is a change again


def test_save_as_moves_the_document_to_the_new_file(document, tmp_path):
    paths: list = []
    document.path_changed.connect(paths.append)
    target = tmp_path / "copy.mid"
    document.save_as(target)
    assert document.path == target and paths == [target]
    assert read_midi(target) == document.score


def test_export_bars_writes_those_bars_only(document, tmp_path):
    out = document.export_bars(BarRange(9, 10), tmp_path / "bars.mid")
    exported = read_midi(out)
    assert exported == document.score.slice_bars(9, 10)
    assert [b.meter for b in exported.bars()] == ["3/4", "3/4"]
    assert document.path.name == "quartet.mid" and not document.is_modified


def test_export_for_drag_is_a_readable_temporary_file(document):
    path = document.export_for_drag(BarRange(2, 3))
    assert path.name == "quartet bars 2-3.mid"
    assert read_midi(path) == document.score.slice_bars(2, 3)
    document.close()
    assert not path.exists()


def test_a_broken_file_leaves_the_open_piece_alone(document, tmp_path):
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    piece, path = document.score, document.path
    with pytest.raises(MidiFileError) as error:
        document.load(broken)
    assert "broken.mid" in str(error.value) and "\n" not in str(error.value)
    assert document.score is piece and document.path == path


def test_open_edit_save_keeps_pitch_bends_and_pressure(qtbot, tmp_path):
    """Ctrl+S after an edit writes back every pitch bend and channel pressure the file had (read
    back with mido, not with the project's reader)."""
    import mido

    from tests.core.midi_bytes import end_of_track, event, name, smf

    bends = b"".join(event(0 if i == 0 else 48, 0xE3, i % 128, 32 + i % 64) for i in range(200))
    lead = name("Lead") + event(0, 0xC3, 81) + event(0, 0x93, 64, 90) + bends + event(0, 0xD3, 99)
    source = tmp_path / "game.mid"
    source.write_bytes(smf(lead + event(48, 0x83, 64, 0) + end_of_track()))

    def bends_and_pressure(path):
        found, tick = [], 0
        for message in mido.merge_tracks(mido.MidiFile(str(path)).tracks):
            tick += message.time
            if message.type in ("pitchwheel", "aftertouch"):
                found.append((message.type, tick, message.channel, getattr(message, "pitch", None)))
        return found

    before = bends_and_pressure(source)
    document = Document()
    document.load(source)
    document.edit("Transpose", transpose_bars, 1, 1, 2)
    document.save()
    document.close()
    saved = bends_and_pressure(source)
    assert saved == before and len(saved) == 201 and saved[-1] == ("aftertouch", 199 * 48, 3, None)
    assert saved[:2] == [("pitchwheel", 0, 3, 32 * 128 - 8192), ("pitchwheel", 48, 3, 33 * 128 + 1 - 8192)]
