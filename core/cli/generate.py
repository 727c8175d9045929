"""``mahlernet continue``, ``interpolate`` and ``reconstruct``: generation from the command line.

continue FILE --from-bar K --bars N --out OUT [--context-bar C] [--seeded] [--variations V]
         [--temperature T | --temperatures o,d,p,i,v] [--top-p P] [--instruments LIST|all]
         [--latent prior|standard|rerank] [--z-scale S] [--candidates K] [--seed S] [--model M]
    writes the piece up to bar K followed by the N new bars, one file per variation
    (OUT, then OUT-2.mid, OUT-3.mid ... beside it); ``--from-bar 0`` writes a new opening.
interpolate FILE --bar-a A --bar-b B --steps S --out OUT [--slerp] [--candidates K] [--model M]
    writes bar A, the S decoded bars (both ends included), then bar B.
reconstruct FILE --bar K --out OUT [--model M]
    writes bar K and its reconstruction, and prints the accuracy per property.
generate --bars N --out OUT [--meter 3/4] [--tempo 90] [--instruments LIST] [--variations V]
         [--attribute NAME=AMOUNT ...] [sampling options as continue]
    writes a new piece of N bars from the model's opening context, one file per variation.

``--attribute NAME=AMOUNT`` (continue, interpolate, generate; ``arrange`` too) adds AMOUNT times the model's
attribute vector NAME to the latent codes (``density=+1.5``; names: density, register, polyphony,
busyness, stepwise, duration; see :mod:`core.model.attributes`).

Bars are numbered from 1. Without ``--model`` the bundled model for the job is used (continuation for
continue and reconstruct, interpolation for interpolate).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from core.errors import GenerationError

if TYPE_CHECKING:
    from core.representation.instruments import InstrumentTable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("continue", help="continue a MIDI file by N bars (variations, temperatures, instruments)")
    parser.add_argument("file", type=Path, help="MIDI file to continue")
    parser.add_argument("--from-bar", type=int, required=True, metavar="K", help="the last bar kept; new bars follow it (0: a new opening)")
    parser.add_argument("--bars", type=int, required=True, metavar="N", help="how many bars to generate")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI file (variation 2 goes to OUT-2.mid, ...)")
    parser.add_argument("--seed-from", type=int, metavar="F", help="first seed bar (default K: the seed is bar K alone)")
    parser.add_argument("--context-bar", metavar="C", help="context bar(s) heard before the seed: C or C1-C2")
    parser.add_argument("--seeded", action="store_true", help="encode the seed bar into z instead of drawing z from the prior")
    parser.add_argument("--variations", type=int, default=1, metavar="V", help="continuations decoded together (default 1)")
    _add_sampling(parser)
    parser.add_argument(
        "--instruments", metavar="LIST",
        help="allowed instruments, e.g. violin,viola,cello, class numbers, or 'all' (default: those of the seed and context bars)",
    )  # fmt: skip
    parser.add_argument("--no-range-clamp", action="store_true", help="let notes leave their instruments' playable ranges")
    parser.add_argument("--top-p", type=float, default=0.8, metavar="P", help="nucleus sampling: only the likeliest classes up to mass P (default 0.8; 1 = off)")
    parser.add_argument(
        "--latent", default="prior", metavar="prior|standard|rerank",
        help="each new bar's z: from the model's prior (default; context-aware for a learned prior), "
        "standard N(0, I) as the original, or rerank CANDIDATES draws",
    )  # fmt: skip
    parser.add_argument("--z-scale", type=float, default=0.3, metavar="S", help="spread of the prior's draws (default 0.3)")
    parser.add_argument("--candidates", type=int, default=4, metavar="K", help="codes tried per bar with --latent rerank (default 4)")
    add_attributes(parser)
    _add_model(parser)
    parser.set_defaults(handler=run_continue)

    parser = subparsers.add_parser("interpolate", help="morph from bar A to bar B in S decoded bars")
    parser.add_argument("file", type=Path, help="MIDI file holding both bars")
    parser.add_argument("--bar-a", type=int, required=True, metavar="A")
    parser.add_argument("--bar-b", type=int, required=True, metavar="B")
    parser.add_argument("--steps", type=int, default=10, metavar="S", help="decoded bars, both ends included (default 10)")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI file: bar A, the S bars, bar B")
    parser.add_argument("--slerp", action="store_true", help="spherical instead of linear interpolation")
    parser.add_argument("--context", choices=("before", "start"), default="before", help="fixed context of a context model")
    parser.add_argument("--temperature", type=float, default=0.0, metavar="T", help="0 (default) decodes greedily")
    parser.add_argument("--seed", type=int, default=0, metavar="S")
    parser.add_argument(
        "--candidates", type=int, default=8, metavar="K",  # core.generation.interpolation.CANDIDATES (tests check)
        help="bars decoded per step, the one the model reads back nearest to the step's code kept (default 8; 1: decode once)",
    )  # fmt: skip
    add_attributes(parser)
    _add_model(parser)
    parser.set_defaults(handler=run_interpolate)

    parser = subparsers.add_parser("reconstruct", help="encode and decode one bar; print the accuracy")
    parser.add_argument("file", type=Path, help="MIDI file")
    parser.add_argument("--bar", type=int, required=True, metavar="K")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI file: the bar, then its reconstruction")
    parser.add_argument("--sample", action="store_true", help="sample z and the events instead of decoding greedily")
    parser.add_argument("--seed", type=int, default=0, metavar="S")
    _add_model(parser)
    parser.set_defaults(handler=run_reconstruct)

    parser = subparsers.add_parser("generate", help="a new piece of N bars from scratch (the model's opening context)")
    parser.add_argument("--bars", type=int, required=True, metavar="N", help="how many bars to generate")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI file (variation 2 goes to OUT-2.mid, ...)")
    parser.add_argument("--meter", default="4/4", metavar="N/D", help="time signature (default 4/4)")
    parser.add_argument("--tempo", type=float, default=100.0, metavar="BPM", help="quarter notes per minute (default 100)")
    parser.add_argument("--variations", type=int, default=1, metavar="V", help="pieces decoded together (default 1)")
    _add_sampling(parser)
    parser.add_argument("--instruments", metavar="LIST", help="allowed instruments, e.g. violin,viola,cello (default: all)")
    parser.add_argument("--no-range-clamp", action="store_true", help="let notes leave their instruments' playable ranges")
    parser.add_argument("--top-p", type=float, default=0.8, metavar="P", help="nucleus sampling (default 0.8; 1 = off)")
    parser.add_argument("--latent", default="prior", metavar="prior|standard|rerank", help="each bar's z (default prior)")
    parser.add_argument(
        "--z-scale", type=float, default=0.0, metavar="S",  # core.generation.scratch.Z_SCALE (tests check)
        help="spread of the prior's draws (default 0: its mean, the most tonal openings)",
    )  # fmt: skip
    parser.add_argument("--candidates", type=int, default=4, metavar="K", help="codes tried per bar with --latent rerank (default 4)")
    add_attributes(parser)
    _add_model(parser)
    parser.set_defaults(handler=run_generate)


def _add_sampling(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--temperature", type=float, metavar="T", help="one temperature for every property (default 1)")
    group.add_argument("--temperatures", metavar="o,d,p,i,v", help="offset, duration, pitch, instrument, velocity")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed; variation i uses S + i (default 0)")


def add_attributes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--attribute", action="append", default=[], metavar="NAME=AMOUNT",
        help="move an attribute by AMOUNT vector lengths, e.g. density=+1.5 (repeatable; names: "
        "density, register, polyphony, busyness, stepwise, duration)",
    )  # fmt: skip


def attribute_amounts(args: argparse.Namespace) -> dict[str, float]:
    """The ``--attribute`` amounts, read before any file or model is (an unknown name or a bad amount
    fails first)."""
    from core.model.attributes import parse_amounts  # noqa: PLC0415

    return parse_amounts(args.attribute)


def _with_attributes(controls, amounts: dict[str, float], args: argparse.Namespace, kind: str):  # type: ignore[no-untyped-def]
    """``controls`` with the latent shift of ``amounts`` (the vectors beside the model file)."""
    from core.generation.models import model_path_for  # noqa: PLC0415

    return with_attribute_shift(controls, amounts, lambda: model_path_for(kind, args.model))


def with_attribute_shift(controls, amounts: dict[str, float], model_path: Callable[[], Path]):  # type: ignore[no-untyped-def]
    """``controls`` with the latent shift of the attribute ``amounts``, from the vectors beside the
    model file ``model_path()`` (only looked up when an attribute is moved)."""
    import dataclasses  # noqa: PLC0415

    from core.model.attributes import model_latent_shift  # noqa: PLC0415

    if not any(amounts.values()):  # the model's path is not even looked up
        return controls
    return dataclasses.replace(controls, latent_shift=model_latent_shift(model_path(), amounts))


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="M", help="model file, run folder or name (default: the bundled one for the job)")
    parser.add_argument("--threads", type=int, metavar="T", help="CPU threads for torch (default: torch's choice)")


def _instruments(text: str | None, table: "InstrumentTable") -> frozenset[int] | None:
    """``--instruments``: None (the seed's and context's), every class for ``all``, or the named ones
    (names of the model's instrument ``table``: "drums" for a drum model)."""
    from core.generation import instrument_classes  # noqa: PLC0415
    from core.representation.events import N_INSTRUMENTS  # noqa: PLC0415

    if not text:
        return None
    if text.strip().lower() == "all":
        return frozenset(range(N_INSTRUMENTS))
    return instrument_classes(text.split(","), table)


def _context(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        first, _, last = text.partition("-")
        return int(first), int(last or first)
    except ValueError:
        raise GenerationError(f"context bar {text!r}: expected a bar number or a range such as 7-8") from None


def _prepare(args: argparse.Namespace, kind: str):  # type: ignore[no-untyped-def]
    """The Score and model of a generation command (heavy imports here, not at start-up)."""
    import torch  # noqa: PLC0415

    from core.generation import load_for  # noqa: PLC0415
    from core.midi.files import read_midi  # noqa: PLC0415

    if args.threads:
        torch.set_num_threads(args.threads)
    score = read_midi(args.file)
    model, card = load_for(kind, args.model)
    return score, model, card


def _write(score, path: Path) -> None:  # type: ignore[no-untyped-def]
    from core.midi.files import write_midi  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    write_midi(score, path)


def variation_path(out: Path, index: int) -> Path:
    """OUT for the first variation, OUT-2.mid, OUT-3.mid ... for the others."""
    if index == 0:
        return out
    return out.with_name(f"{out.stem}-{index + 1}{out.suffix or '.mid'}")


def run_continue(args: argparse.Namespace) -> int:
    from core.generation import Controls, Temperatures, continue_piece  # noqa: PLC0415

    if args.temperatures:
        temperatures = Temperatures.parse(args.temperatures)
    else:
        temperatures = Temperatures.uniform(1.0 if args.temperature is None else args.temperature)
    amounts = attribute_amounts(args)
    score, model, _ = _prepare(args, "continuation")
    instruments = _instruments(args.instruments, model.config.instrument_table)
    controls = Controls(
        temperatures, instruments, not args.no_range_clamp, args.seed,
        top_p=args.top_p, latent=args.latent, z_scale=args.z_scale, candidates=args.candidates,
    )  # fmt: skip
    controls = _with_attributes(controls, amounts, args, "continuation")
    result = continue_piece(
        model, score, args.from_bar, args.bars,
        seed_first=args.seed_from, context=_context(args.context_bar), seeded=args.seeded,
        variations=args.variations, controls=controls,
    )  # fmt: skip
    for variation in result.variations:
        path = variation_path(args.out, variation.index)
        _write(result.continued(variation.index), path)
        print(f"wrote {path}: bars 1-{args.from_bar} + {args.bars} new bars, {variation.notes_count} new notes (seed {variation.seed})")
    for note in result.notes:
        print(f"note: {note}")
    print(f"generated in {result.seconds:.2f} s")
    return 0


def run_interpolate(args: argparse.Namespace) -> int:
    from core.generation import Controls, Temperatures, interpolate  # noqa: PLC0415

    controls = Controls(Temperatures.uniform(args.temperature), seed=args.seed)
    amounts = attribute_amounts(args)
    score, model, _ = _prepare(args, "interpolation")
    controls = _with_attributes(controls, amounts, args, "interpolation")
    result = interpolate(model, score, args.bar_a, args.bar_b, args.steps, slerp=args.slerp, context=args.context, controls=controls, candidates=args.candidates)
    _write(result.sequence(), args.out)
    notes = sum(step.fragment.notes_count for step in result.steps)
    print(f"wrote {args.out}: bar {args.bar_a}, {len(result.steps)} decoded bars ({notes} notes), bar {args.bar_b}")
    return 0


def run_reconstruct(args: argparse.Namespace) -> int:
    from core.generation import Controls, Temperatures, reconstruct  # noqa: PLC0415

    score, model, _ = _prepare(args, "continuation")
    controls = Controls(Temperatures.uniform(1.0 if args.sample else 0.0), seed=args.seed)
    result = reconstruct(model, score, args.bar, greedy=not args.sample, controls=controls)
    _write(result.pair(), args.out)
    print(f"wrote {args.out}: bar {args.bar}, then its reconstruction")
    print(result.describe())
    return 0


def run_generate(args: argparse.Namespace) -> int:
    import torch  # noqa: PLC0415

    from core.generation import Controls, Temperatures, load_for  # noqa: PLC0415
    from core.generation.scratch import Meter, generate_piece  # noqa: PLC0415

    if args.temperatures:
        temperatures = Temperatures.parse(args.temperatures)
    else:
        temperatures = Temperatures.uniform(1.0 if args.temperature is None else args.temperature)
    meter = Meter.parse(args.meter)
    amounts = attribute_amounts(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    model, _ = load_for("continuation", args.model)
    controls = Controls(
        temperatures, _instruments(args.instruments, model.config.instrument_table), not args.no_range_clamp, args.seed,
        top_p=args.top_p, latent=args.latent, z_scale=args.z_scale, candidates=args.candidates,
    )  # fmt: skip
    controls = _with_attributes(controls, amounts, args, "continuation")
    result = generate_piece(model, args.bars, meter=meter, bpm=args.tempo, variations=args.variations, controls=controls)
    for variation in result.variations:
        path = variation_path(args.out, variation.index)
        _write(result.continued(variation.index), path)
        print(f"wrote {path}: {args.bars} bars of {meter.numerator}/{meter.denominator}, {variation.notes_count} notes (seed {variation.seed})")
    print(f"generated in {result.seconds:.2f} s")
    return 0
