"""Chord recognition against the Roman-numeral analyses music21 ships.

    .venv/bin/python benchmarks/chords.py --music21-python /tmp/corpus-venv/bin/python
    .venv/bin/python benchmarks/chords.py --reference reference.json   # reuse a saved reference

The reference (notes and chords of the 20 analysed Bach chorales and the Monteverdi madrigals) is
read by ``benchmarks/chords_reference.py`` under a Python that has music21 (the project itself never
imports it; ``--save-reference`` keeps its JSON). Each piece's notes become a Score; the recogniser
labels it; on every quarter-note beat from the first analysed chord to the end, the label sounding
there is compared with the analysis's: the root, the root and quality (a reference chord of no
quality the recogniser knows, such as an augmented sixth, counts as a miss), and the root and triad
(sevenths folded: dom7 and maj7 to maj, min7 to min, hdim7 and dim7 to dim).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.harmony.labels import Chord  # noqa: E402
from core.harmony.recogniser import RESOLUTIONS, chord_at, recognise_frames  # noqa: E402
from core.harmony.templates import quality_from_intervals  # noqa: E402
from core.music.score import Note, Score, TimeSignature, Track  # noqa: E402

TICKS = 480
TRIAD_OF = {"dom7": "maj", "maj7": "maj", "min7": "min", "hdim7": "dim", "dim7": "dim"}


def reference_quality(root: int, pitch_classes: list[int]) -> str | None:
    """The quality of an analysed chord, reduced to its triad when the whole chord has none."""
    intervals = frozenset((pc - root) % 12 for pc in pitch_classes)
    return quality_from_intervals(intervals) or quality_from_intervals(intervals & {0, 3, 4, 6, 7, 8})


def score_of(piece: dict) -> Score:
    notes = [Note(round(onset * TICKS), max(1, round(length * TICKS)), pitch, 80) for onset, length, pitch in piece["notes"]]
    meters = {round(start * TICKS): TimeSignature(round(start * TICKS), num, den) for start, num, den in piece["meters"]}
    return Score(ticks_per_quarter=TICKS, tracks=(Track("all", notes=tuple(notes)),), time_signatures=tuple(meters.values()))


MATCH_FLOOR = 0.6  # below this chord-tone coverage the score is not the analysed one


def reference_beats(piece: dict) -> list[tuple[float, int, list[int]]]:
    """(time, root, pitch classes) of the analysis's chord sounding on each quarter-note beat."""
    reference = piece["chords"]
    beats = []
    beat, index = int(reference[0][0]), 0
    while beat < piece["end"] - 1e-6:
        while index + 1 < len(reference) and reference[index + 1][0] <= beat + 1e-6:
            index += 1
        beats.append((float(beat), reference[index][1], reference[index][2]))
        beat += 1
    return beats


def alignment(piece: dict) -> tuple[int, float]:
    """(semitones, coverage): the transposition of the analysis that best fits the score's notes, and
    the share of notes sounding on the beats that are then tones of the analysed chord. It does not
    look at the recogniser: it finds the analyses written for another key or layout of the chorale
    than the score music21 ships (a coverage well below the others)."""
    sounding = [[pitch % 12 for onset, length, pitch in piece["notes"] if onset <= time < onset + length]
                for time, _, _ in reference_beats(piece)]
    best = (0, -1.0)
    for shift in range(12):
        hits = total = 0
        for pcs, (_, _, tones) in zip(sounding, reference_beats(piece)):
            moved = {(tone + shift) % 12 for tone in tones}
            hits += sum(pc in moved for pc in pcs)
            total += len(pcs)
        coverage = hits / max(total, 1)
        if coverage > best[1]:
            best = (shift, coverage)
    return best


def evaluate(piece: dict, resolution: str, shift: int = 0) -> Counter:
    """Counts of beats, and of beats where the recogniser agrees, for one piece (the analysis moved
    by ``shift`` semitones)."""
    score = score_of(piece)
    frames = recognise_frames(score, resolution)  # type: ignore[arg-type]
    counts: Counter = Counter()
    for beat, root, pitch_classes in reference_beats(piece):
        quality = reference_quality(root, pitch_classes)
        root = (root + shift) % 12
        found = chord_at(frames, beat * TICKS)
        counts["beats"] += 1
        counts["unknown_quality"] += quality is None
        if not found.is_none and found.root == root:
            counts["root"] += 1
            counts["root_quality"] += found.quality == quality
            counts["root_triad"] += quality is not None and TRIAD_OF.get(found.quality, found.quality) == TRIAD_OF.get(quality, quality)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music21-python", type=Path, help="a Python with music21 (runs chords_reference.py)")
    parser.add_argument("--reference", type=Path, help="a reference JSON saved before (instead of music21)")
    parser.add_argument("--save-reference", type=Path, help="keep the reference JSON here")
    args = parser.parse_args()
    if args.reference:
        pieces = json.loads(args.reference.read_text())
    elif args.music21_python:
        script = Path(__file__).with_name("chords_reference.py")
        output = subprocess.run([str(args.music21_python), str(script)], check=True, capture_output=True, text=True).stdout
        pieces = json.loads(output)
        if args.save_reference:
            args.save_reference.write_text(output)
    else:
        parser.error("give --music21-python or --reference")
    shifts = {}
    for piece in pieces:
        shift, coverage = alignment(piece)
        if coverage < MATCH_FLOOR:
            print(f"left out {piece['name']}: the score does not match the analysis (chord-tone coverage {coverage:.0%})")
            continue
        if shift:
            print(f"{piece['name']}: the analysis is {shift} semitones off the score's key; moved to it (coverage {coverage:.0%})")
        shifts[piece["name"]] = shift
    pieces = [piece for piece in pieces if piece["name"] in shifts]
    groups = {"Bach chorales": [p for p in pieces if p["name"].startswith("chorale")],
              "Monteverdi madrigals": [p for p in pieces if p["name"].startswith("monteverdi")]}
    print()
    print("| pieces | resolution | beats | root | root + quality | root + triad | reference chords of no known quality |")
    print("|---|---|---|---|---|---|---|")
    for group, members in groups.items():
        for resolution in RESOLUTIONS:
            total: Counter = Counter()
            for piece in members:
                total += evaluate(piece, resolution, shifts[piece["name"]])
            beats = max(total["beats"], 1)
            print(f"| {group} ({len(members)}) | {resolution} | {total['beats']} | {total['root'] / beats:.1%} | "
                  f"{total['root_quality'] / beats:.1%} | {total['root_triad'] / beats:.1%} | {total['unknown_quality'] / beats:.1%} |")


if __name__ == "__main__":
    main()
