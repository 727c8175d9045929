"""The music itself, independent of any file format or model: the :class:`~core.music.score.Score`
(tracks, notes, meters, tempi), the edits a composer makes to it (pure functions, undoable by the
app), selections, the General MIDI tables, the bar grid and how generated bars are kept."""
