"""The per-step sampling loop: decode one bar for each row of a batch (variations, interpolation points).

Each step runs the decoder once and samples offset, duration, pitch, instrument (and velocity) in the
order of the output chain, each conditioned on the ones before it: the one chain of
:func:`core.model.output_chain.run_chain` that training and scheduled sampling run too, here over the fast
decoder's tables or the network itself (:mod:`core.generation.step_decoders`). The onset time
advances by the sampled offset; the beat is recomputed from it in the bar's own meter. The bar ends,
as in the original (spec 5.3), when the time passes the barline: that event is dropped, except a
pause that reaches the barline exactly, which closes the bar as it does in the data (spec 2.10).

Fixed against the original (spec 5.3, 5.4 and section 6, item 10):

* Offsets and durations outside the meter's classes are *masked* before sampling instead of resampled
  without end; durations the representation never produces are masked too.
* A bar whose first event already passes the barline is decoded again with fresh noise and the offset
  temperature raised by 0.1, at most :data:`RETRIES` times; then it becomes an empty bar (pauses).
  So is a bar of pauses alone with nothing held into it, a bar of silence for the whole ensemble:
  0.1% of the corpus's bars (41 of 35,567), but 0.5% of what the bundled continuation model wrote
  from scratch (3 of 576 bars) before this rule, and to a composer a bar that failed.
* A bar holds at most :data:`~core.generation.bars.MAX_EVENTS` events.
* The members of a chord (offset 0) come in ascending pitch, as the representation orders them
  (spec 1.1), whatever the model's ``same_step_mask``, and a chord never holds one pitch twice on
  one instrument (the preprocessor drops such duplicates): a weak model cannot cycle through the
  same chord until the event cap.
* Notes sounding across barlines stay in the active pitches and instruments of the next bar
  (:class:`~core.generation.bars.Carry`), kept as per-pitch end times, so nothing can wrap around.

Randomness is per row: each row (variation ``i``: seed ``seed + i``) has its own :class:`Streams`, a
separate generator per bar and purpose (its z, its sampling noise at each attempt), so what one row
draws never depends on the other rows of the batch or on how long they take. Sampling is
``argmax(logits + T * gumbel)``, which is exact sampling from ``softmax(logits / T)`` and plain argmax
at ``T = 0``. A row therefore decodes the same music alone or in a batch: the fast decoder's products
give each row the same sums to the bit whatever the batch (:mod:`core.generation.fast.lstm`); the
network's own step (``decoder="network"``) may differ by float rounding, ~1e-6 relative, which would
have to fall on a near tie to change a choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from core.errors import Cancelled
from core.generation.bars import ACTIVE_WIDTH, MAX_EVENTS, BarPlan, Carry, NotesSounding, pause_fill
from core.generation.controls import Controls, Temperatures
from core.generation.fast.lstm import EVENT_COLUMNS, NONE_CLASS
from core.generation.fast.step import NEG, fast_decoder
from core.generation.step_decoders import NetworkSteps, StepDecoder, TableSteps
from core.model.network import DecoderState, MahlerNet
from core.model.output_chain import run_chain
from core.representation.events import N_BEATS, N_INSTRUMENTS, N_PITCHES, PROPERTIES, EventArrays
from core.representation.vocabulary import CLASS_UNITS_ARRAY, MAX_CLASS_UNITS

RETRIES = 3  # new attempts at a bar that came out empty or silent, before it becomes a rest
RETRY_HEAT = 0.1  # offset temperature added per attempt (the original's rule)
DEFAULT_VELOCITY_BIN = 3  # mp (MIDI 64, the original's fixed velocity) for a model without velocity


class Streams:
    """The random streams of one row: an independent ``torch.Generator`` per (bar, purpose), derived
    from the row's seed with NumPy's ``SeedSequence`` (purpose 0 = z, 1 + k = noise of attempt k)."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def generator(self, bar: int, purpose: int) -> torch.Generator:
        state = np.random.SeedSequence([self.seed, bar, purpose]).generate_state(2, np.uint32)
        return torch.Generator().manual_seed(int(state[0]) << 31 | int(state[1]) >> 1)

    def normal(self, bar: int, size: int) -> torch.Tensor:
        """The row's standard normal draw for the z of ``bar``."""
        return torch.randn(size, generator=self.generator(bar, 0))


def make_streams(seed: int, rows: int) -> list[Streams]:
    """One :class:`Streams` per row: row ``i`` uses seed ``seed + i``."""
    return [Streams(seed + i) for i in range(rows)]


@dataclass(frozen=True)
class DecodedBars:
    """One bar per row: its events and the notes sounding after it; ``attempts`` per row (1 = first
    try, more after empty bars; 0 = gave up and wrote a rest)."""

    events: list[EventArrays]
    carry: Carry
    attempts: list[int]

    def take(self, rows: Sequence[int]) -> "DecodedBars":
        """The bars of ``rows``, in that order."""
        return DecodedBars([self.events[r] for r in rows], self.carry.take(rows), [self.attempts[r] for r in rows])

    @classmethod
    def join(cls, parts: Sequence["DecodedBars"]) -> "DecodedBars":
        """The rows of ``parts``, one after another."""
        return cls([e for p in parts for e in p.events], Carry.stack([p.carry for p in parts]), [a for p in parts for a in p.attempts])

    def best_of(self, score: torch.Tensor) -> "DecodedBars":
        """Of candidates held row-major (``score`` is (rows, candidates)), each row's lowest-scoring
        one; a candidate that gave up (a rest) loses to any other."""
        rows, candidates = score.shape
        gave_up = torch.tensor([a == 0 for a in self.attempts], device=score.device).reshape(rows, candidates)
        best = (score + gave_up * 1e9).argmin(dim=1).tolist()
        return self.take([row * candidates + best[row] for row in range(rows)])


class Sampler:
    """Decodes bars with a model under the composer's controls (see the module docstring).

    The step loop runs on the CPU whatever the model's device: at batch sizes of 1 to ~10 a step is
    a few small matrix products and a few dozen tiny operations, which the CPU does faster than a
    round trip to an accelerator. The decoder step (:mod:`core.generation.fast.step`), the output chain and the
    bookkeeping run in NumPy on preallocated arrays, whose operations on tiny arrays cost a fraction
    of torch's per-call overhead; only the products of several rows and the embedding bag go
    through torch. ``decoder="network"`` runs the same loop on the network's own step and heads
    instead (:class:`~core.generation.step_decoders.NetworkSteps`, the reference the tables are
    tested against).
    """

    def __init__(self, model: MahlerNet, controls: Controls, max_events: int = MAX_EVENTS, decoder: str = "tables"):
        if decoder not in ("tables", "network"):
            raise ValueError(f"decoder {decoder!r}: use 'tables' or 'network'")
        controls = controls.for_table(model.config.instrument_table)  # a drum class plays drum keys
        self.model = model
        self.controls = controls
        self.max_events = max_events
        self.decoder = decoder
        self.velocity = model.config.use_velocity
        self.columns = 6 if self.velocity else 5
        # The instrument classes allowed per pitch (the instrument mask depends on the sampled pitch).
        self.playable = controls.range_table() & controls.instrument_mask()[None, :]
        self.pitch_bias = np.where(controls.pitch_mask(), 0.0, NEG).astype(np.float32)

    def _steps(self) -> StepDecoder:
        """A fresh step decoder for one run of the loop."""
        instrument_mask = np.where(self.playable, 0.0, NEG).astype(np.float32)
        if self.decoder == "network":
            return NetworkSteps(self.model, instrument_mask)
        return TableSteps(fast_decoder(self.model), instrument_mask)

    # ------------------------------------------------------------------------------------- public
    def decode(
        self,
        state: DecoderState,
        plans: Sequence[BarPlan],
        carry: Carry,
        streams: Sequence[Streams],
        bar: int = 0,
        temperatures: Temperatures | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> DecodedBars:
        """Decode one bar per row from the network's initial decoder ``state`` (from
        :meth:`MahlerNet.initial_state`); ``plans``, ``carry`` and ``streams`` have one entry per row;
        ``bar`` numbers this bar in the row's streams."""
        temperatures = temperatures or self.controls.temperatures
        state = DecoderState(state.h.detach().float().cpu(), state.c.detach().float().cpu(), state.condition.detach().float().cpu())
        rows = len(plans)
        events: list[EventArrays | None] = [None] * rows
        carries: list[Carry | None] = [None] * rows
        attempts = [0] * rows
        pending = list(range(rows))
        sounding = carry.sounding()  # a bar of pauses is silence only where nothing is held into it
        for attempt in range(RETRIES + 1):
            _check(cancel)
            heat = temperatures.hotter_offset(RETRY_HEAT * attempt) if attempt else temperatures
            index = torch.tensor(pending)
            sub_state = DecoderState(state.h[:, index], state.c[:, index], state.condition[index])
            generators = [streams[r].generator(bar, 1 + attempt) for r in pending] if any(heat.as_tuple()) else None
            found, sub_carry = self._loop(sub_state, [plans[r] for r in pending], carry.take(pending), heat, generators, cancel)
            still = []
            for position, row in enumerate(pending):
                attempt_events = found[position]
                if len(attempt_events) and (sounding[row] or not attempt_events.is_pause.all()):
                    events[row] = attempt_events
                    carries[row] = sub_carry.take([position])
                    attempts[row] = attempt + 1
                else:
                    still.append(row)
            pending = still
            if not pending:
                break
        for row in pending:  # gave up: an empty bar (the notes sounding into it go on sounding)
            plan = plans[row]
            own = carry.take([row])
            events[row] = pause_fill(plan, own)
            carries[row] = own.shifted(plan.grid_length)
        return DecodedBars([e for e in events if e is not None], Carry.stack([c for c in carries if c is not None]), attempts)

    # ------------------------------------------------------------------------------------ private
    @torch.inference_mode()
    def _loop(
        self,
        state: DecoderState,
        plans: Sequence[BarPlan],
        carry: Carry,
        temperatures: Temperatures,
        generators: Sequence[torch.Generator] | None,
        cancel: Callable[[], bool] | None = None,
    ) -> tuple[list[EventArrays], Carry]:
        """Decode one bar per row, one event per step, until every row has passed its barline."""
        steps = self._steps()
        steps.start(state)
        terms = _StepTerms(self._bias_row(plans, steps), temperatures, self.controls.top_p, generators, steps)
        bars = _Bars(plans, carry, self.max_events, self.columns)
        rules = _Rules(self.playable, terms, len(plans))
        properties = self.model.config.properties
        for step in range(self.max_events):
            if step and step % CHUNK == 0:
                _check(cancel)
                terms.draw()
            # 1. Feed the step input: the previous event and what sounded at its onset.
            steps.feed(bars.previous, bars.previous_active, terms.at(step))
            # 2. Chain the properties, each picked under the rules (meter, ranges, chords ascending).
            values = run_chain(steps, rules.pick, bars.beat_after, properties)
            event = bars.write(values, step)
            # 3. Stop conditions, then book the active notes and the chord so far.
            accept = bars.close(event)
            bars.book(event, accept, step)
            rules.remember(values)
            if not bars.live.any():
                break
        return bars.result(self.velocity)

    def _bias_row(self, plans: Sequence[BarPlan], steps: StepDecoder) -> np.ndarray:
        """(B, 1, width): the heads' biases plus the masks of offset, duration and pitch (0 or -inf)."""
        row = np.tile(steps.head_bias, (len(plans), 1, 1))
        for position, plan in enumerate(plans):
            offset, duration = _plan_masks(plan)
            row[position, 0, steps.slices["offset"]] += offset
            row[position, 0, steps.slices["duration"]] += duration
            row[position, 0, steps.slices["pitch"]] += self.pitch_bias
        return row


CHUNK = 32  # steps of noise drawn at a time


def _check(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("generation cancelled")


class _StepTerms:
    """What the sampler adds to the heads' logits at each step: the masks (in ``bias``) and Gumbel
    noise times each property's temperature, drawn :data:`CHUNK` steps at a time from each row's
    generator. Under nucleus sampling the noise comes after the nucleus cut (:meth:`pick`), which
    needs the logits before it."""

    def __init__(
        self, bias: np.ndarray, temperatures: Temperatures, top_p: float, generators: Sequence[torch.Generator] | None,
        steps: StepDecoder,
    ):  # fmt: skip
        self.bias, self.generators, self.top_p = bias, generators, top_p
        self.rows, self.width, self.slices = len(bias), steps.width, steps.slices
        self.temperature = dict(zip(PROPERTIES, temperatures.as_tuple()))
        self.heat = np.zeros(self.width, np.float32)
        for name, cut in self.slices.items():
            self.heat[cut] = self.temperature[name]
        self.nucleus = top_p < 1.0 and generators is not None
        self.row_index = np.arange(self.rows)
        self.draw()

    def draw(self) -> None:
        """The next :data:`CHUNK` steps' terms, (B, CHUNK, width)."""
        if self.generators is None:
            self.chunk = np.broadcast_to(self.bias, (self.rows, CHUNK, self.width))
            return
        uniform = torch.stack([torch.rand((CHUNK, self.width), generator=g) for g in self.generators])
        gumbel = uniform.clamp_(min=1e-30).log_().neg_().log_().neg_().numpy()
        self.chunk = gumbel * self.heat if self.nucleus else gumbel * self.heat + self.bias

    def at(self, step: int) -> np.ndarray:
        """(B, width) terms added to the heads' logits at ``step`` before the chain."""
        self.noise = self.chunk[:, step % CHUNK]
        return self.bias[:, 0] if self.nucleus else self.noise

    def pick(self, name: str, logits: np.ndarray) -> np.ndarray:
        """The sampled class of ``name`` from its logits (with the chain's terms and the step's)."""
        temperature = self.temperature[name]
        if self.nucleus and temperature > 0.0:
            floor = _nucleus_floor(logits, temperature, self.top_p, self.row_index)
            logits = np.where(logits >= floor[:, None], logits + self.noise[:, self.slices[name]], _CUT)
        return logits.argmax(1)


class _Rules:
    """The rules the chain's picks obey beyond the masks: a chord (offset 0) ascends and never gives
    one pitch twice to one instrument (see the module docstring). Holds each row's chord so far."""

    def __init__(self, playable: np.ndarray, terms: _StepTerms, rows: int):
        self.playable, self.terms = playable, terms
        self.previous_pitch = np.full(rows, -1)
        self.used = np.zeros((rows, N_INSTRUMENTS), bool)  # the instruments already heard at the chord's top pitch
        self.rows = np.arange(rows)

    def pick(self, name: str, logits: np.ndarray, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """:func:`core.model.output_chain.run_chain`'s pick: the rules on ``logits`` (in place), then a sample."""
        if name == "pitch":
            self.chord = (values["offset"] == 0) & (self.previous_pitch >= 0)
            if self.chord.any():
                _chord_pitch_rule(logits, self.chord, self.previous_pitch, self.used, self.playable)
        elif name == "instrument":
            self.repeated = self.chord & (values["pitch"] == self.previous_pitch)
            if self.repeated.any():
                _chord_instrument_rule(logits, self.repeated, self.used)
        return self.terms.pick(name, logits)

    def remember(self, values: Mapping[str, np.ndarray]) -> None:
        """The chord after the event of ``values``: its top pitch, and the instruments heard at it."""
        sounding = values["duration"] != 0
        self.previous_pitch = np.where(sounding, values["pitch"], -1)
        self.used[~self.repeated] = False
        self.used[self.rows, values["instrument"]] |= sounding


class _Bars:
    """The bars being decoded, one per row: where each stands (onset time, events so far, still
    open), the beat of every onset, what sounds (:class:`NotesSounding`), and the decoded events."""

    def __init__(self, plans: Sequence[BarPlan], carry: Carry, steps: int, columns: int):
        rows = len(plans)
        self.plans = plans
        # Beats of every onset, all rows in one flat table; bar lengths and grid steps per row.
        self.length = max(p.units for p in plans) + MAX_CLASS_UNITS + 1
        self.beat_flat = np.concatenate([_beat_table(p, self.length) for p in plans])
        self.beat_base = np.arange(rows) * self.length
        self.bar_units = np.array([p.units for p in plans])
        self.grid = np.array([p.grid_per_unit for p in plans])
        self.sounding = NotesSounding(carry)
        self.events = np.empty((rows, steps, columns), np.int64)
        self.active = np.empty((rows, steps, ACTIVE_WIDTH), bool)
        self.time = np.zeros(rows, np.int64)
        self.count = np.zeros(rows, np.int64)
        self.live = np.ones(rows, bool)
        none = np.array(NONE_CLASS[:columns])
        self.pause_none = none[3:]  # a pause has no pitch, instrument or velocity
        self.previous = np.tile(none, (rows, 1))  # the empty first step
        self.previous_active = np.zeros((rows, ACTIVE_WIDTH), bool)

    def beat_after(self, offset: np.ndarray) -> np.ndarray:
        """The onset ``offset`` after the last event, and its beat (none = 8)."""
        self.onset = self.time + CLASS_UNITS_ARRAY[offset]
        return self.beat_flat[self.beat_base + np.minimum(self.onset, self.length - 1)]

    def write(self, values: Mapping[str, np.ndarray], step: int) -> np.ndarray:
        """The chain's values as this step's event columns (a pause's pitch and later: none)."""
        event = self.events[:, step]
        for column, name in enumerate(EVENT_COLUMNS[: event.shape[1]]):
            event[:, column] = values[name]
        self.is_note = event[:, 2] != 0
        if not self.is_note.all():
            event[~self.is_note, 3:] = self.pause_none
        return event

    def close(self, event: np.ndarray) -> np.ndarray:
        """Which rows keep this step's event: the bar ends where the time passes the barline, and a
        pause reaching it exactly closes it (kept, the last)."""
        accept = self.live & (self.onset + self.is_note <= self.bar_units)
        self.live = accept & (self.onset < self.bar_units)
        return accept

    def book(self, event: np.ndarray, accept: np.ndarray, step: int) -> None:
        """What sounds at this step's onset (the next step's input), then this event's note."""
        active = self.active[:, step]
        self.sounding.at(self.onset * self.grid, out=active)
        end = (self.onset + CLASS_UNITS_ARRAY[event[:, 2]]) * self.grid
        self.sounding.add(accept & self.is_note, event[:, 3:5], end)
        self.time = np.where(accept, self.onset, self.time)
        self.count += accept
        self.previous, self.previous_active = event, active

    def result(self, velocity: bool) -> tuple[list[EventArrays], Carry]:
        """Each row's accepted events, and what sounds on past its barline."""
        bars = [_event_arrays(self.events[row, :n], self.active[row, :n], velocity) for row, n in enumerate(self.count)]
        return bars, self.sounding.carry(np.array([p.grid_length for p in self.plans]))


def _nucleus_floor(values: np.ndarray, temperature: float, top_p: float, row_index: np.ndarray) -> np.ndarray:
    """(B,) per row, the lowest value that nucleus sampling keeps: the most likely classes of
    ``softmax(values / temperature)`` are kept until their probabilities reach ``top_p`` (always the
    first), and so is every class at or above the last one kept (``row_index`` is ``arange(B)``).

    It sorts the values (not their order): a third faster than arg-sorting and scattering back, and
    it runs for every property of every step (~15 us a call, ~900 calls for 8 bars x 4 variations).
    The caller keeps ``values >= floor`` in the same NumPy call that adds the noise, where a mask of
    0 and -inf cost one operation more a call."""
    ranked = np.sort(values)[:, ::-1]
    weights = np.exp((ranked - ranked[:, :1]) * (1.0 / temperature))
    cumulative = weights.cumsum(1)
    ahead = cumulative - weights  # mass of the classes ranked above
    kept = (ahead < top_p * cumulative[:, -1:]).sum(1)
    return ranked[row_index, kept - 1]


_CUT = np.float32(NEG)  # what a class outside the nucleus becomes, float32 like the logits


def _chord_pitch_rule(logits: np.ndarray, chord: np.ndarray, previous: np.ndarray, used: np.ndarray, playable: np.ndarray) -> None:
    """In place, for the rows continuing a chord: no pitch below the previous member's, nor equal to
    it once every instrument that may play it has (chords ascend; no note twice on one instrument).
    Where no higher pitch is allowed, the previous one stays open (it will double an instrument)."""
    for row in np.flatnonzero(chord):
        top = previous[row]
        floors = (top + 1, top) if (used[row] | ~playable[top]).all() else (top,)
        for floor in floors:
            if np.isfinite(logits[row, floor:]).any():
                logits[row, :floor] = NEG
                break


def _chord_instrument_rule(logits: np.ndarray, repeated: np.ndarray, used: np.ndarray) -> None:
    """In place, for the rows repeating the chord's top pitch: not on an instrument already used."""
    for row in np.flatnonzero(repeated):
        if (np.isfinite(logits[row]) & ~used[row]).any():
            logits[row, used[row]] = NEG


def _event_arrays(found: np.ndarray, active: np.ndarray, velocity: bool) -> EventArrays:
    """Sampler columns (with class counts as "none") -> an :class:`EventArrays` (with -1)."""
    none = np.array(NONE_CLASS[: found.shape[1]])
    values = np.where(found == none, -1, found)
    pause = values[:, 2] == 0
    return EventArrays(
        offset=values[:, 0],
        duration=values[:, 2],
        pitch=values[:, 3],
        instrument=values[:, 4],
        beat=values[:, 1],
        velocity=values[:, 5] if velocity else np.where(pause, -1, DEFAULT_VELOCITY_BIN),
        is_pause=pause,
        active_pitches=active[:, :N_PITCHES],
        active_instruments=active[:, N_PITCHES:],
    )


@lru_cache(maxsize=256)
def _plan_masks(plan: BarPlan) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.where(plan.offset_mask(), 0.0, NEG).astype(np.float32),
        np.where(plan.duration_mask(), 0.0, NEG).astype(np.float32),
    )


@lru_cache(maxsize=256)
def _beat_table_cached(plan: BarPlan, length: int) -> np.ndarray:
    table = plan.beat_table(length)
    return np.where(table < 0, N_BEATS, table)


def _beat_table(plan: BarPlan, length: int) -> np.ndarray:
    """Beat class (none = 8) of every onset from the barline."""
    return _beat_table_cached(plan, length)
