"""``mahlernet render``, ``mahlernet ports`` and ``mahlernet play``: hearing a MIDI file from the shell.

render  FILE OUT.wav [--soundfont SF] [--from-bar A] [--to-bar B] [--humanize S]   offline, through FluidSynth
ports   [--audio]                                                   MIDI outputs (and audio drivers)
play    FILE [--port NAME] [--synth] [--from-bar A] [--to-bar B] [--loop] [--humanize S]   live; Ctrl-C stops with panic

``--humanize S`` (0 to 1) plays the file with micro-timing and shaped dynamics at strength S
(:mod:`core.audio.humanize`); the file itself is not changed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser("render", help="render a MIDI file (or some bars) to a WAV file with FluidSynth")
    render.add_argument("file", type=Path, help="MIDI file")
    render.add_argument("out", type=Path, help="WAV file to write")
    _add_sound_options(render)
    render.add_argument("--tail", type=float, default=1.5, metavar="SECONDS", help="release tail after the music (1.5)")
    render.add_argument("--sample-rate", type=int, default=44100, metavar="HZ", help="sample rate (44100)")
    render.set_defaults(handler=run_render)

    ports = subparsers.add_parser("ports", help="list MIDI output ports (and, with --audio, the audio driver that works)")
    ports.add_argument("--audio", action="store_true", help="also find the soundfont and an audio driver for the synth")
    ports.set_defaults(handler=run_ports)

    play = subparsers.add_parser("play", help="play a MIDI file through the built-in synth or a MIDI port")
    play.add_argument("file", type=Path, help="MIDI file")
    play.add_argument("--port", metavar="NAME", help="MIDI output port (name, label or unique part of it; see `ports`)")
    play.add_argument("--synth", action="store_true", help="with --port: play through the built-in synth as well")
    _add_sound_options(play)
    play.add_argument("--loop", action="store_true", help="repeat the bars until Ctrl-C")
    play.set_defaults(handler=run_play)


def _add_sound_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--soundfont", metavar="SF", help="soundfont (.sf2/.sf3); default: $MAHLERNET_SOUNDFONT or the system's")
    parser.add_argument("--from-bar", type=int, metavar="A", help="first bar (from 1)")
    parser.add_argument("--to-bar", type=int, metavar="B", help="last bar, inclusive (default: the end)")
    parser.add_argument("--humanize", type=float, default=0.0, metavar="S",
                        help="expressive timing and dynamics, strength 0-1 (default 0: as written)")
    parser.add_argument("--humanize-seed", type=int, default=0, metavar="N", help="seed of the humanized performance")


def _read_range(args: argparse.Namespace):
    """The Score and the tick range the bar options select (AudioError for bars that do not exist)."""
    from core.audio.timeline import bar_range  # noqa: PLC0415 - keep `mahlernet --help` fast
    from core.errors import AudioError  # noqa: PLC0415
    from core.midi.files import read_midi  # noqa: PLC0415

    score = read_midi(args.file)
    if not 0.0 <= args.humanize <= 1.0:
        raise AudioError(f"--humanize {args.humanize:g}: use a strength from 0 to 1")
    if args.humanize:
        from core.audio.humanize import humanize  # noqa: PLC0415

        score = humanize(score, args.humanize, seed=args.humanize_seed)
    bars = score.bar_count
    for option, bar in (("--from-bar", args.from_bar), ("--to-bar", args.to_bar)):
        if bar is not None and not 1 <= bar <= bars:
            raise AudioError(f"{args.file}: {option} {bar} is outside the piece (bars 1-{bars})")
    if args.from_bar and args.to_bar and args.to_bar < args.from_bar:
        raise AudioError(f"{args.file}: --to-bar {args.to_bar} comes before --from-bar {args.from_bar}")
    start, end = bar_range(score, args.from_bar, args.to_bar)
    if end <= start:
        raise AudioError(f"{args.file}: there is nothing to play (no notes)")
    return score, start, end


def _describe_range(score, start: int, end: int) -> str:
    first, last = score.bar_at(start).number, score.bar_at(max(end - 1, start)).number
    seconds = score.seconds_at(end) - score.seconds_at(start)
    return f"bars {first}-{last}, {int(seconds // 60)}:{seconds % 60:04.1f}"


def run_render(args: argparse.Namespace) -> int:
    from core.audio.render import render, write_wav  # noqa: PLC0415
    from core.errors import AudioError  # noqa: PLC0415

    if args.out.suffix.lower() != ".wav":
        raise AudioError(f"{args.out}: only WAV files are written (name it .wav)")
    if args.tail < 0 or args.sample_rate < 8000:
        raise AudioError("--tail must be 0 or more and --sample-rate at least 8000")
    score, start, end = _read_range(args)
    began = time.perf_counter()
    audio = render(score, start=start, end=end, soundfont=args.soundfont, sample_rate=args.sample_rate,
                   tail_seconds=args.tail)
    took = time.perf_counter() - began
    write_wav(args.out, audio, args.sample_rate)
    seconds = len(audio) / args.sample_rate
    print(f"wrote {args.out}: {_describe_range(score, start, end)}, {seconds:.1f} s of audio "
          f"in {took:.2f} s ({seconds / max(took, 1e-9):.0f}x real time)")
    return 0


def run_ports(args: argparse.Namespace) -> int:
    from core.audio.midi_out import list_output_ports  # noqa: PLC0415

    listing = list_output_ports()
    if listing.ports:
        print("MIDI output ports:")
        for port in listing.ports:
            print(f"  {port.label}")
    else:
        print(f"no MIDI output ports ({listing.reason})")
    if args.audio:
        from core.audio.synth import Synth  # noqa: PLC0415
        from core.errors import AudioError  # noqa: PLC0415

        try:
            with Synth() as synth:
                synth.start()
                print(f"built-in synth: soundfont {synth.soundfont}")
                print(f"audio driver: {synth.audio_driver or synth.audio_problem}")
        except AudioError as error:
            print(f"built-in synth: {error}")
    return 0


def run_play(args: argparse.Namespace) -> int:
    from core.audio.outputs import Outputs, OutputSettings  # noqa: PLC0415
    from core.audio.player import Player  # noqa: PLC0415
    from core.errors import AudioError  # noqa: PLC0415

    score, start, end = _read_range(args)
    use_synth = not args.port or args.synth
    outputs = Outputs(OutputSettings(use_synth=use_synth, soundfont=args.soundfont, midi_port=args.port))
    try:
        if outputs.sink.problem is not None or (args.port and outputs.midi is None):
            raise AudioError("; ".join(outputs.problems))
        for problem in outputs.problems:
            print(f"mahlernet play: warning: {problem}", file=sys.stderr)
        errors: list[str] = []
        player = Player(outputs.sink, on_error=errors.append)
        if not player.play(score, start, end, loop=args.loop):
            raise AudioError(errors[-1] if errors else "cannot play")
        print(f"playing {args.file.name} ({_describe_range(score, start, end)}) through {outputs.description}; "
              "Ctrl-C stops", flush=True)
        try:
            while not player.wait(0.1):
                pass
        finally:
            player.stop()  # panic: no note is left hanging, also after Ctrl-C
            player.close()
        if errors:
            raise AudioError(errors[-1])
        if outputs.synth is not None:
            _let_release_tails_ring(outputs.synth)
    finally:
        outputs.close()
    return 0


def _let_release_tails_ring(synth, limit: float = 2.0) -> None:
    """Wait (at most ``limit`` seconds) until the synth's last notes have died away."""
    deadline = time.monotonic() + limit
    while synth.active_voices and time.monotonic() < deadline:
        time.sleep(0.05)
