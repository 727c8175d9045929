"""Helpers shared by the golden-case tests: build Scores from the cases and read our results back in
the cases' row format (``golden_cases.json``: 27 inputs and the original MahlerNet's outputs)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.preprocess.encode import encode_chunks, encode_score
from core.preprocess.report import EncodeOptions
from core.representation.events import LOWEST_PITCH, EncodedPiece
from core.music.score import Note, Score, TempoChange, TimeSignature, Track

CASES_FILE = Path(__file__).with_name("golden_cases.json")


@lru_cache(maxsize=1)
def cases() -> dict[str, dict]:
    return {case["name"]: case for case in json.loads(CASES_FILE.read_text())["cases"]}


def score_of(case_input: dict, velocity: int = 64) -> Score:
    tracks = tuple(
        Track(f"track {index}", t["program"], t["channel"], tuple(Note(s, d, p, velocity) for s, d, p in t["notes"]))
        for index, t in enumerate(case_input["tracks"])
    )
    return Score(
        case_input["tpb"],
        tracks,
        (TempoChange(0, case_input["tempo_us_per_quarter"]),),
        tuple(TimeSignature(*ts) for ts in case_input["time_signatures"]),
    )


def _members(row_active, offset: int) -> list[int]:
    return [int(i) + offset for i in row_active.nonzero()[0]]


def chunk_ranges(score: Score, options: EncodeOptions = EncodeOptions()) -> list[dict]:
    """Our chunks in the cases' format: per section its meter, scaled ticks per q*, start, end and rows
    (tick, pause, offset, beat, pitch, duration, instrument, active pitches, active instruments)."""
    chunks = []
    for rows, _ in encode_chunks(score, options).chunks:
        ranges = []
        for index, info in enumerate(rows.sections):
            selected = [j for j in range(len(rows)) if rows.section[j] == index]
            ranges.append(
                {
                    "ts": [info.meter.numerator, info.meter.denominator],
                    "scaled_tpb": info.unit * 24,
                    "start": info.start,
                    "end": info.end,
                    "rows": [
                        [
                            int(rows.tick[j]),
                            int(rows.is_pause[j]),
                            int(rows.offset[j]),
                            None if rows.beat[j] < 0 else int(rows.beat[j]),
                            None if rows.pitch[j] < 0 else int(rows.pitch[j]),
                            int(rows.duration[j]),
                            None if rows.instrument[j] < 0 else int(rows.instrument[j]),
                            _members(rows.active_pitches[j], LOWEST_PITCH),
                            _members(rows.active_instruments[j], 0),
                        ]
                        for j in selected
                    ],
                }
            )
        chunks.append({"ranges": ranges})
    return chunks


def pairs(piece: EncodedPiece) -> list[dict]:
    """(context, input) pairs of every bar in the cases' format (1 context bar, START at chunk starts)."""
    events = piece.events

    def row(j: int) -> list:
        pitch = int(events.pitch[j])
        return [
            0,
            int(events.offset[j]),
            None if events.beat[j] < 0 else int(events.beat[j]),
            None if pitch < 0 else pitch + LOWEST_PITCH,
            int(events.duration[j]),
            None if events.instrument[j] < 0 else int(events.instrument[j]),
            _members(events.active_pitches[j], LOWEST_PITCH),
            _members(events.active_instruments[j], 0),
        ]

    result = []
    for bar in range(piece.bar_count):
        bar_rows = [row(j) for j in range(piece.bar_bounds[bar], piece.bar_bounds[bar + 1])]
        if piece.has_start_context(bar):
            context = [[1, None, None, None, None, None, [], []]]
        else:
            context = [row(j) for j in range(piece.bar_bounds[bar - 1], piece.bar_bounds[bar])]
        result.append({"context": context, "input": bar_rows})
    return result


def encode_case(name: str, options: EncodeOptions = EncodeOptions()) -> tuple[list[dict], list[dict]]:
    """(chunks, pairs) of a case."""
    score = score_of(cases()[name]["input"])
    piece = encode_score(score, options).piece
    return chunk_ranges(score, options), (pairs(piece) if piece is not None else [])


def expected_pairs(name: str) -> list[dict] | None:
    chunks = cases()[name]["expected"]["chunks"]
    if not any("pairs" in chunk for chunk in chunks):
        return None
    return [pair for chunk in chunks for pair in chunk["pairs"]]


def expected_ranges(name: str) -> list[dict]:
    return [{"ranges": chunk["ranges"]} for chunk in cases()[name]["expected"]["chunks"]]
