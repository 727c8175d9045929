"""Normalisation of starts and durations (spec 2.5): every note of a meter section gets duration
classes and a start on a grid those classes allow.

For each note the normaliser picks a *playing strategy* from the note's track (was the previous note
duple or triplet, is this one attached to it), the tempo (fast music loses 32nds and 16ths, slow music
keeps 32nds) and the instrument (strings and timpani lose the finest values). The strategy excludes
some basic values; the classes left, filtered by their placement rules, are the *allowed list*. The six
allowed classes around the played length are scored by how far the note's length and end would move,
how rare the class is and how far the start must move to sit on the class's grid; the best wins.

No played note vanishes (issue #15; the original "quantised to nothing" every 16th of a 6/8 piece,
where a 16th is a triplet 16th of the dotted-quarter q*, and half those of 2/2 or fast 4/4): a note
whose length already is a class of the meter keeps it, its start moved to that class's grid, whatever
the strategy excludes; and a note the strategy would drop snaps to the nearest class of the meter.
Classes holding t16 then serve as durations too (a 16th in 6/8); the vocabulary is unchanged.

Notes longer than the longest class are split at barlines (and at the segment boundaries of long
bars, see :mod:`core.representation.meters`) into partials that are re-articulated.

Speed: the original re-derived the allowed list for every note. Here the choice for a partial is a
pure function of (kind, start modulo 8 q*, whether the start is near 0, played length, distance to the
boundary, excluded values), so it is cached per meter and resolution and shared by every file a
process encodes; quantised scores hit the cache almost always. The original's preprocessor took
~32 s for the 619-file corpus, two thirds of it re-deriving allowed lists; encoding it now takes
~2-2.9 CPU seconds in all (``benchmarks/preprocess.py --breakdown``, figures in
``benchmarks/README.md``). The cache's key for a one-partial note is one integer computed for the
whole section with numpy, and the playing strategy's masks one table lookup (``Normalizer._mask_table``).

Fixed against the original (spec section 6): the track status records the true end of a split note
(item 5; the original forgot its middle bars), and the cost counts ticks as at 480 per q* (item 3: the
original added ticks of the file to constants, so the same music came out differently at 96 ticks per
quarter or in 6/8). Beyond the original's meters, grids count from the barline, not the section start
(a 5/8 bar starts half a q* off the quarter grid every other bar).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from core.preprocess.tokenize import Tokens
from core.representation.events import N_INSTRUMENTS
from core.representation.meters import Meter
from core.representation.vocabulary import (
    BASIC_UNITS,
    CLASS_OF_UNITS,
    CLASSES,
    HALF_BEAT_UNITS,
    TRIPLET_VALUES,
    UNITS_PER_QUARTER,
)

FREE, END_AT, FROM_BOUNDARY, FIXED = 0, 1, 2, 3

FAST_TEMPO = 300_000  # µs per quarter: faster than 200 bpm
SLOW_TEMPO = 900_000  # slower than 66.7 bpm
FAST, STANDARD, SLOW = 0, 1, 2

# Bits of the excluded basic values.
_BIT = {name: 1 << index for index, name in enumerate(BASIC_UNITS)}
D32, D16, T16 = _BIT["d32"], _BIT["d16"], _BIT["t16"]
ALL_TRIPLETS = sum(_BIT[name] for name in TRIPLET_VALUES)
STRING_LIKE = frozenset((2, 4, 5, 6, 7, 8, 9))  # guitar, violin .. strings, timpani
TIMPANI = 9
_CLASS_MASK = tuple(sum(_BIT[c] for c in cls.components) for cls in CLASSES)

PERIOD_UNITS = 8 * UNITS_PER_QUARTER  # every grid and placement rule repeats within 8 q*
REFERENCE_QSTAR_TICKS = 480  # the resolution of a q* at which the cost constants were set
MAX_SHIFT_UNITS = 9  # a start may move less than 1.5 sixteenths of a q* (3/8 q* = 9 units)
FAILED = None
MAX_CACHED = 400_000  # choices kept per meter and resolution (about 50 MB at most)


def _trials(index: int) -> tuple[tuple[int, int], ...]:
    """(offset, grid) pairs in units: the start + offset is snapped to the grid; see spec 2.5 step 5."""
    cls = CLASSES[index]
    units = [BASIC_UNITS[c] for c in cls.components]
    largest = max(units)
    trials = [(0, largest)]
    smaller = [u for u in units if u != largest]
    if len(units) >= 2:
        trials.extend((u, largest) for u in smaller)
    if len(units) == 3:
        trials.append((sum(smaller), largest))
    if len(units) == 1 and largest >= BASIC_UNITS["t4"]:
        trials.append((0, largest // 2))
    return tuple(trials)


_TRIALS = tuple(_trials(i) if i else () for i in range(len(CLASSES)))


def tempo_class(us_per_quarter: int) -> int:
    if us_per_quarter < FAST_TEMPO:
        return FAST
    if us_per_quarter > SLOW_TEMPO:
        return SLOW
    return STANDARD


# ------------------------------------------------------------------------ the playing strategy
# Spec 2.5 step 2: which basic values a note may not use depends on the note before it in its track,
# the tempo and the instrument. Each track keeps a *status* of its last note, a list
# [type, start, end, previous type], where a type says how a note ended (step 8):
ENDED_ON_GRID, ENDED_TRIPLET, ENDED_DUPLE = 0, 1, 2  # on the q*/2 grid; off it, in a triplet or a duple value
SEPARATE = -1  # the note is attached to no earlier note
TYPE, START, END, PREVIOUS_TYPE = range(4)  # the fields of a status


def new_status() -> list[int]:
    """The status of a track before its first note."""
    return [ENDED_ON_GRID, 0, 0, ENDED_ON_GRID]


def attached_type(status: list[int], start: int, attach: float) -> int:
    """How the note a new note at ``start`` is attached to ended, or :data:`SEPARATE`. Attached means
    starting less than ``attach`` ticks after the last note's start (a chord member: its own
    predecessor's type counts) or after its end (a following note); overlapping notes are attached."""
    if start - status[START] < attach:
        return status[PREVIOUS_TYPE]
    if start - status[END] < attach:
        return status[TYPE]
    return SEPARATE


def excluded_values(compound: bool, attached: int, speed: int, instrument: int) -> int:
    """Bit mask of the basic values a note may not use: what follows from the note it is attached to
    and the tempo, what its instrument does not play, and what no strategy keeps."""
    return _excluded_by_rhythm(compound, attached, speed) | _excluded_by_instrument(instrument) | _excluded_always(speed)


def _excluded_by_rhythm(compound: bool, attached: int, speed: int) -> int:
    """Triplet music (a compound meter, or attached to a triplet) has no duple subdivisions; duple
    music (attached to a duple ending) no triplets; fast music no fine values either way. (The spec
    lists a strings rule under duple music too; it is :func:`_excluded_by_instrument`'s, which always
    applies.)"""
    if compound or attached == ENDED_TRIPLET:
        return D32 | D16 | (T16 if speed == FAST else 0)
    if attached == ENDED_DUPLE:
        return ALL_TRIPLETS | {FAST: D32 | D16, STANDARD: D32, SLOW: 0}[speed]
    return D32 | T16 | D16 if speed == FAST else 0


def _excluded_by_instrument(instrument: int) -> int:
    """Guitar, strings and timpani play no 32nds or triplet 16ths; timpani no 16ths either."""
    if instrument == TIMPANI:
        return D32 | T16 | D16
    if instrument in STRING_LIKE:
        return D32 | T16
    return 0


def _excluded_always(speed: int) -> int:
    """Never a triplet 16th (as a duration); a 32nd only in slow music."""
    return T16 | (0 if speed == SLOW else D32)


def record_note(status: list[int], note_start: int, note_end: int, ending: int) -> None:
    """Record a kept note in its track's ``status`` (spec 2.5 step 8), ``ending`` its type: a chord
    member that ends sooner replaces the last note's ending; a note that follows the last note
    directly becomes the last note, remembering the type before it; a later note starts afresh."""
    if note_start == status[START] and note_end < status[END]:
        status[TYPE], status[END] = ending, note_end
    elif note_start == status[END]:
        status[PREVIOUS_TYPE], status[TYPE], status[START], status[END] = status[TYPE], ending, note_start, note_end
    elif note_start > status[END]:
        status[PREVIOUS_TYPE], status[TYPE], status[START], status[END] = ENDED_ON_GRID, ending, note_start, note_end


class Normalizer:
    """Chooses classes for the notes of sections of one meter at one resolution (``unit`` ticks per
    1/24 q*). Holds the caches; one instance per (meter, unit) is shared through :func:`normalizer_for`."""

    def __init__(self, meter: Meter, unit: int):
        self.meter = meter
        self.unit = unit
        self.half_beat = HALF_BEAT_UNITS * unit
        self.attach = self.half_beat / 4  # E/4: closer than this to the previous note = attached
        self.tolerance = UNITS_PER_QUARTER * unit / 16
        self.max_shift = MAX_SHIFT_UNITS * unit
        self.period = PERIOD_UNITS * unit
        self.max_ticks = meter.max_units * unit
        self.bar_ticks = meter.bar_units * unit
        self.segments = tuple(s * unit for s in meter.segments)
        # Grids count from the section start, as the original did; the meters beyond the original's
        # have bars that are no whole number of the longer grids (5/8, 7/8) or are long (5/4, 7/4),
        # so there they count from the barline.
        self.bar_relative = not meter.original
        # The cost of a class adds ticks of change to a constant per frequency class. The original
        # counted the ticks of the file, so the same music chose other classes at another resolution
        # or in a meter with another q* (spec 6.3, mixed units); here ticks count as at 480 per q*.
        self.scale = REFERENCE_QSTAR_TICKS / (UNITS_PER_QUARTER * unit)
        self.class_ticks = tuple(c.units * unit for c in CLASSES)
        self._base: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self._choices: dict[tuple, tuple[int, int] | None] = {}
        self._masks: list[list[int]] | None = None  # _mask_table(), built at the first section
        self._free_choices: dict[int, tuple[int, int] | None] = {}
        self._meter_classes = frozenset(meter.classes)

    # ---------------------------------------------------------------------------------- geometry
    def next_boundary(self, position: int) -> int:
        """The first barline or segment boundary after ``position`` (range ticks)."""
        bar, within = divmod(position, self.bar_ticks)
        edge = 0
        for length in self.segments:
            edge += length
            if edge > within:
                return bar * self.bar_ticks + edge
        return (bar + 1) * self.bar_ticks  # unreachable: the segments add up to the bar

    def segment_at(self, boundary: int) -> int:
        """Length of the segment that starts at ``boundary``."""
        within = boundary % self.bar_ticks
        edge = 0
        for length in self.segments:
            if edge == within:
                return length
            edge += length
        return self.segments[0]

    def split(self, start: int, duration: int) -> list[tuple[int, int, int, int]]:
        """Partials (kind, start, length, fixed class) of a note; see spec 2.5 step 1."""
        if duration <= self.max_ticks:
            return [(FREE, start, duration, 0)]
        boundary = self.next_boundary(start)
        pre = boundary - start
        segment = self.segment_at(boundary)
        if pre + segment <= self.max_ticks:
            pre += segment
            boundary += segment
        rest = duration - pre
        middles: list[tuple[int, int]] = []
        while True:
            segment = self.segment_at(boundary)
            if rest < segment:
                break
            middles.append((boundary, segment))
            rest -= segment
            boundary += segment
        if middles and rest + middles[-1][1] <= self.max_ticks:
            boundary, segment = middles.pop()
            rest += segment
        partials = [(END_AT, start, pre, 0)]
        for position, length in middles:
            partials.append((FIXED, position, length, CLASS_OF_UNITS[length // self.unit]))
        if rest > 0:
            partials.append((FROM_BOUNDARY, boundary, rest, 0))
        return partials

    # ------------------------------------------------------------------------------- the choice
    def _allowed_base(self, mask: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        base = self._base.get(mask)
        if base is None:
            classes = tuple(
                c for c in self.meter.classes if c and not _CLASS_MASK[c] & mask and CLASSES[c].placement != "never"
            )
            base = (classes, tuple(self.class_ticks[c] for c in classes))
            self._base[mask] = base
        return base

    def choose(self, kind: int, start: int, length: int, mask: int) -> tuple[int, int] | None:
        """(class, start adjustment) for one partial starting at ``start`` (section ticks), or None
        when every candidate is ruled out."""
        grid_position = start % self.bar_ticks if self.bar_relative else start
        key = (kind, grid_position % self.period, start if start < self.max_shift else -1, length, mask)
        try:
            return self._choices[key]
        except KeyError:
            pass
        result = self._choose(kind, start, length, mask)
        if len(self._choices) > MAX_CACHED:
            self._choices.clear()
        self._choices[key] = result
        return result

    def _placed(self, index: int, start: int) -> bool:
        placement = CLASSES[index].placement
        if placement == "any":
            return True
        if placement in ("never", "t16"):
            return False
        modulus, remainder = placement  # type: ignore[misc]
        return abs(remainder * self.unit - start % (modulus * self.unit)) <= self.tolerance

    def _choose(self, kind: int, start: int, length: int, mask: int) -> tuple[int, int] | None:
        grid_position = start % self.bar_ticks if self.bar_relative else start
        if kind == FREE:
            exact = self._exact(start, length, grid_position)
            if exact is not None:
                return exact
        classes, ticks = self._allowed_base(mask)
        allowed = [0] + [c for c in classes if self._placed(c, grid_position)]
        lengths = [0] + [self.class_ticks[c] for c in allowed[1:]]
        position = bisect.bisect_left(lengths, length)
        if position == len(lengths):
            center = position - 1
        elif lengths[position] == length:
            center = position
        else:
            lower, upper = lengths[position - 1], lengths[position]
            center = position - 1 if length - lower <= upper - length else position
        best: tuple | None = None
        for order, index in enumerate(allowed[max(0, center - 3) : center + 3]):
            class_ticks = self.class_ticks[index]
            if index == 0 or kind == FROM_BOUNDARY:
                shift = 0
            elif kind == END_AT:
                shift = length - class_ticks
            else:
                shift = self._shift(index, grid_position)
            if abs(shift) >= self.max_shift or start + shift < 0:
                continue
            score = _score(class_ticks - length, shift, index, self.scale)
            cls = CLASSES[index]
            rank = (score, index == 0, not cls.is_single, cls.is_triplet_based, order)
            if best is None or rank < best[0]:
                best = (rank, index, shift)
        if kind == FREE and length > 0 and (best is None or best[1] == 0):
            return self._nearest(start, length)
        if best is None:
            return FAILED
        return best[1], best[2]

    def _exact(self, start: int, length: int, grid_position: int) -> tuple[int, int] | None:
        """(class, shift) of a note whose length already is one of the meter's values: it keeps that
        value whatever the playing strategy excludes, and its start moves to the value's grid (the
        nearest point, less than 3/8 q* away). Such notes come from quantised files, played on the
        grid or all shifted alike (a file 0.1 quarter late): there is no value to guess, only the
        start to put back. The original turned 16ths of fast music into triplet eighths or dropped
        them, and the notes of a late file into a mix of duple and triplet values whose onsets no
        offset class could then express."""
        index = CLASS_OF_UNITS.get(length // self.unit) if length % self.unit == 0 else None
        if not index or index not in self._meter_classes or CLASSES[index].placement == "never":
            return None
        shift = self._shift(index, grid_position)
        if abs(shift) >= self.max_shift or start + shift < 0:
            return None
        if CLASSES[index].placement != "t16" and not self._placed(index, grid_position + shift):
            return None
        return index, shift

    def _nearest(self, start: int, length: int) -> tuple[int, int] | None:
        """The rescue of a played note that the strategy's classes would drop: the cheapest class of
        the meter, whatever the strategy excludes (a 16th in 6/8 is a t16, in 2/2 a d32, in fast 4/4 a
        d16), with only the placement rules kept. The original let such notes vanish ("quantised to
        nothing"): a 6/8 movement lost every 16th, and a 16th played 0.1 quarter late cost more to move
        back onto its grid than to drop. Here the length counts twice the start: a late 16th stays a
        16th on the grid rather than a 32nd near where it was played. None only when no class fits
        near the start."""
        grid_position = start % self.bar_ticks if self.bar_relative else start
        best: tuple | None = None
        for index in self.meter.classes:
            placement = CLASSES[index].placement
            if not index or placement == "never" or (placement != "t16" and not self._placed(index, grid_position)):
                continue
            shift = self._shift(index, grid_position)
            if abs(shift) >= self.max_shift or start + shift < 0:
                continue
            rank = (2 * abs(self.class_ticks[index] - length) + abs(shift), CLASSES[index].frequency, index)
            if best is None or rank < best[0]:
                best = (rank, index, shift)
        return None if best is None else (best[1], best[2])

    def _shift(self, index: int, start: int) -> int:
        """Smallest move of ``start`` that puts a note of class ``index`` on its grid (step 5)."""
        unit = self.unit
        best = None
        for offset, grid in _TRIALS[index]:
            grid_ticks = grid * unit
            rest = (start + offset * unit) % grid_ticks
            shift = -rest if rest <= grid_ticks - rest else grid_ticks - rest
            if best is None or abs(shift) < abs(best):
                best = shift
        return best  # type: ignore[return-value]

    # ------------------------------------------------------------------------------ a section
    def _mask_table(self) -> list[list[int]]:
        """:func:`excluded_values` for every attached type (+ 1: :data:`SEPARATE` first), then every
        (speed, instrument) profile (``speed * N_INSTRUMENTS + instrument``), so the loop just indexes."""
        compound = self.meter.compound
        return [
            [excluded_values(compound, attached, speed, i) for speed in (FAST, STANDARD, SLOW) for i in range(N_INSTRUMENTS)]
            for attached in (SEPARATE, ENDED_ON_GRID, ENDED_TRIPLET, ENDED_DUPLE)
        ]

    def normalize(self, tokens: Tokens, low: int, high: int, origin: int) -> SectionNotes:
        """Normalise tokens ``low:high`` of one section (their starts minus ``origin`` are section ticks)."""
        masks = self._masks
        if masks is None:
            masks = self._masks = self._mask_table()
        count = high - low
        start_array = tokens.start[low:high] - origin
        length_array = tokens.duration[low:high]
        tempo = tokens.tempo[low:high]
        speed = np.where(tempo < FAST_TEMPO, FAST, np.where(tempo > SLOW_TEMPO, SLOW, STANDARD))
        # Everything of a one-partial note's cache key but the mask, as one number per note.
        grid = start_array % self.bar_ticks if self.bar_relative else start_array
        near = np.minimum(start_array, self.max_shift)
        if self.period * (self.max_ticks + 1) * (self.max_shift + 1) * _MASKS < 1 << 62:
            signature = ((grid % self.period) * (self.max_ticks + 1) + length_array) * (self.max_shift + 1) + near
            signature = np.where(length_array <= self.max_ticks, signature * _MASKS, -1)
        else:  # a huge resolution: the same numbers, in Python's unbounded integers
            parts = zip((grid % self.period).tolist(), length_array.tolist(), near.tolist())
            signature = np.array(
                [((g * (self.max_ticks + 1) + n) * (self.max_shift + 1) + z) * _MASKS if n <= self.max_ticks else -1
                 for g, n, z in parts],
                dtype=object,
            )  # fmt: skip
        lane = tokens.track[low:high]
        starts = start_array.tolist()
        signatures = signature.tolist()
        profiles = (speed * N_INSTRUMENTS + tokens.instrument[low:high]).tolist()
        lanes = lane.tolist()
        half_beat, attach = self.half_beat, self.attach
        class_ticks = self.class_ticks
        triplet = _TRIPLET_BASED
        choices = self._free_choices
        if len(choices) > MAX_CACHED:  # played-in music hits the cache rarely: keep memory bounded
            choices.clear()
        status = [new_status() for _ in range(int(lane.max()) + 1 if count else 0)]  # per track
        out_start = [0] * count
        out_class = [0] * count  # 0: dropped; -1: split into several partials (see `several`)
        several: dict[int, tuple[tuple[int, int], ...]] = {}
        failed = zero = 0
        for i in range(count):
            start = starts[i]
            st = status[lanes[i]]
            attached = attached_type(st, start, attach)
            key = signatures[i]
            if key >= 0:  # one free partial: the common case, inlined
                mask = masks[attached + 1][profiles[i]]
                key += mask
                choice = choices.get(key, _MISSING)
                if choice is _MISSING:
                    choice = choices[key] = self._choose(FREE, start, int(length_array[i]), mask)
                if choice is None:
                    failed += 1
                    continue
                index, shift = choice
                if not index:
                    zero += 1
                    continue
                note_start = start + shift
                note_end = note_start + class_ticks[index]
                last_class = index
                out_start[i] = note_start
                out_class[i] = index
            else:
                partials = self._long_note(start, int(length_array[i]), st, profiles[i])
                if partials is None:
                    failed += 1
                    continue
                if not partials:
                    zero += 1
                    continue
                note_start = partials[0][0]
                last_class = partials[-1][1]
                note_end = partials[-1][0] + class_ticks[last_class]
                out_class[i] = -1
                several[i] = partials
            if note_end % half_beat == 0:
                ending = ENDED_ON_GRID
            else:
                ending = ENDED_TRIPLET if triplet[last_class] else ENDED_DUPLE
            record_note(st, note_start, note_end, ending)
        classes = np.array(out_class, np.int64)
        kept = np.flatnonzero(classes != 0)
        single = np.flatnonzero(classes > 0)
        onsets = np.sort(lane[single] * _TRACK_KEY + np.array(out_start, np.int64)[single])
        chords = bool(np.any(onsets[1:] == onsets[:-1]))  # two one-partial notes of a track start together
        note_of = np.full(count, -1, np.int64)
        note_of[kept] = np.arange(len(kept))
        part_start = np.array(out_start, np.int64)[kept]
        part_class = classes[kept]
        part_note = np.arange(len(kept), dtype=np.int64)
        if several:
            extra = [(note_of[i], position, index) for i, partials in several.items() for position, index in partials]
            extra_note, extra_start, extra_class = (np.array(c, np.int64) for c in zip(*extra))
            single = part_class > 0
            part_note = np.concatenate([part_note[single], extra_note])
            part_start = np.concatenate([part_start[single], extra_start])
            part_class = np.concatenate([part_class[single], extra_class])
            order = np.argsort(part_note, kind="stable")
            part_note, part_start, part_class = part_note[order], part_start[order], part_class[order]
        return SectionNotes(
            token=low + kept,
            part_start=part_start,
            part_class=part_class,
            part_note=part_note,
            failed=failed,
            zero=zero,
            split=sum(1 for p in several.values() if len(p) > 1),
            chords=chords,
        )

    def _long_note(
        self, start: int, length: int, status: list[int], profile: int
    ) -> tuple[tuple[int, int], ...] | None:
        """Partials (start, class) of a note longer than the longest class; None when one fails."""
        speed, instrument = divmod(profile, N_INSTRUMENTS)
        partials: list[tuple[int, int]] = []
        for kind, position, part, fixed in self.split(start, length):
            if kind == FIXED:
                partials.append((position, fixed))
                continue
            mask = excluded_values(self.meter.compound, attached_type(status, position, self.attach), speed, instrument)
            choice = self.choose(kind, position, part, mask)
            if choice is None:
                return None
            index, shift = choice
            if index:
                partials.append((position + shift, index))
        return tuple(partials)


_MISSING = object()
_TRACK_KEY = 1 << 40  # section ticks stay far below this
_MASKS = 1 << len(BASIC_UNITS)  # excluded-value masks are below this
_TRIPLET_BASED = tuple(c.is_triplet_based for c in CLASSES)


@dataclass(frozen=True)
class SectionNotes:
    """The notes of a section after normalisation: ``token`` indexes the kept tokens; partial ``j``
    of note ``part_note[j]`` starts at ``part_start[j]`` (section ticks) with class ``part_class[j]``."""

    token: np.ndarray
    part_start: np.ndarray
    part_class: np.ndarray
    part_note: np.ndarray
    failed: int
    zero: int
    split: int
    chords: bool = True  # False: no two one-partial notes of a track start together (nothing to unify)


def _score(difference: int, shift: int, index: int, scale: float) -> float:
    """Cost of class ``index`` for a note whose length changes by ``difference`` and start by ``shift``
    (ticks); ``scale`` turns ticks into ticks of a q* of 480, the resolution the original's constants
    were made for."""
    frequency = CLASSES[index].frequency
    if difference == 0:
        distance = 0
    elif index == 0:
        distance = abs(difference)
    else:
        moved_end = difference + shift
        if (difference >= 0) == (moved_end >= 0) or moved_end == 0:
            distance = round((abs(difference) + abs(moved_end)) / 2)
        else:
            distance = round(abs(difference) / 2) + round(abs(moved_end) / 2)
    return (distance * (frequency + 1) + 4 * abs(shift)) * scale + 15 * frequency


_NORMALIZERS: dict[tuple[Meter, int], Normalizer] = {}


def normalizer_for(meter: Meter, unit: int) -> Normalizer:
    """The shared :class:`Normalizer` of a meter at ``unit`` ticks per 1/24 q* (caches persist)."""
    key = (meter, unit)
    normalizer = _NORMALIZERS.get(key)
    if normalizer is None:
        normalizer = _NORMALIZERS[key] = Normalizer(meter, unit)
    return normalizer
