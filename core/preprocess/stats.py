"""Statistics of an encoded dataset (what ``mahlernet dataset-stats`` prints).

The paper's Table 1 gives, for MUSEDATA, 37,006 measures with 26.25 events per measure on average and
158 at most; :func:`dataset_stats` gives the same figures for any dataset, plus how often each class of
each property occurs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.preprocess.dataset import Dataset
from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_OFFSETS, N_PITCHES, VELOCITY_BINS
from core.representation.instruments import MAHLERNET, InstrumentTable

SIZES = {
    "offset": N_OFFSETS,
    "duration": N_DURATIONS,
    "pitch": N_PITCHES,
    "instrument": N_INSTRUMENTS,
    "beat": N_BEATS,
    "velocity": VELOCITY_BINS,
}


@dataclass(frozen=True)
class DatasetStats:
    files: int
    skipped: int
    chunks: int
    bars: int
    events: int
    notes: int
    pauses: int
    max_events_per_bar: int
    histograms: dict[str, np.ndarray] = field(default_factory=dict)  # property -> counts per class
    meters: dict[str, int] = field(default_factory=dict)  # bars per meter

    @property
    def mean_events_per_bar(self) -> float:
        return self.events / self.bars if self.bars else 0.0


def dataset_stats(dataset: Dataset) -> DatasetStats:
    pieces = dataset.pieces
    histograms = {name: np.zeros(size, np.int64) for name, size in SIZES.items()}
    meters: Counter[str] = Counter()
    bars = events = notes = chunks = 0
    longest = 0
    for piece in pieces:
        columns = piece.events
        for name, size in SIZES.items():
            values = getattr(columns, name)
            histograms[name] += np.bincount(values[values >= 0], minlength=size)[:size]
        bars += piece.bar_count
        events += len(columns)
        notes += int(np.count_nonzero(~columns.is_pause))
        chunks += len(np.unique(piece.bar_chunk))
        if piece.bar_count:
            longest = max(longest, int(np.diff(piece.bar_bounds).max()))
        meters.update(f"{n}/{d}" for n, d in zip(piece.bar_numerator.tolist(), piece.bar_denominator.tolist()))
    totals = dataset.manifest.get("totals", {})
    return DatasetStats(
        files=len(pieces),
        skipped=int(totals.get("skipped", 0)),
        chunks=chunks,
        bars=bars,
        events=events,
        notes=notes,
        pauses=events - notes,
        max_events_per_bar=longest,
        histograms=histograms,
        meters=dict(meters.most_common()),
    )


def format_stats(stats: DatasetStats, table: InstrumentTable = MAHLERNET, top: int = 12) -> str:
    """The text ``mahlernet dataset-stats`` prints."""
    lines = [
        f"files: {stats.files} encoded, {stats.skipped} skipped; chunks: {stats.chunks}",
        f"bars: {stats.bars}",
        f"events: {stats.events} ({stats.notes} notes, {stats.pauses} pauses)",
        f"events per bar: {stats.mean_events_per_bar:.2f} on average, {stats.max_events_per_bar} at most",
        "  (paper, Table 1, MUSEDATA: 37,006 bars, 26.25 events per bar on average, 158 at most)",
        "meters (bars): " + ", ".join(f"{m} {n}" for m, n in stats.meters.items()),
    ]
    names = {
        "offset": lambda i: str(i),
        "duration": lambda i: str(i),
        "pitch": lambda i: str(i + 17),
        "instrument": lambda i: table.class_name(i),
        "beat": lambda i: str(i),
        "velocity": lambda i: str(i),
    }
    labels = {"pitch": "pitch (MIDI)", "instrument": "instrument class", "offset": "offset class",
              "duration": "duration class", "beat": "beat", "velocity": "velocity bin"}  # fmt: skip
    for name, counts in stats.histograms.items():
        total = int(counts.sum())
        if not total:
            continue
        shown = np.argsort(-counts, kind="stable")[:top]
        parts = [f"{names[name](int(i))} {100 * counts[i] / total:.1f}%" for i in shown if counts[i]]
        used = int(np.count_nonzero(counts))
        lines.append(f"{labels[name]} ({used} of {len(counts)} used): " + ", ".join(parts))
    return "\n".join(lines)
