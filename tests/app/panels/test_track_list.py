"""The track list follows the piece in place: an edit touches only the rows of the tracks it changed,
rows come and go only when tracks do, and the rows always say what the tracks are."""

from __future__ import annotations

import dataclasses

from app.panels.track_list import TrackList
from app.track_state import states_for
from core.music.score import Note
from tests.app.pieces import quartet


def touched_rows(tracks: TrackList) -> list[int]:
    """Record, from now on, which rows redraw their track or their state."""
    touched: list[int] = []
    for row in tracks.rows:
        show, state = row._show_track, row.set_state
        row._show_track = lambda track, i=row.index, show=show: (touched.append(i), show(track))[1]
        row.set_state = lambda s, i=row.index, state=state: (touched.append(i), state(s))[1]
    return touched


def test_a_note_edit_updates_only_its_track_row_in_place(qtbot):
    tracks = TrackList()
    qtbot.addWidget(tracks)
    score = quartet()
    states = states_for(score)
    tracks.set_tracks(score, states)
    rows = list(tracks.rows)
    assert [r.instrument.text().split(" · ")[1] for r in rows] == ["36 notes", "12 notes", "12 notes", "36 notes"]
    touched = touched_rows(tracks)
    viola = score.tracks[1]
    edited = score.replace(tracks=(score.tracks[0], dataclasses.replace(viola, notes=viola.notes + (Note(99_000, 10, 60, 80),)), *score.tracks[2:]))
    tracks.set_tracks(edited, states)
    assert tracks.rows == rows  # the same widgets
    assert touched == [1] and rows[1].instrument.text().endswith("13 notes")
    assert rows[1].instrument.toolTip() == rows[1].instrument.text()

    muted = [states[0], dataclasses.replace(states[1], muted=True), *states[2:]]
    tracks.set_tracks(edited, muted)  # a state that changed: that row alone
    assert touched == [1, 1] and rows[1].mute.isChecked()

    renamed = edited.replace(tracks=(dataclasses.replace(edited.tracks[0], name="Violin I"), *edited.tracks[1:]))
    tracks.set_tracks(renamed, muted)
    assert rows[0].name.text() == "Violin I" and touched == [1, 1, 0]


def test_rows_come_and_go_with_the_tracks(qtbot):
    tracks = TrackList()
    qtbot.addWidget(tracks)
    score = quartet()
    tracks.set_tracks(score, states_for(score))
    first = list(tracks.rows)
    fewer = score.replace(tracks=score.tracks[:2])
    tracks.set_tracks(fewer, states_for(fewer))
    assert tracks.rows == first[:2]
    tracks.set_tracks(score, states_for(score))
    assert tracks.rows[:2] == first[:2] and len(tracks.rows) == 4
    assert [r.name.text() for r in tracks.rows] == ["Violin", "Viola", "Cello", "Drums"]
    assert [r.index for r in tracks.rows] == [0, 1, 2, 3]
    tracks.set_tracks(None, [])
    assert tracks.rows == [] and not tracks._empty.isHidden()
