"""Reference chords for benchmarks/chords.py, read with music21 (run by a Python that has it).

Not part of the project (the project never imports music21): ``benchmarks/chords.py`` runs this
script with the interpreter given by ``--music21-python`` and reads its JSON from stdout. For every
Roman-numeral analysis (``*.rntxt``) music21 ships with a matching score (the 20 Bach chorales of
``bach/choraleAnalyses`` and the Monteverdi madrigals), it writes the score's notes and the
analysis's chords on one timeline in quarter notes where bar 1 starts at 0: a pickup bar is padded
to a whole bar, so bars and beats line up with the MIDI the benchmark builds from the notes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from music21 import converter, corpus


def analyses() -> list[tuple[str, Path, object]]:
    """(name, rntxt path, a function loading the score) of every analysis with a score."""
    base = Path(corpus.__file__).parent
    found = []
    for path in sorted((base / "bach" / "choraleAnalyses").glob("riemenschneider*.rntxt")):
        number = int(path.stem.removeprefix("riemenschneider"))
        header = re.search(r"^BWV:\s*([0-9.]+)", path.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
        if header is None:
            print(f"{path.name}: skipped (no BWV line)", file=sys.stderr)
            continue
        bwv = header.group(1)
        found.append((f"chorale {number} (BWV {bwv})", path, lambda bwv=bwv: corpus.parse(f"bach/bwv{bwv}")))
    for path in sorted((base / "monteverdi").glob("madrigal.*.rntxt")):
        score_path = path.with_suffix(".mxl")
        if score_path.exists():
            found.append((f"monteverdi {path.stem}", path, lambda p=score_path: converter.parse(p)))
    return found


def piece(name: str, rntxt: Path, load_score) -> dict:
    score = load_score()
    first_part = score.parts[0]
    measures = list(first_part.getElementsByClass("Measure"))
    shift = float(measures[0].paddingLeft) if measures else 0.0
    starts: dict[int, float] = {}  # measure number -> start of its whole bar on the shifted timeline
    meters = []
    for measure in measures:
        start = float(measure.offset) + shift - float(measure.paddingLeft)
        starts.setdefault(measure.number, start)
        signature = measure.timeSignature
        if signature is not None:
            meters.append([start, signature.numerator, signature.denominator])
    notes = []
    for part in score.parts:
        for element in part.recurse().notes:
            onset = float(element.getOffsetInHierarchy(part)) + shift
            length = float(element.quarterLength)
            if length <= 0:
                continue  # grace notes
            for pitch in element.pitches:
                notes.append([onset, length, int(pitch.midi)])
    analysis = converter.parse(rntxt, format="romanText")
    chords = []
    for numeral in analysis.recurse().getElementsByClass("RomanNumeral"):
        if numeral.measureNumber not in starts:
            continue
        signature = numeral.getContextByClass("TimeSignature")
        beat_quarters = float(signature.beatDuration.quarterLength) if signature else 1.0
        time = starts[numeral.measureNumber] + (float(numeral.beat) - 1.0) * beat_quarters
        chords.append([time, numeral.root().pitchClass, sorted(set(numeral.pitchClasses)), numeral.figure])
    end = max((onset + length for onset, length, _ in notes), default=0.0)
    return {"name": name, "notes": notes, "meters": meters, "chords": sorted(chords), "end": end}


def main() -> None:
    pieces = []
    for name, rntxt, load_score in analyses():
        try:
            pieces.append(piece(name, rntxt, load_score))
        except Exception as error:  # a score music21 cannot read is reported, not fatal
            print(f"{name}: skipped ({error})", file=sys.stderr)
    json.dump(pieces, sys.stdout)


if __name__ == "__main__":
    main()
