"""Drawing notes fast: coloured by track, brighter for louder, only what is on screen.

Two ways, chosen per frame by how dense the view is:

* **Vector** (normal zoom): for every track the notes' rectangles are made once, when first drawn,
  in "note space" (x = tick, y = -(pitch + 1), one unit per semitone), sorted by start, with each
  note's velocity band beside it. A frame finds the visible slice of each track with two binary searches
  (:class:`NoteIndex`), orders the slice by band (numpy), sets one transform for the whole view and
  hands each band's part to ``QPainter.drawRects``: the drawing is in C++, Python's work per frame is
  per track and band plus one list gather of the visible rectangles.

An edit changes a few notes of a track: :meth:`TrackLayer.changed` finds them by binary search and
splices the track's columns, band numbers and rectangles (slices copied in C), so an edit costs per
track touched, not per note of the piece.
* **Raster** (zoomed far out, thousands of notes a few pixels wide): the visible notes are stamped
  into a small image, one image row per pitch and one column per screen pixel, with numpy; that image
  is drawn stretched over the canvas. Its cost grows with the covered pixels, not with the notes.

Measured on a 50,000-note piece (``benchmarks/piano_roll.py``, CPU time per frame in
``benchmarks/README.md``): scrolling 8 or 64 bars (vector) ~4-6 ms, the whole piece (raster) ~5 ms,
about what a 50-bar view costs; an arrow-key edit of 148 notes ~12 ms, 19 ms when each velocity band
was spliced on its own, while indexing a track anew costs 0.2-0.35 s for all 50,000 notes.

Velocity is shown as brightness in ``VELOCITY_BANDS`` steps. Ghost notes (generation candidates) are
drawn as translucent, outlined rectangles over the piece.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform

from app import theme
from operator import itemgetter

from app.piano_roll.note_index import NoteIndex, sorted_by_start, splice_list, splice_rows
from app.piano_roll.viewport import Viewport
from core.music.score import Note, Track

VELOCITY_BANDS = 8
ROW_GAP = 0.07  # fraction of a row left empty above and below a note
RASTER_ABOVE_NOTES = 12_000  # more visible notes than this: raster
RASTER_BELOW_WIDTH_PX = 1.5  # typical note narrower than this on screen: raster
OUTLINE_BELOW_NOTES = 3_000  # outlines only while few notes are visible ...
OUTLINE_ABOVE_ROW_PX = 6.0  # ... and rows are tall enough to see them


def typical_duration(index: NoteIndex) -> float:
    """The median length of the notes of ``index`` in ticks (10 for none): how wide they look."""
    return float(np.median(index.ends - index.starts)) if len(index) else 10.0


def drawn_as_raster(visible: int, typical_px: float) -> bool:
    """Whether notes are stamped into an image rather than drawn as rectangles: too many in view, or
    too narrow on screen to tell apart (the track layers and the selection alike)."""
    return visible > RASTER_ABOVE_NOTES or typical_px < RASTER_BELOW_WIDTH_PX


def velocity_band(velocity: np.ndarray | int) -> np.ndarray | int:
    """Band 0 (softest) to VELOCITY_BANDS - 1 (loudest) of MIDI velocities 1-127."""
    return np.clip((np.asarray(velocity) - 1) * VELOCITY_BANDS // 127, 0, VELOCITY_BANDS - 1)


def _band_of(velocity: int) -> int:
    """:func:`velocity_band` of one velocity, without numpy (edits ask for a few at a time)."""
    return min(VELOCITY_BANDS - 1, max(0, (velocity - 1) * VELOCITY_BANDS // 127))


def band_colors(color: str | QColor) -> list[QColor]:
    """The track colour for each velocity band: from dim (soft) to bright (loud)."""
    base = QColor(color)
    dim = _mix(base, QColor(theme.BACKGROUND), 0.6)
    bright = _mix(base, QColor("#ffffff"), 0.2)
    return [_mix(dim, bright, (band + 0.5) / VELOCITY_BANDS) for band in range(VELOCITY_BANDS)]


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        a.alphaF() + (b.alphaF() - a.alphaF()) * t,
    )


def note_rects(notes: Iterable[Note]) -> list[QRectF]:
    """Rectangles of ``notes`` in note space (see the module docstring)."""
    height = 1.0 - 2 * ROW_GAP
    return [QRectF(n.start, ROW_GAP - n.pitch - 1.0, n.duration, height) for n in notes]


def note_space_transform(view: Viewport) -> QTransform:
    """Maps note space to canvas pixels for ``view``."""
    return QTransform(
        view.px_per_tick, 0.0, 0.0, view.row_height, -view.left_tick * view.px_per_tick, view.top_pitch * view.row_height
    )


class NoteRects:
    """The note-space rectangles of an index's notes (in its start order), each made the first time it
    is asked for: opening a large piece makes none (~1.2 us each, ~180 ms for 152,000 notes), a view
    far out stamps a raster instead, and a frame makes only the visible ones it has not made yet."""

    def __init__(self, index: NoteIndex, rects: list[QRectF | None] | None = None, made: np.ndarray | None = None) -> None:
        """``rects`` and ``made`` (which of them are made): what :meth:`spliced` carries over; none
        made by default."""
        self.index = index
        self._rects: list[QRectF | None] = [None] * len(index) if rects is None else rects
        self._made = np.zeros(len(index), bool) if made is None else made

    def __len__(self) -> int:
        return len(self._rects)

    def get(self, lo: int, hi: int) -> list[QRectF]:
        """The rectangles of notes ``lo`` to ``hi``, made where not made yet."""
        missing = np.flatnonzero(~self._made[lo:hi]) + lo
        if len(missing):
            index, height, rects = self.index, 1.0 - 2 * ROW_GAP, self._rects
            starts, ends, pitches = (column[missing].tolist() for column in (index.starts, index.ends, index.pitches))
            for position, start, end, pitch in zip(missing.tolist(), starts, ends, pitches):
                rects[position] = QRectF(float(start), ROW_GAP - pitch - 1.0, float(end - start), height)
            self._made[missing] = True
        return self._rects[lo:hi]  # type: ignore[return-value]

    def spliced(self, index: NoteIndex, removed_at: np.ndarray, at: np.ndarray) -> "NoteRects":
        """The rectangles of ``index``, which is this one's index spliced as :meth:`NoteIndex.spliced`
        did (``at`` as it returned it): made ones are kept, the added notes' made when drawn. This
        one is left as it was (an undo shows it again)."""
        made = splice_rows(self._made.reshape(1, -1), removed_at, at, np.zeros((1, len(at)), bool))[0]
        rects = splice_list(self._rects, removed_at, at, [None] * len(at))
        return NoteRects(index, rects, made.copy())  # never this one's own flags (an edit of nothing returns them)


class TrackLayer:
    """One track ready to draw: an index of its notes (sorted by start), their rectangles and
    velocity bands in the same order, and the band colours."""

    def __init__(self, track: Track, color: str | QColor) -> None:
        self.track = track
        self.color = QColor(color)
        self.all = NoteIndex.of_columns(track.note_columns)
        self.fills = band_colors(color)
        self.outlines = [_mix(c, QColor("#000000"), 0.55) for c in self.fills]
        self.palette = np.array([c.rgba() for c in self.fills], dtype=np.uint32)
        self.band_of = np.asarray(velocity_band(self.all.velocities), dtype=np.int64)
        self.rects = NoteRects(self.all)
        self.typical_duration = typical_duration(self.all)

    def changed(self, track: Track, removed: Sequence[Note], added: Sequence[Note]) -> "TrackLayer":
        """The layer of ``track``, which is this layer's track less ``removed`` plus ``added``: only
        those notes are found, dropped and inserted (this layer is left as it was, for undo). An
        edit of more than a quarter of the track (a whole piece selected and moved) builds the
        layer anew instead, from the track's columns: finding and inserting notes one by one costs
        ~5 us a note in Python, building ~1 us a note of the track."""
        if len(removed) + len(added) > len(self.all) // 4:
            return TrackLayer(track, self.color)
        layer = object.__new__(TrackLayer)
        layer.track = track
        layer.color, layer.fills, layer.outlines, layer.palette = self.color, self.fills, self.outlines, self.palette
        layer.typical_duration = self.typical_duration
        removed_at = self.all.positions_of(removed)
        ordered = sorted_by_start(added)
        layer.all, at = self.all.spliced(removed_at, ordered)
        new_bands = np.asarray([[_band_of(n[3]) for n in ordered]], dtype=np.int64).reshape(1, -1)
        layer.band_of = splice_rows(self.band_of.reshape(1, -1), removed_at, at, new_bands)[0]
        layer.rects = self.rects.spliced(layer.all, removed_at, at)
        if not len(self.all):  # kept through edits (a median a frame would cost), made for a first note
            layer.typical_duration = typical_duration(layer.all)
        return layer

    def visible_count(self, t0: float, t1: float) -> int:
        lo, hi = self.all.window(t0, t1)
        return hi - lo


@dataclass
class FrameStats:
    """What the last frame drew (for the benchmark and for tests)."""

    mode: str = "none"
    notes: int = 0


def paint_tracks(painter: QPainter, view: Viewport, layers: Sequence[TrackLayer]) -> FrameStats:
    """Draw the visible notes of ``layers`` (in order: later tracks on top)."""
    t0, t1 = view.left_tick, view.right_tick
    counts = [layer.visible_count(t0, t1) for layer in layers]
    total = sum(counts)
    if total == 0:
        return FrameStats("none", 0)
    typical_px = min(
        (layer.typical_duration * view.px_per_tick for layer, n in zip(layers, counts) if n),
        default=10.0,
    )
    if drawn_as_raster(total, typical_px):
        return FrameStats("raster", _paint_raster(painter, view, [l for l, n in zip(layers, counts) if n]))
    _paint_vector(painter, view, [l for l, n in zip(layers, counts) if n], total)
    return FrameStats("vector", total)


def _paint_vector(painter: QPainter, view: Viewport, layers: Sequence[TrackLayer], total: int) -> None:
    outlined = total <= OUTLINE_BELOW_NOTES and view.row_height >= OUTLINE_ABOVE_ROW_PX
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setTransform(note_space_transform(view), True)
    t0, t1 = view.left_tick, view.right_tick
    pen = QPen()
    pen.setCosmetic(True)
    pen.setWidth(1)
    if not outlined:
        painter.setPen(Qt.PenStyle.NoPen)
    for layer in layers:
        lo, hi = layer.all.window(t0, t1)
        if hi <= lo:
            continue
        bands = layer.band_of[lo:hi]
        counts = np.bincount(bands, minlength=VELOCITY_BANDS).tolist()
        rects = layer.rects.get(lo, hi)
        if hi - lo == 1:
            ordered = rects
        else:
            ordered = list(itemgetter(*np.argsort(bands, kind="stable").tolist())(rects))
        begin = 0
        for band, count in enumerate(counts):
            if not count:
                continue
            if outlined:
                pen.setColor(layer.outlines[band])
                painter.setPen(pen)
            painter.setBrush(layer.fills[band])
            painter.drawRects(ordered[begin : begin + count])
            begin += count
    painter.restore()


@dataclass
class _RasterImage:
    """The last stamped image, kept while the time window and the tracks stay the same."""

    key: tuple = ()
    pixels: np.ndarray | None = None
    notes: int = 0


_last_raster = _RasterImage()


def _paint_raster(painter: QPainter, view: Viewport, layers: Sequence[TrackLayer]) -> int:
    """Stamp the visible notes into an image of all 128 pitch rows by the canvas width, and draw the
    visible rows stretched to the row height. The image depends only on time (left tick, zoom, width)
    and on the tracks, so scrolling or zooming in pitch reuses it."""
    global _last_raster
    width = max(1, view.width)
    key = (view.left_tick, view.px_per_tick, width, tuple(id(layer) for layer in layers))
    if _last_raster.key != key or _last_raster.pixels is None:
        pixels, notes = _stamp(view, layers, width)
        _last_raster = _RasterImage(key, pixels, notes)
    draw_stamped(painter, view, _last_raster.pixels)
    return _last_raster.notes


def _stamp(view: Viewport, layers: Sequence[TrackLayer], width: int) -> tuple[np.ndarray, int]:
    """Image rows are pitches 127 (top) to 0; each visible note covers at least one pixel."""
    image = np.zeros((128, width), dtype=np.uint32)
    t0, t1 = view.left_tick, view.right_tick
    drawn = 0
    for layer in layers:
        index = layer.all
        chosen = index.visible(t0, t1, 0, 127)
        drawn += len(chosen)
        stamp_notes(image, view, index, chosen, layer.palette[velocity_band(index.velocities[chosen])])
    return image, drawn


def stamp_notes(
    image: np.ndarray, view: Viewport, index: NoteIndex, chosen: np.ndarray, colors: np.ndarray | int,
    ticks: float = 0, semitones: int = 0, longer: int = 0,
) -> None:  # fmt: skip
    """Stamp the notes ``chosen`` of ``index`` (moved by ``ticks`` and ``semitones``, made ``longer``
    ticks) into ``image`` (128 pitch rows, 127 on top, by one column per canvas pixel) in ``colors``
    (ARGB, one per note or one for all); each note covers at least one pixel, notes moved out of the
    pitch range are left out."""
    width = image.shape[1]
    pitches = index.pitches[chosen] + semitones
    inside = (pitches >= 0) & (pitches <= 127)
    if not inside.all():
        chosen, pitches = chosen[inside], pitches[inside]
        colors = colors[inside] if isinstance(colors, np.ndarray) else colors
    if len(chosen) == 0:
        return
    t0 = view.left_tick - ticks
    x0 = np.floor((index.starts[chosen] - t0) * view.px_per_tick)
    x1 = np.ceil((index.ends[chosen] + longer - t0) * view.px_per_tick)
    x0 = np.clip(x0, 0, width - 1).astype(np.int64)
    x1 = np.clip(np.maximum(x1, x0 + 1), 1, width).astype(np.int64)
    widths = x1 - x0
    offsets = np.arange(int(widths.sum())) - np.repeat(np.cumsum(widths) - widths, widths)
    pixels = np.repeat(colors, widths) if isinstance(colors, np.ndarray) else colors
    image[np.repeat(127 - pitches, widths), np.repeat(x0, widths) + offsets] = pixels


def draw_stamped(painter: QPainter, view: Viewport, pixels: np.ndarray) -> None:
    """Draw an image of :func:`stamp_notes` over the visible pitch rows, stretched to the row height."""
    width = pixels.shape[1]
    low, high = view.visible_pitches()
    rows = high - low + 1
    qimage = QImage(pixels.data, width, 128, 4 * width, QImage.Format.Format_ARGB32)
    target = QRectF(0.0, view.y_of(high), float(width), rows * view.row_height)
    painter.drawImage(target, qimage, QRectF(0, 127 - high, width, rows))


class GhostLayer:
    """Candidate notes drawn translucent with an outline, over the piece."""

    def __init__(self, groups: Sequence[tuple[str | QColor, Sequence[Note]]]) -> None:
        self.groups = []
        for color, notes in groups:
            base = QColor(color)
            fill = QColor(base)
            fill.setAlpha(125)
            outline = _mix(base, QColor("#ffffff"), 0.35)
            outline.setAlpha(230)
            self.groups.append((fill, outline, note_rects(notes)))

    @property
    def empty(self) -> bool:
        return not any(rects for _f, _o, rects in self.groups)

    def paint(self, painter: QPainter, view: Viewport) -> None:
        painter.save()
        painter.setTransform(note_space_transform(view), True)
        pen = QPen()
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        pen.setStyle(Qt.PenStyle.DashLine)
        for fill, outline, rects in self.groups:
            pen.setColor(outline)
            painter.setPen(pen)
            painter.setBrush(fill)
            painter.drawRects(rects)
        painter.restore()
