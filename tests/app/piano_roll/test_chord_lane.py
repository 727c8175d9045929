"""The chord lane: recognised off the GUI thread, drawn over the bars, edited by typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from app.piano_roll import PianoRoll
from core.harmony.labels import Chord
from core.harmony.recogniser import recognise_chords
from core.music.score import Note, Score, TimeSignature, Track

TPQ = 480
BAR = 4 * TPQ


def progression() -> Score:
    """C | G7 | Am F (half bars)."""
    chords = [((0, BAR), (48, 52, 55)), ((BAR, BAR), (43, 47, 50, 53)), ((2 * BAR, BAR // 2), (45, 48, 52)),
              ((2 * BAR + BAR // 2, BAR // 2), (41, 45, 48))]  # fmt: skip
    notes = [Note(start, length, pitch, 80) for (start, length), pitches in chords for pitch in pitches]
    return Score(TPQ, (Track("piano", notes=tuple(notes)),), time_signatures=(TimeSignature(0, 4, 4),))


@pytest.fixture
def roll(qtbot):
    roll = PianoRoll()
    qtbot.addWidget(roll)
    roll.resize(900, 500)
    roll.show()
    qtbot.waitExposed(roll)
    with qtbot.waitSignal(roll.chord_lane.chords_ready, timeout=30_000):
        roll.set_score(progression(), keep_view=False)
    return roll


def test_the_lane_shows_the_recognised_chords_above_the_notes(roll):
    lane = roll.chord_lane
    labels = [(s.bar, s.beat, s.chord.label) for s in lane.chords()]
    assert labels[:4] == [(1, 1.0, "C:maj"), (2, 1.0, "G:dom7"), (3, 1.0, "A:min"), (3, 3.0, "F:maj")]
    assert lane.y() < roll.canvas.y() and lane.height() > 0


def test_typing_a_chord_replaces_it_and_junk_keeps_the_editor_open(roll, qtbot):
    lane = roll.chord_lane
    second = lane.chords()[1]
    x = lane.view.x_of(second.start) + 5
    qtbot.mouseDClick(lane, Qt.MouseButton.LeftButton, pos=QPoint(int(x), lane.height() // 2))
    assert lane.editor.isVisible() and lane.editor.text() == "G:dom7"
    lane.editor.setText("Hm7")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Return)
    assert lane.editor.isVisible() and "'Hm7'" in lane.error_text
    lane.editor.setText("F#m7")
    with qtbot.waitSignal(lane.chord_edited) as edited:
        qtbot.keyClick(lane.editor, Qt.Key.Key_Return)
    assert edited.args == [second.start, Chord(6, "min7")]
    assert not lane.editor.isVisible() and lane.error_text == ""
    assert lane.chords()[1].chord.label == "F#:min7"
    # An edit of the notes keeps typed chords; opening another piece forgets them.
    with qtbot.waitSignal(lane.chords_ready, timeout=30_000):
        roll.set_score(progression())
    assert lane.chords()[1].chord.label == "F#:min7"
    with qtbot.waitSignal(lane.chords_ready, timeout=30_000):
        roll.set_score(progression(), keep_view=False)
    assert lane.chords()[1].chord.label == "G:dom7"


def test_a_burst_of_edits_is_recognised_once_the_piece_rests(roll, qtbot, monkeypatch):
    """Each edit restarts the lane's rest (REST_MS); the chords of the last piece are recognised
    once, after it, not once per edit (an arrow key held down edits every frame)."""
    import app.piano_roll.chord_lane as chord_lane

    heard: list[Score] = []

    def counting(score: Score, resolution: str):
        heard.append(score)
        return recognise_chords(score, resolution)

    monkeypatch.setattr(chord_lane, "recognise_chords", counting)
    edits = [transposed(progression(), steps) for steps in range(1, 6)]
    for edit in edits:
        roll.set_score(edit)
    assert heard == []  # nothing yet: the piece has not rested
    with qtbot.waitSignal(roll.chord_lane.chords_ready, timeout=30_000):
        pass
    assert heard == [edits[-1]]
    assert roll.chord_lane.chords()[0].chord == Chord(5, "maj")  # C moved up five semitones
    with qtbot.waitSignal(roll.chord_lane.chords_ready, timeout=30_000):
        roll.set_score(progression(), keep_view=False)
        assert not roll.chord_lane._rest.isActive()  # another piece is recognised at once, without a rest
    assert heard[-1] == progression()


def transposed(score: Score, steps: int) -> Score:
    track = score.tracks[0]
    return score.replace(tracks=(Track(track.name, notes=[n._replace(pitch=n.pitch + steps) for n in track.notes]),))


def test_the_lane_paints_the_chords_in_view(roll):
    """Found by binary search: those that overlap the view, typed ones in place."""
    lane, view = roll.chord_lane, roll.chord_lane.view
    view.px_per_tick = view.width / BAR  # one bar wide
    for left, expected in [(BAR, ["G:dom7"]), (BAR + BAR // 4, ["G:dom7", "A:min"]), (2 * BAR + BAR // 2, ["F:maj"])]:
        view.scroll_to_tick(left)
        assert [s.chord.label for s in lane.visible_chords()] == expected, left
    lane.edits[2 * BAR + BAR // 2] = Chord(5, "maj7")
    assert [s.chord.label for s in lane.visible_chords()] == ["F:maj7"]
    assert lane.visible_chords() == [s for s in lane.chords() if s.end > view.left_tick and s.start < view.right_tick]


def test_escape_cancels_an_edit(roll, qtbot):
    lane = roll.chord_lane
    lane.edit(lane.chords()[0])
    lane.editor.setText("Bb")
    qtbot.keyClick(lane.editor, Qt.Key.Key_Escape)
    assert not lane.editor.isVisible() and lane.chords()[0].chord.label == "C:maj"
