"""Generate from scratch: a new piece (or bars appended to one) from the model's opening context.

No bar of music is given: the first new bar's context is the START token alone (the opening of a
piece, exactly as the model saw every piece begin in training), and its code z comes from the model's
prior given that context (its learned prior p(z | START), or N(0, I) for a model without one); each
later bar hears the bars generated before it. This is :func:`continue_piece` from bar 0 on an empty
piece that holds only the asked meter and tempo, so all its controls apply (temperatures, top-p,
latent, attribute vectors, instruments, seed; variation ``i`` uses seed ``seed + i``). Without named
instruments every instrument class may play. The CLI and the app draw z at :data:`Z_SCALE` here.

:func:`generate_piece` writes a new piece; :func:`append_generated` puts one variation after the last
bar of an open piece, in the meter and tempo in force there.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.music import edits
from core.errors import GenerationError
from core.generation.bars import BarPlan
from core.generation.bars import MAX_EVENTS
from core.generation.continuation import Continuation, continue_piece
from core.generation.controls import Controls
from core.generation.engine import Cancel, Progress
from core.model.network import MahlerNet
from core.music.score import TempoChange, TimeSignature, Score

# Each new bar's z is the prior's mean (z scale 0) by default here, not 0.3 of its spread as in Continue.
# From the START context alone the learned prior must cover every opening a piece may have, and draws
# from it wander off key: with the bundled continuation model (benchmarks/generate_scratch.py, 24
# pieces per meter in 3/4, 6/8 and 4/4, four seed sets) notes in key were 0.80-0.87 at z scale 0.3
# and 0.856-0.907 at 0, the first bar the furthest off (0.71 in key at 0.3). The pieces stay as
# different from one another (note F1 between two pieces 0.11-0.18, 8-14 keys among 24 pieces, at
# either scale): the sampling of the events and the contexts they build vary them.
Z_SCALE = 0.0
DEFAULT_METER = (4, 4)
DEFAULT_BPM = 100.0
MIN_BPM, MAX_BPM = 10.0, 400.0
TICKS_PER_QUARTER = 480


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    @classmethod
    def parse(cls, text: str) -> "Meter":
        """``"3/4"`` -> Meter(3, 4); a meter the model cannot write raises :class:`GenerationError`."""
        top, slash, bottom = text.strip().partition("/")
        try:
            meter = cls(int(top), int(bottom))
        except ValueError:
            raise GenerationError(f"meter {text!r}: write it as N/D, e.g. 3/4 or 6/8") from None
        if not slash:
            raise GenerationError(f"meter {text!r}: write it as N/D, e.g. 3/4 or 6/8")
        BarPlan.of(meter.numerator, meter.denominator)  # raises for a meter the representation lacks
        return meter


def blank_score(meter: Meter, bpm: float, ticks_per_quarter: int = TICKS_PER_QUARTER, title: str = "") -> Score:
    """A piece with no notes: only a meter and a tempo (its bar grid goes on without end)."""
    if not MIN_BPM <= bpm <= MAX_BPM:
        raise GenerationError(f"tempo {bpm:g}: use {MIN_BPM:g} to {MAX_BPM:g} quarter notes per minute")
    BarPlan.of(meter.numerator, meter.denominator)
    return Score(
        ticks_per_quarter=ticks_per_quarter,
        tempos=(TempoChange(0, round(60_000_000 / bpm)),),
        time_signatures=(TimeSignature(0, meter.numerator, meter.denominator),),
        title=title,
    )


def generate_piece(
    model: MahlerNet,
    bars: int,
    *,
    meter: Meter = Meter(*DEFAULT_METER),
    bpm: float = DEFAULT_BPM,
    variations: int = 1,
    controls: Controls = Controls(),
    max_events: int = MAX_EVENTS,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Continuation:
    """``bars`` new bars from the START context, ``variations`` times; ``continued(i)`` (or
    ``variations[i].fragment``) is variation ``i`` as a whole piece."""
    blank = blank_score(meter, bpm)
    return continue_piece(
        model, blank, 0, bars, variations=variations, controls=controls, max_events=max_events, progress=progress, cancel=cancel
    )


def append_generated(score: Score, generated: Continuation, index: int) -> Score:
    """``score`` followed by variation ``index`` of ``generated`` (from the bar after its last bar)."""
    after = score.bar_count + 1 if score.notes_count else 1
    return edits.insert_bars(score, after, generated.variations[index].fragment, bars=generated.bars)


def meter_at_end(score: Score) -> Meter:
    """The meter in force at the end of ``score`` (where appended bars go)."""
    signature = score.time_signature_at(max(score.end_tick - 1, 0))
    return Meter(signature.numerator, signature.denominator)


def bpm_at_end(score: Score) -> float:
    return 60_000_000 / score.tempo_at(max(score.end_tick - 1, 0))
