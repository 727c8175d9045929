"""Make the demo piece in resources/ from a MIDI export of a public-domain score.

    python scripts/make_demo_piece.py SOURCE.mid [--bars 1-23] [--title TEXT] [--out resources/demo.mid]

The shipped ``resources/demo.mid`` is Liliʻuokalani's "Aloha ʻOe" (1884, public domain; encoding by
Michael Scott Asato Cuthbert, CC0) from the music21 corpus (``liliuokalani/aloha_oe.mxl``), exported
to MIDI one track per part (the corpus recipe's export), then cut and written by this script with the
project's own reader and writer, so the demo is exactly what MahlerNet Studio reads and writes.
See resources/README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.midi.files import read_midi, write_midi  # noqa: E402

DEFAULT_TITLE = "Liliʻuokalani: Aloha ʻOe"


def bar_range(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cut bars of a MIDI file into the demo piece.")
    parser.add_argument("source", type=Path, help="MIDI export of the score")
    parser.add_argument("--bars", type=bar_range, default=(1, 23), help="bars to keep, from 1 (default 1-23)")
    parser.add_argument("--title", default=DEFAULT_TITLE)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "demo.mid")
    args = parser.parse_args(argv)

    score = read_midi(args.source)
    first, last = args.bars
    last = min(last, score.bar_count)
    demo = score.slice_bars(first, last).replace(title=args.title)
    write_midi(demo, args.out)
    again = read_midi(args.out)
    assert again == demo, "the demo piece does not read back as written"
    print(
        f"{args.out}: bars {first}-{last} of {args.source.name}, {len(demo.tracks)} tracks, "
        f"{demo.notes_count} notes, meters {sorted({m.text for m in demo.time_signatures})}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
