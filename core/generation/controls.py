"""The composer's controls over sampling: temperature per property, allowed instruments, playable
ranges and the random seed.

*Temperature* divides a property's logits before sampling: below 1 the model plays safe, above 1 it
takes risks, 0 always takes the most likely class (greedy decoding, used for reconstruction). The
original MahlerNet read one temperature per property from its configuration (the paper used about 0.9
for its classical sets and 0.6 for Mahler); here each is a control.

*Top-p* (nucleus sampling) samples each property only among its most likely classes whose
probabilities (at the temperature) add up to ``top_p``: the unlikely tail, where a wrong note or a
stray instrument comes from, is cut, while the choice among plausible classes stays free. 1 = off.

*Latent*: how each new bar's code z is chosen. ``prior`` draws it from the model's prior, which is
``p(z | context)`` for a model with a learned prior (it agrees with the piece) and N(0, I) otherwise;
``standard`` draws from N(0, I) whatever the model (the original MahlerNet); ``rerank`` draws
``candidates`` codes from the prior, decodes each and keeps the bar whose own code the model finds
most in line with its context (the smallest KL from the decoded bar's posterior to the prior).
``z_scale`` multiplies the prior's spread: below 1 the bars stay closer to what the context predicts.

*Latent shift*: an offset added to every new bar's code z (the seed's encoded code, a prior draw, both
ends of an interpolation): the sum of the composer's attribute vectors times their amounts
(:mod:`core.model.attributes`). None = no shift.

*Allowed instruments* restrict the instrument classes that may be sampled (the composer asks for
strings only, say). For a continuation, ``None`` means the instruments heard in the seed and context
bars (a string quartet stays a string quartet); the composer widens them by naming more, or all. *Playable ranges* keep every note within what its instrument can play: before the
pitch is sampled, pitches no allowed instrument can play are masked; before the instrument is sampled,
instruments that cannot play the sampled pitch are masked. Pitch comes before instrument in the output
chain, so these two masks together guarantee both rules (some allowed instrument can always play the
pitch).

Playable range table (MIDI note numbers, *sounding* pitch, middle C = 60). The orchestral figures are
the usual professional ranges given by orchestration texts (S. Adler, *The Study of Orchestration*,
3rd ed., 2002, range charts; W. Piston, *Orchestration*, 1955), with written ranges of transposing
instruments converted to sounding pitch; a class that folds several General MIDI programs together
takes the union of their ranges. Keyboards, guitars, basses and synthesizers use their instruments'
physical compass. Everything is clipped to the representation's pitch range (MIDI 17-112).

=====  ===============  =========  ======================================================================
class  name             range      basis
=====  ===============  =========  ======================================================================
0      Piano            21-108     88-key piano A0-C8 (also celesta, glockenspiel, xylophone, bells)
1      Organ            24-108     manuals and pedals C1-C8 (accordion and harmonica lie inside)
2      Guitar           40-88      six strings, E2 to the 24th fret E6 (also harp-like plucked GM sets)
3      Bass             28-67      four-string bass E1-G4 (sounding, an octave below written)
4      Violin           55-103     G3 to G7
5      Viola            48-91      C3 to G6
6      Cello            36-84      C2 to C6
7      Contrabass       28-67      E1 to G4 sounding (written E2-G5)
8      Strings          28-103     string section: contrabass low E1 to violin high G7
9      Timpani          38-60      D2 (32-inch drum) to C4 (piccolo timpano)
10     Choir            40-84      bass E2 to soprano C6
11     Trumpet          52-84      B-flat trumpet, written F#3-D6, sounding E3-C6
12     Trombone         34-77      bass trombone B-flat1 to tenor trombone F5
13     Tuba             26-65      D1 to F4
14     French horn      35-77      F horn, written F#2-C6, sounding B1-F5
15     Brass section    34-84      union of trombone and trumpet
16     Saxophone        36-87      baritone (C2) to soprano (E-flat6), sounding
17     English horn     52-93      English horn sounding E3 and oboe up to A6
18     Bassoon          34-76      B-flat1 to E5
19     Clarinet         50-94      B-flat clarinet, written E3-C7, sounding D3-B-flat6
20     Flute            60-108     flute C4-D7 and piccolo up to C8 (sounding), recorders inside
21     Synth lead       24-108     a five-octave-plus synthesizer keyboard, C1-C8
22     Synth pad        24-108     as synth lead
=====  ===============  =========  ======================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Iterable, Sequence

import numpy as np

from core.errors import GenerationError
from core.representation.events import LOWEST_PITCH, N_INSTRUMENTS, N_PITCHES, PROPERTIES
from core.representation.instruments import DRUM_KEYS, MAHLERNET, InstrumentTable

DEFAULT_TEMPERATURE = 1.0
LATENTS = ("prior", "standard", "rerank")
MAX_CANDIDATES = 16

# (lowest, highest) sounding MIDI pitch per instrument class of the MahlerNet table (see the docstring).
PLAYABLE_RANGES: tuple[tuple[int, int], ...] = (
    (21, 108), (24, 108), (40, 88), (28, 67), (55, 103), (48, 91), (36, 84), (28, 67),
    (28, 103), (38, 60), (40, 84), (52, 84), (34, 77), (26, 65), (35, 77), (34, 84),
    (36, 87), (52, 93), (34, 76), (50, 94), (60, 108), (24, 108), (24, 108),
)  # fmt: skip
assert len(PLAYABLE_RANGES) == N_INSTRUMENTS


def playable_ranges(table: InstrumentTable) -> tuple[tuple[int, int], ...]:
    """:data:`PLAYABLE_RANGES` for the classes of ``table``: a drum class plays the General MIDI
    percussion keys (35-81). The other classes of the tables we ship keep their ranges (a class that
    takes in more programs holds their ranges, see :mod:`core.representation.instruments`)."""
    if table.drum_class is None:
        return PLAYABLE_RANGES
    ranges = list(PLAYABLE_RANGES)
    ranges[table.drum_class] = DRUM_KEYS
    return tuple(ranges)


@dataclass(frozen=True)
class Temperatures:
    """Sampling temperature per property; 0 = always the most likely class."""

    offset: float = DEFAULT_TEMPERATURE
    duration: float = DEFAULT_TEMPERATURE
    pitch: float = DEFAULT_TEMPERATURE
    instrument: float = DEFAULT_TEMPERATURE
    velocity: float = DEFAULT_TEMPERATURE

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= float(value) <= 10.0:
                raise GenerationError(f"temperature of {f.name} is {value}; use a value from 0 to 10")
            object.__setattr__(self, f.name, float(value))

    @classmethod
    def uniform(cls, value: float) -> "Temperatures":
        return cls(*(value,) * len(PROPERTIES))

    @classmethod
    def greedy(cls) -> "Temperatures":
        return cls.uniform(0.0)

    @classmethod
    def parse(cls, text: str) -> "Temperatures":
        """``"0.9"`` (all five) or ``"o,d,p,i,v"`` such as ``"1,0.9,0.8,1,1"``."""
        parts = [p.strip() for p in text.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise GenerationError(f"temperatures {text!r}: expected numbers such as 0.9 or 1,0.9,0.8,1,1") from None
        if len(values) == 1:
            return cls.uniform(values[0])
        if len(values) != len(PROPERTIES):
            raise GenerationError(f"temperatures {text!r}: give one value or five (offset,duration,pitch,instrument,velocity)")
        return cls(*values)

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in PROPERTIES)

    def hotter_offset(self, step: float) -> "Temperatures":
        """The same temperatures with the offset's raised by ``step`` (a retry of an empty bar)."""
        return Temperatures(self.offset + step, self.duration, self.pitch, self.instrument, self.velocity)


def instrument_classes(names: Iterable[str | int], table: InstrumentTable = MAHLERNET) -> frozenset[int]:
    """Instrument classes from names ("violin", "Flute"), class numbers or GM programs written
    ``program:40``; unknown names raise :class:`GenerationError` listing the known ones."""
    by_name = {name.lower(): index for index, name in enumerate(table.names)}
    chosen: set[int] = set()
    for item in names:
        if isinstance(item, int):
            index: int | None = item
        else:
            text = item.strip().lower()
            if not text:
                continue
            if text.startswith("program:"):
                try:
                    index = table.class_of(int(text.split(":", 1)[1]))
                except (ValueError, IndexError):
                    index = None
                if index is None:
                    raise GenerationError(f"instrument {item!r}: not a General MIDI program the model plays")
            elif text.isdigit():
                index = int(text)
            else:
                index = by_name.get(text)
                if index is None:
                    known = ", ".join(n.lower() for n in table.names)
                    raise GenerationError(f"unknown instrument {item!r} (known: {known})")
        if not 0 <= index < N_INSTRUMENTS:
            raise GenerationError(f"instrument class {index} is outside 0-{N_INSTRUMENTS - 1}")
        chosen.add(index)
    return frozenset(chosen)


@dataclass(frozen=True)
class Controls:
    """Everything the composer sets for one generation.

    ``instruments`` = None allows every class (a continuation narrows it to the seed's and context's
    instruments first); ``clamp_ranges`` applies :data:`PLAYABLE_RANGES`; ``seed`` makes the music
    reproducible (variation ``i`` uses ``seed + i``); ``top_p``, ``latent``, ``z_scale`` and
    ``candidates``, ``latent_shift``: see the module docstring.
    """

    temperatures: Temperatures = Temperatures()
    instruments: frozenset[int] | None = None
    clamp_ranges: bool = True
    seed: int = 0
    ranges: tuple[tuple[int, int], ...] = PLAYABLE_RANGES
    # Defaults chosen on the validation works with benchmarks/musicality.py (bundled continuation
    # model, 24 works): notes in key 0.874 at (top_p 0.9, z_scale 0.5), 0.909 at (0.8, 0.3), with the
    # same overlap with the real bars (0.70) and variations still apart (note F1 between two: 0.22).
    top_p: float = 0.8
    latent: str = "prior"
    z_scale: float = 0.3
    candidates: int = 4
    latent_shift: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.instruments is not None:
            object.__setattr__(self, "instruments", frozenset(int(i) for i in self.instruments))
            if not self.instruments:
                raise GenerationError("no instrument is allowed: allow at least one")
            if any(not 0 <= i < N_INSTRUMENTS for i in self.instruments):
                raise GenerationError(f"an allowed instrument class is outside 0-{N_INSTRUMENTS - 1}")
        if len(self.ranges) != N_INSTRUMENTS:
            raise GenerationError(f"a range table needs {N_INSTRUMENTS} entries")
        if not 0 <= self.seed < 2**63 - 1024:
            raise GenerationError(f"seed {self.seed} is outside 0-{2**63 - 1025}")
        if not 0.0 < float(self.top_p) <= 1.0:
            raise GenerationError(f"top-p {self.top_p}: use a value above 0 and at most 1 (1 = off)")
        if self.latent not in LATENTS:
            raise GenerationError(f"latent {self.latent!r}: use one of {', '.join(LATENTS)}")
        if not 0.0 <= float(self.z_scale) <= 4.0:
            raise GenerationError(f"z scale {self.z_scale}: use a value from 0 to 4")
        if not 1 <= int(self.candidates) <= MAX_CANDIDATES:
            raise GenerationError(f"{self.candidates} candidates: use 1 to {MAX_CANDIDATES}")
        if self.latent_shift is not None:
            shift = tuple(float(x) for x in self.latent_shift)
            if not all(np.isfinite(shift)):
                raise GenerationError("the latent shift holds a value that is not a finite number")
            object.__setattr__(self, "latent_shift", shift)

    def for_table(self, table: InstrumentTable) -> "Controls":
        """These controls for a model of instrument ``table``: the default ranges become the table's
        (:func:`playable_ranges`); ranges the caller set are kept."""
        if self.ranges != PLAYABLE_RANGES:
            return self
        return dataclasses.replace(self, ranges=playable_ranges(table))

    def instrument_mask(self) -> np.ndarray:
        """(23,) bool: classes that may be sampled."""
        mask = np.zeros(N_INSTRUMENTS, bool)
        mask[list(self.instruments) if self.instruments is not None else slice(None)] = True
        return mask

    def range_table(self) -> np.ndarray:
        """(96, 23) bool: pitch index ``p`` is playable by class ``c`` (all True without clamping)."""
        if not self.clamp_ranges:
            return np.ones((N_PITCHES, N_INSTRUMENTS), bool)
        midi = np.arange(N_PITCHES)[:, None] + LOWEST_PITCH
        low = np.array([r[0] for r in self.ranges])[None, :]
        high = np.array([r[1] for r in self.ranges])[None, :]
        return (midi >= low) & (midi <= high)

    def pitch_mask(self) -> np.ndarray:
        """(96,) bool: pitches some allowed instrument can play."""
        return (self.range_table() & self.instrument_mask()[None, :]).any(axis=1)


def playable(pitch: int, instrument: int, ranges: Sequence[tuple[int, int]] = PLAYABLE_RANGES) -> bool:
    """True when MIDI ``pitch`` lies within the range of instrument class ``instrument``."""
    low, high = ranges[instrument]
    return low <= pitch <= high
