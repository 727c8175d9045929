"""How many notes survive preprocessing: non-drum notes in vs notes kept, per meter and in total.

    .venv/bin/python benchmarks/kept_notes.py PATH [PATH ...]

Each PATH is a MIDI file or a folder (searched at any depth, as ``mahlernet preprocess`` does). Every
file is read with ``read_midi`` and encoded with ``encode_score``, the project's own path. A note
counts as kept unless the report drops it (drums are left out of both columns); a skipped file keeps
nothing. A unison doubling (two parts on one instrument class playing the same note at the same
time, ``report.DUPLICATE``) is one note in the representation: it is counted apart, as "merged", and
the last column counts it as heard (the instrument plays that note). Files are grouped by their meter: the one time signature of the file, or "mixed" when it has
several (a file without any is 4/4, the encoder's default).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.errors import MahlerNetError  # noqa: E402
from core.midi.files import read_midi  # noqa: E402
from core.preprocess import report as reasons  # noqa: E402
from core.preprocess.dataset import find_midi_files  # noqa: E402
from core.preprocess.encode import encode_score  # noqa: E402


def meter_label(score) -> str:
    meters = {(t.numerator, t.denominator) for t in score.time_signatures}
    if not meters:
        return "4/4"
    if len(meters) > 1:
        return "mixed"
    numerator, denominator = meters.pop()
    return f"{numerator}/{denominator}"


def main(paths: list[str]) -> None:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        files.extend(find_midi_files(path) if path.is_dir() else [path])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # files, notes in, kept, merged unisons
    losses: dict[str, int] = defaultdict(int)
    for path in files:
        try:
            score = read_midi(path)
        except MahlerNetError as error:
            print(f"unreadable {path.name}: {error}")
            continue
        report = encode_score(score, source=path.name).report
        drums = report.dropped.get(reasons.DRUMS, 0)
        notes_in = report.notes_in - drums
        kept = notes_in - (report.notes_dropped - drums) if report.status == "ok" else 0
        merged = report.dropped.get(reasons.DUPLICATE, 0) if report.status == "ok" else 0
        for reason, count in report.dropped.items():
            if reason != reasons.DRUMS:
                losses[reason] += count
        label = meter_label(score)
        for key in (label, "total"):
            totals[key][0] += 1
            totals[key][1] += notes_in
            totals[key][2] += kept
            totals[key][3] += merged
        if len(files) <= 20:
            print(f"{path.name} [{label}]: {kept}/{notes_in} kept ({100 * kept / max(notes_in, 1):.1f}%)")
    print(f"{'meter':>8} {'files':>6} {'notes in':>10} {'kept':>10} {'ratio':>7} {'merged':>8} {'heard':>7}")
    for key in sorted(totals, key=lambda k: (k == "total", -totals[k][1])):
        count, notes_in, kept, merged = totals[key]
        share = 100 / max(notes_in, 1)
        print(f"{key:>8} {count:>6} {notes_in:>10} {kept:>10} {kept * share:>6.1f}% {merged:>8} {(kept + merged) * share:>6.1f}%")
    for reason, count in sorted(losses.items(), key=lambda item: -item[1]):
        print(f"  dropped: {reason}: {count}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
