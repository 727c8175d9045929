"""MIDI files in and out by drag and drop.

Out: the data of a drag is the URL of a real ``.mid`` file (what file managers and DAWs accept),
plus the file's bytes as ``audio/midi`` for programs that take data instead of files.
In: the ``.mid`` files among the URLs of a drop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from core.preprocess.dataset import MIDI_SUFFIXES
MIDI_MIME_TYPE = "audio/midi"


def midi_file_mime(path: Path) -> QMimeData:
    """Drag data for the MIDI file at ``path``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    mime.setData(MIDI_MIME_TYPE, Path(path).read_bytes())
    return mime


def midi_paths(mime: QMimeData) -> list[Path]:
    """The local MIDI files a drop carries (others are ignored)."""
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in MIDI_SUFFIXES]
