"""What the generation panels ask for, as plain data (Qt-free).

The panels fill these from their controls and emit them; the generation integration turns them into
calls of ``core.generation``. Bars are numbered from 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from core.representation.events import PROPERTIES

DEFAULT_TEMPERATURE = 1.0


@dataclass(frozen=True)
class Temperatures:
    """Sampling temperature per event property (1.0 = as trained; lower = safer, higher = wilder)."""

    offset: float = DEFAULT_TEMPERATURE
    duration: float = DEFAULT_TEMPERATURE
    pitch: float = DEFAULT_TEMPERATURE
    instrument: float = DEFAULT_TEMPERATURE
    velocity: float = DEFAULT_TEMPERATURE

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not value > 0:
                raise ValueError(f"temperature of {field.name} must be above 0, not {value}")

    def as_tuple(self) -> tuple[float, ...]:
        """In the order of PROPERTIES (the CLI's ``--temperatures o,d,p,i,v``)."""
        return tuple(getattr(self, name) for name in PROPERTIES)


@dataclass(frozen=True)
class ContinueRequest:
    """Continue after ``seed_last`` for ``bars`` bars, ``variations`` times."""

    model: str
    seed_first: int
    seed_last: int
    context: tuple[int, int] | None  # first and last context bar, or None
    bars: int
    variations: int
    seeded: bool  # True: the first new bar's latent comes from the seed bars; False: from the prior
    temperatures: Temperatures
    allowed_instruments: tuple[int, ...] | None  # instrument classes; None = those of the seed and context bars
    random_seed: int
    top_p: float = 0.8  # nucleus sampling: 1 = off (core.generation.Controls's default)
    latent: str = "prior"  # how each new bar's z is chosen: prior, standard or rerank (core.generation.latent)
    attributes: tuple[tuple[str, float], ...] = ()  # (attribute, vector lengths) added to the codes

    @property
    def first_new_bar(self) -> int:
        return self.seed_last + 1


@dataclass(frozen=True)
class InterpolateRequest:
    """Decode ``steps`` points from bar ``bar_a`` to bar ``bar_b``, both ends included."""

    model: str
    bar_a: int
    bar_b: int
    steps: int
    method: str  # "linear" or "slerp"
    random_seed: int
    attributes: tuple[tuple[str, float], ...] = ()  # (attribute, vector lengths) added to both ends' codes

    def __post_init__(self) -> None:
        if self.method not in ("linear", "slerp"):
            raise ValueError(f"interpolation method {self.method!r} is not linear or slerp")
        if self.steps < 2:
            raise ValueError("an interpolation needs at least two steps (both ends)")


@dataclass(frozen=True)
class GenerateRequest:
    """A new piece (or bars appended to the open one) from the model's opening context."""

    model: str
    bars: int
    numerator: int
    denominator: int
    bpm: float
    append: bool  # True: after the open piece's last bar (its meter and tempo); False: a new piece
    random_seed: int
    attributes: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ArrangeRequest:
    """Arrange ``progression`` (chord names as typed) with one held style, ``variations`` times; Keep
    puts the result before bar ``at_bar`` (the bar after the selection, or after the piece)."""

    model: str
    progression: str
    chords_per_bar: int  # 1 or 2
    style_bar: int | None  # the bar whose latent code is held; None = drawn from the model's prior
    at_bar: int | None  # where Keep puts it; None = after the piece's last bar
    variations: int
    temperatures: Temperatures
    allowed_instruments: tuple[int, ...] | None  # None = the style bar's, or each variation's first bar's
    random_seed: int
    top_p: float = 0.8
    attributes: tuple[tuple[str, float], ...] = ()  # (attribute, vector lengths) added to the held code

    def __post_init__(self) -> None:
        if self.chords_per_bar not in (1, 2):
            raise ValueError(f"{self.chords_per_bar} chords per bar: 1 or 2")
