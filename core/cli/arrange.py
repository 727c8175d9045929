"""``mahlernet arrange --chords "C G Am F" --out OUT``: arrange a chord progression with a
chord-conditioned model (one bar per chord slot, one z held; see :mod:`core.generation.arrange`).

Options: ``--chords-per-bar 1|2``, ``--meter 3/4``, ``--from FILE --bar K`` (the style of bar K),
``--interpolate-to BAR`` (from bar K's style to BAR's), ``--instruments LIST`` (default: the band
of the style bar, or of each arrangement's first bar), ``--variations V``
(variation 2 goes to OUT-2.mid, ...), ``--seed``, ``--temperature``, ``--attribute NAME=AMOUNT``
(moves the held code along the model's attribute vectors, as in ``continue``), ``--model`` (default:
the bundled ``classical-arranger``). Prints, per variation, the share of note time on the chord tones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.generate import add_attributes

DEFAULT_MODEL = "classical-arranger"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "arrange",
        help="arrange a chord progression: one bar per chord, one style held (chord-conditioned model)",
        description="Arrange a chord progression with a chord-conditioned model: one bar per chord slot, one latent code held.",
    )
    parser.add_argument("--chords", required=True, metavar="PROGRESSION", help='chord names, e.g. "C G Am F" or "C:maj F#:min7"')
    parser.add_argument("--chords-per-bar", type=int, choices=(1, 2), default=1, help="chords to a bar (default 1)")
    parser.add_argument("--meter", metavar="N/D", help="time signature (default: the style bar's, else 4/4)")
    parser.add_argument("--from", dest="source", type=Path, metavar="FILE", help="take the style from a bar of this MIDI file")
    parser.add_argument("--bar", type=int, metavar="K", help="the style bar of --from (from 1)")
    parser.add_argument("--interpolate-to", type=int, metavar="BAR", help="move the style from bar K to this bar over the progression")
    parser.add_argument("--instruments", metavar="LIST", help="instrument classes allowed, comma-separated, or 'all' "
                        "(default: the style bar's; for a random style, those of each arrangement's first bar)")
    parser.add_argument("--variations", type=int, default=1, metavar="V", help="arrangements decoded together (default 1)")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T", help="sampling temperature (default 1)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; variation i uses S + i")
    add_attributes(parser)
    parser.add_argument("--out", type=Path, required=True, help="output MIDI file")
    parser.add_argument("--model", metavar="M", help=f"model file, run folder or name (default {DEFAULT_MODEL})")
    parser.set_defaults(handler=run)


def _meter(text: str | None) -> tuple[int, int] | None:
    from core.errors import GenerationError  # noqa: PLC0415

    if text is None:
        return None
    numerator, _, denominator = text.partition("/")
    try:
        return int(numerator), int(denominator)
    except ValueError:
        raise GenerationError(f"meter {text!r}: expected N/D such as 3/4") from None


def run(args: argparse.Namespace) -> int:
    from core.model.checkpoints import load_model, resolve_model  # noqa: PLC0415
    from core.cli.generate import _instruments, _write, attribute_amounts, variation_path, with_attribute_shift  # noqa: PLC0415
    from core.errors import GenerationError  # noqa: PLC0415
    from core.generation.arrange import arrange, chord_tone_share, texture_overlap  # noqa: PLC0415
    from core.generation.controls import Controls, Temperatures  # noqa: PLC0415
    from core.harmony.labels import parse_progression  # noqa: PLC0415
    from core.midi.files import read_midi  # noqa: PLC0415

    amounts = attribute_amounts(args)
    chords = parse_progression(args.chords)
    meter = _meter(args.meter)
    if (args.source is None) != (args.bar is None):
        raise GenerationError("--from FILE and --bar K go together")
    source = read_midi(args.source) if args.source is not None else None
    model_path = resolve_model(args.model or DEFAULT_MODEL)
    model, _ = load_model(model_path, "cpu")
    controls = Controls(Temperatures.uniform(args.temperature), _instruments(args.instruments, model.config.instrument_table), seed=args.seed)
    controls = with_attribute_shift(controls, amounts, lambda: model_path)
    result = arrange(
        model, chords, chords_per_bar=args.chords_per_bar, meter=meter, source=source, style_bar=args.bar,
        interpolate_to=args.interpolate_to, variations=args.variations, controls=controls,
    )  # fmt: skip
    for variation in result.variations:
        path = variation_path(args.out, variation.index)
        _write(variation.score, path)
        same, onsets = texture_overlap(result, variation.index)
        print(
            f"wrote {path}: {len(result.slots)} bars, {variation.score.notes_count} notes, "
            f"{chord_tone_share(result, variation.index):.0%} of note time on chord tones, "
            f"same instruments in {same:.0%} of bars, onset overlap {onsets:.2f} (seed {variation.seed})"
        )
    return 0
