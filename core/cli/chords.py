"""``mahlernet chords FILE [--json]``: the chords of a MIDI file, bar by bar.

One line per chord (``bar 3 beat 1.0  G:dom7``), or with ``--json`` a list of
``{"bar": 3, "beat": 1.0, "chord": "G:dom7"}``: bars from 1, beats in quarter notes from 1.0,
labels ``ROOT:QUALITY`` with sharps or ``N``. Every bar starts an entry; a chord that changes
inside a bar (at the half bar, or on a beat with ``--resolution beat``) starts another.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    from core.harmony.recogniser import RESOLUTIONS

    parser = subparsers.add_parser(
        "chords",
        help="recognise the chords of a MIDI file, bar by bar",
        description="Recognise the chord of each bar (and half bar where the harmony changes) of a MIDI file.",
    )
    parser.add_argument("file", type=Path, help="a MIDI file (.mid, .midi, .rmi)")
    parser.add_argument("--json", action="store_true", help='print a JSON list of {"bar", "beat", "chord"}')
    parser.add_argument(
        "--resolution", choices=RESOLUTIONS, default="half",
        help="the finest place a chord may change: bar, half bar (default) or beat",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from core.harmony.recogniser import recognise_chords
    from core.midi.files import read_midi

    spans = recognise_chords(read_midi(args.file), args.resolution)
    if args.json:
        print(json.dumps([span.as_json() for span in spans]))
    else:
        for span in spans:
            print(f"bar {span.bar} beat {span.beat:g}  {span.chord.label}")
    return 0
