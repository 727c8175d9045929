"""The generation jobs the window runs in the background: the panels' requests as ``core.generation``
calls, and their results as the plain data the window shows.

The jobs use no Qt, and nothing here imports torch at import time (``core.generation`` is imported
inside the jobs, in the worker thread), so that opening the window never waits for torch. Each job receives the piece, the panel's
request, a function that returns the loaded model (loading it first where the background load has
not finished), and the Task's ``progress(fraction, message)`` / ``cancelled()`` callbacks; a cancel
raises :class:`core.errors.Cancelled` from inside ``core.generation``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from app.models import GPU_TEXT, LoadedModel
from app.panels.requests import ArrangeRequest, ContinueRequest, GenerateRequest, InterpolateRequest
from app.workers import CancelledFn, ProgressFn
from core.errors import GenerationError
from core.music.score import Score

ModelLoader = Callable[[], LoadedModel]


@dataclass(frozen=True)
class Candidate:
    """One variation: ``bars`` new bars (a Score starting at tick 0) to go before bar ``at_bar``."""

    fragment: Score
    at_bar: int
    bars: int
    label: str


@dataclass(frozen=True)
class InterpolationSteps:
    """The decoded bars between bar A and bar B, one Score (starting at tick 0) per step."""

    bar_a: int
    bar_b: int
    steps: tuple[Score, ...]

    @property
    def insert_at(self) -> int:
        """Steps go in right after bar A."""
        return self.bar_a + 1


@dataclass(frozen=True)
class GenerationReport:
    """What the status bar says about the last generation: how long it took, with which model, where."""

    what: str  # "continuation" or "interpolation"
    seconds: float  # the generation alone, without loading the model
    model: str
    device: str

    def text(self) -> str:
        device = GPU_TEXT if self.device.startswith("cuda") else self.device.upper()
        return f"{self.what} {self.seconds:.2f} s · {self.model} on {device}"


@dataclass(frozen=True)
class ContinueResult:
    """The variations of a continuation (or of an arrangement: :func:`run_arrange`)."""

    candidates: tuple[Candidate, ...]
    report: GenerationReport
    notes: tuple[str, ...] = ()  # what the model could not continue (drums, for a model without them)


@dataclass(frozen=True)
class InterpolateResult:
    steps: InterpolationSteps
    report: GenerationReport


def _check_bars(score: Score, what: str, *bars: int) -> None:
    """Bars the composer picked must be bars of the piece (the ruler can reach past its end)."""
    for bar in bars:
        if not 1 <= bar <= score.bar_count:
            raise GenerationError(f"{what} {bar} is not in the piece (it has bars 1-{score.bar_count})")


def run_continue(
    score: Score, request: ContinueRequest, load: ModelLoader, progress: ProgressFn, cancelled: CancelledFn
) -> ContinueResult:
    """Continue ``score`` after bar ``request.seed_last`` as the request says (``request.variations``
    variations of ``request.bars`` bars, decoded together) and return one Candidate per variation."""
    from core.generation import Controls, Temperatures, continue_piece

    _check_bars(score, "seed bar", request.seed_first, request.seed_last)
    if request.context is not None:
        _check_bars(score, "context bar", *request.context)
    progress(0.0, f"loading {request.model}…")
    model = load()
    if not model.network.config.use_context:
        raise GenerationError(
            f"{model.name} is an interpolation model (it hears no context bars): "
            "pick a continuation model to continue music"
        )
    controls = Controls(
        temperatures=Temperatures(*request.temperatures.as_tuple()),
        instruments=frozenset(request.allowed_instruments) if request.allowed_instruments is not None else None,
        seed=request.random_seed,
        top_p=request.top_p,
        latent=request.latent,
        latent_shift=attribute_shift(model, request.attributes),
    )
    began = time.perf_counter()
    result = continue_piece(
        model.network, score, request.seed_last, request.bars,
        seed_first=request.seed_first, context=request.context, seeded=request.seeded,
        variations=request.variations, controls=controls,
        progress=lambda done, total: progress(done / max(total, 1), f"bar {done} of {total}"),
        cancel=cancelled,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    candidates = tuple(
        Candidate(v.fragment, result.at_bar, result.bars, _variation_label(v.index, v.seed, v.notes_count))
        for v in result.variations
    )
    return ContinueResult(candidates, GenerationReport("continuation", seconds, model.name, model.device), result.notes)


def _variation_label(index: int, seed: int, notes: int) -> str:
    return f"variation {index + 1} · {notes} note{'s' if notes != 1 else ''} · seed {seed}"


def run_interpolate(
    score: Score, request: InterpolateRequest, load: ModelLoader, progress: ProgressFn, cancelled: CancelledFn
) -> InterpolateResult:
    """Decode ``request.steps`` bars from bar A to bar B (both ends included, linear or slerp) in one
    batch, greedily, each step the bar the model reads back nearest to its code of
    ``interpolation.CANDIDATES`` (``core.generation.round_trip``; the same request gives the same
    bars); context models hear the bar(s) before A."""
    from core.generation import Controls, Temperatures, interpolate

    _check_bars(score, "bar", request.bar_a, request.bar_b)
    if request.bar_a == request.bar_b:
        raise GenerationError(f"bar A and bar B are both bar {request.bar_a}: pick two different bars")
    progress(0.0, f"loading {request.model}…")
    model = load()
    progress(0.1, "decoding the steps…")
    began = time.perf_counter()
    result = interpolate(
        model.network, score, request.bar_a, request.bar_b, request.steps,
        slerp=request.method == "slerp",
        controls=Controls(
            temperatures=Temperatures.greedy(), seed=request.random_seed,
            latent_shift=attribute_shift(model, request.attributes),
        ),
        progress=lambda done, total: progress(0.1 + 0.9 * done / max(total, 1), "decoding the steps…"),
        cancel=cancelled,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    steps = InterpolationSteps(request.bar_a, request.bar_b, tuple(step.fragment for step in result.steps))
    return InterpolateResult(steps, GenerationReport("interpolation", seconds, model.name, model.device))


def run_arrange(
    score: Score, request: ArrangeRequest, load: ModelLoader, progress: ProgressFn, cancelled: CancelledFn
) -> ContinueResult:
    """Arrange the request's progression (``core.generation.arrange``) in the meter of the bar where
    Keep puts it, with the style of ``request.style_bar`` or one drawn from the prior, and return one
    Candidate per variation, to go before bar ``request.at_bar``."""
    from core.generation import Controls, Temperatures
    from core.generation.arrange import arrange, chord_tone_share
    from core.harmony.labels import parse_progression

    chords = parse_progression(request.progression)
    if request.style_bar is not None:
        _check_bars(score, "style bar", request.style_bar)
    progress(0.0, f"loading {request.model}…")
    model = load()
    if not model.network.config.chords:
        raise GenerationError(f"{model.name} does not hear chords: pick classical-arranger (or another chord-conditioned model) to arrange")
    at_bar = request.at_bar if request.at_bar is not None else score.bar_count + 1
    bar = score.bar(max(1, min(at_bar, score.bar_count)))
    controls = Controls(
        temperatures=Temperatures(*request.temperatures.as_tuple()),
        instruments=frozenset(request.allowed_instruments) if request.allowed_instruments is not None else None,
        seed=request.random_seed,
        top_p=request.top_p,
        latent_shift=attribute_shift(model, request.attributes),
    )
    styled = request.style_bar is not None
    began = time.perf_counter()
    result = arrange(
        model.network, chords, chords_per_bar=request.chords_per_bar, meter=(bar.numerator, bar.denominator),
        source=score if styled else None, style_bar=request.style_bar, variations=request.variations, controls=controls,
        progress=lambda done, total: progress(done / max(total, 1), f"bar {done} of {total}"),
        cancel=cancelled,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    bars = len(result.slots)
    candidates = tuple(
        Candidate(v.score, at_bar, bars,
                  f"{_variation_label(v.index, v.seed, v.score.notes_count)} · {chord_tone_share(result, v.index):.0%} on chord tones")
        for v in result.variations
    )  # fmt: skip
    return ContinueResult(candidates, GenerationReport("arrangement", seconds, model.name, model.device))


def attribute_shift(model: LoadedModel, amounts: tuple[tuple[str, float], ...]) -> tuple[float, ...] | None:
    """The latent offset of the composer's attribute sliders, from the vectors beside the model file
    (:class:`GenerationError` naming the file when the model has none)."""
    from core.model.attributes import model_latent_shift

    return model_latent_shift(model.path, dict(amounts))


@dataclass(frozen=True)
class GenerateResult:
    score: Score  # the new piece, or the open piece with the new bars after it
    append: bool
    bars: int
    notes: int
    report: GenerationReport


def run_generate(
    score: Score | None, request: GenerateRequest, load: ModelLoader, progress: ProgressFn, cancelled: CancelledFn
) -> GenerateResult:
    """``request.bars`` bars from the model's opening context: a new piece, or (``request.append``)
    the open piece followed by them, in the meter and tempo in force at its end."""
    from core.generation import Controls
    from core.generation.scratch import Z_SCALE, Meter, append_generated, bpm_at_end, generate_piece, meter_at_end

    if request.append and score is None:
        raise GenerationError("open a piece to append bars to it")
    progress(0.0, f"loading {request.model}…")
    model = load()
    if not model.network.config.use_context:
        raise GenerationError(f"{model.name} is an interpolation model: pick a continuation model to generate music")
    meter = meter_at_end(score) if request.append and score is not None else Meter(request.numerator, request.denominator)
    bpm = bpm_at_end(score) if request.append and score is not None else request.bpm
    controls = Controls(seed=request.random_seed, z_scale=Z_SCALE, latent_shift=attribute_shift(model, request.attributes))
    began = time.perf_counter()
    result = generate_piece(
        model.network, request.bars, meter=meter, bpm=bpm, controls=controls,
        progress=lambda done, total: progress(done / max(total, 1), f"bar {done} of {total}"),
        cancel=cancelled,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    variation = result.variations[0]
    made = append_generated(score, result, 0) if request.append and score is not None else result.continued(0)
    report = GenerationReport("generation", seconds, model.name, model.device)
    return GenerateResult(made, request.append, request.bars, variation.notes_count, report)
