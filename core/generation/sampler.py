"""The per-step sampling loop: decode one bar for each row of a batch (variations, interpolation points).

Each step runs the decoder once and samples offset, duration, pitch, instrument (and velocity) in the
order of the output chain, each conditioned on the ones before it. The onset time advances by the
sampled offset; the beat is recomputed from it in the bar's own meter. The bar ends, as in the
original (spec 5.3), when the time passes the barline: that event is dropped, except a pause that
reaches the barline exactly, which closes the bar as it does in the data (spec 2.10).

Fixed against the original (spec 5.3, 5.4 and section 6, item 10):

* Offsets and durations outside the meter's classes are *masked* before sampling instead of resampled
  without end; durations the representation never produces are masked too.
* A bar whose first event already passes the barline is decoded again with fresh noise and the offset
  temperature raised by 0.1, at most :data:`RETRIES` times; then it becomes an empty bar (pauses).
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
at ``T = 0``. A row therefore decodes the same music alone or in a batch (up to float rounding in
the batched matrix products, ~1e-6 relative, which would have to fall on a near tie to change a choice).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import torch

from core.errors import Cancelled
from core.generation.bars import MAX_EVENTS, BarPlan, Carry, pause_fill
from core.generation.controls import Controls, Temperatures
from core.generation.fast_lstm import NONE_CLASS
from core.generation.fast_step import NEG, FastDecoder, fast_decoder
from core.network import DecoderState, MahlerNet
from core.representation.events import N_BEATS, N_DURATIONS, N_INSTRUMENTS, N_PITCHES, EventArrays
from core.representation.vocabulary import CLASS_UNITS_ARRAY, MAX_CLASS_UNITS

RETRIES = 3  # new attempts at a bar that came out empty, before it becomes a rest
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


class Sampler:
    """Decodes bars with a model under the composer's controls (see the module docstring).

    The step loop runs on the CPU whatever the model's device: at batch sizes of 1 to ~10 a step is
    a few small matrix products and a few dozen tiny operations, which the CPU does faster than a
    round trip to an accelerator. The decoder step (:mod:`fast_step`), the output chain and the
    bookkeeping run in NumPy on preallocated arrays, whose operations on tiny arrays cost a fraction
    of torch's per-call overhead; only the products of several rows and the embedding bag go
    through torch.
    """

    def __init__(self, model: MahlerNet, controls: Controls, max_events: int = MAX_EVENTS):
        controls = controls.for_table(model.config.instrument_table)  # a drum class plays drum keys
        self.model = model
        self.controls = controls
        self.max_events = max_events
        self.fast: FastDecoder = fast_decoder(model)
        self.velocity = model.config.use_velocity
        fast = self.fast
        self.tables = dict(fast.tables)
        # The instrument mask depends on the sampled pitch: fold it into the pitch's table row.
        allowed = controls.range_table() & controls.instrument_mask()[None, :]
        pitch_table = self.tables["pitch"].copy()
        pitch_table[:N_PITCHES, :N_INSTRUMENTS] += np.where(allowed, 0.0, NEG).astype(np.float32)
        self.tables["pitch"] = pitch_table
        self.pitch_bias = np.where(controls.pitch_mask(), 0.0, NEG).astype(np.float32)

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
        for attempt in range(RETRIES + 1):
            if cancel is not None and cancel():
                raise Cancelled("generation cancelled")
            heat = temperatures.hotter_offset(RETRY_HEAT * attempt) if attempt else temperatures
            index = torch.tensor(pending)
            sub_state = DecoderState(state.h[:, index], state.c[:, index], state.condition[index])
            generators = [streams[r].generator(bar, 1 + attempt) for r in pending] if any(heat.as_tuple()) else None
            found, sub_carry = self._run(sub_state, [plans[r] for r in pending], carry.take(pending), heat, generators, cancel)
            still = []
            for position, row in enumerate(pending):
                if len(found[position]):
                    events[row] = found[position]
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
            carries[row] = Carry(np.maximum(own.pitch_end - plan.grid_length, 0), np.maximum(own.instrument_end - plan.grid_length, 0))
        return DecodedBars([e for e in events if e is not None], Carry.stack([c for c in carries if c is not None]), attempts)

    # ------------------------------------------------------------------------------------ private
    def _bias_row(self, plans: Sequence[BarPlan]) -> np.ndarray:
        """(B, 1, width): the heads' biases plus the masks of offset, duration and pitch (0 or -inf)."""
        fast = self.fast
        row = np.tile(fast.h_bias, (len(plans), 1, 1))
        for position, plan in enumerate(plans):
            offset, duration = _plan_masks(plan)
            row[position, 0, fast.slices["offset"]] += offset
            row[position, 0, fast.slices["duration"]] += duration
            row[position, 0, fast.slices["pitch"]] += self.pitch_bias
        return row

    def _temperature_row(self, temperatures: Temperatures) -> np.ndarray:
        values = dict(zip(("offset", "duration", "pitch", "instrument", "velocity"), temperatures.as_tuple()))
        row = np.zeros(self.fast.width, np.float32)
        for name, cut in self.fast.slices.items():
            row[cut] = values[name]
        return row

    def _run(
        self,
        state: DecoderState,
        plans: Sequence[BarPlan],
        carry: Carry,
        temperatures: Temperatures,
        generators: Sequence[torch.Generator] | None,
        cancel: Callable[[], bool] | None = None,
    ) -> tuple[list[EventArrays], Carry]:
        with torch.inference_mode():
            return self._loop(state, plans, carry, temperatures, generators, cancel)

    def _loop(
        self,
        state: DecoderState,
        plans: Sequence[BarPlan],
        carry: Carry,
        temperatures: Temperatures,
        generators: Sequence[torch.Generator] | None,
        cancel: Callable[[], bool] | None,
    ) -> tuple[list[EventArrays], Carry]:
        fast = self.fast
        rows = len(plans)
        width = fast.width
        bias = self._bias_row(plans)
        heat = self._temperature_row(temperatures)

        top_p = self.controls.top_p
        nucleus = top_p < 1.0 and generators is not None
        property_heat = temperatures.as_tuple()

        def noise_chunk() -> np.ndarray:
            """(B, CHUNK, width): Gumbel noise times the temperatures, plus the masks; without the
            masks under nucleus sampling, which needs the logits before the noise."""
            if generators is None:
                return np.broadcast_to(bias, (rows, CHUNK, width))
            uniform = torch.stack([torch.rand((CHUNK, width), generator=g) for g in generators])
            gumbel = uniform.clamp_(min=1e-30).log_().neg_().log_().neg_().numpy()
            return gumbel * heat if nucleus else gumbel * heat + bias

        def pick(values: np.ndarray, cut: slice, which: int) -> np.ndarray:
            """The sampled class of one property: ``values`` are its logits with the chain's terms
            (and, without nucleus sampling, the noise already added)."""
            if nucleus:
                values = values + _nucleus_mask(values, property_heat[which], top_p) + noise[:, cut]
            return values.argmax(1)

        # Beats of every onset, all rows in one flat table; bar lengths and grid steps per row.
        length = max(p.units for p in plans) + MAX_CLASS_UNITS + 1
        beat_flat = np.concatenate([_beat_table(p, length) for p in plans])
        beat_base = np.arange(rows) * length
        bar_units = np.array([p.units for p in plans])
        grid = np.array([p.grid_per_unit for p in plans])

        units = CLASS_UNITS_ARRAY
        s_off, s_dur, s_pitch, s_inst = (fast.slices[n] for n in ("offset", "duration", "pitch", "instrument"))
        s_vel = fast.slices.get("velocity")
        tables = self.tables
        t_off, t_beat, t_dur, t_pitch = tables["offset"], tables["beat"], tables["duration"], tables["pitch"]
        t_inst = tables.get("instrument")
        columns = fast.columns
        block_starts = fast.block_starts
        none_values = np.array(NONE_CLASS[:columns])
        pause_none = none_values[3:]  # a pause has no pitch, instrument or velocity
        end_shift = np.array([0, N_PITCHES])
        dummy = N_PITCHES + N_INSTRUMENTS  # column of `ends` that takes the writes of rows adding nothing
        every = np.arange(rows)[:, None]
        active_start = fast.active_start

        ends = np.zeros((rows, dummy + 1), np.int64)
        ends[:, :N_PITCHES] = carry.pitch_end
        ends[:, N_PITCHES:dummy] = carry.instrument_end
        steps = self.max_events
        events_out = np.empty((rows, steps, columns), np.int64)
        active_out = np.empty((rows, steps, dummy), bool)
        time = np.zeros(rows, np.int64)
        count = np.zeros(rows, np.int64)
        live = np.ones(rows, bool)
        previous_pitch = np.full(rows, -1)
        used = np.zeros((rows, N_INSTRUMENTS), bool)
        playable = np.isfinite(t_pitch[:N_PITCHES, :N_INSTRUMENTS])  # allowed instrument classes per pitch
        hot = np.zeros((rows, fast.input_rows), bool)  # the input rows each batch row switches on
        hot[every, none_values + block_starts] = True
        step_state = fast.start(state)
        chunk = noise_chunk()

        for step in range(steps):
            if step and step % CHUNK == 0:
                if cancel is not None and cancel():
                    raise Cancelled("generation cancelled")
                chunk = noise_chunk()
            batch_rows, on = np.nonzero(hot)
            offsets = np.searchsorted(batch_rows, np.arange(rows))
            logits = fast.step(on, offsets, step_state, live)
            if nucleus:
                logits += bias[:, 0]
                noise = chunk[:, step % CHUNK]
            else:
                logits += chunk[:, step % CHUNK]

            event = events_out[:, step]
            event[:, 0] = offset = pick(logits[:, s_off], s_off, 0)
            onset = time + units[offset]
            event[:, 1] = beat = beat_flat[beat_base + np.minimum(onset, length - 1)]
            chain = t_off[offset] + t_beat[beat]
            event[:, 2] = duration = pick(logits[:, s_dur] + chain[:, :N_DURATIONS], s_dur, 1)
            chain = chain[:, N_DURATIONS:] + t_dur[duration]
            pitch_logits = logits[:, s_pitch] + chain[:, :N_PITCHES]
            chord = (offset == 0) & (previous_pitch >= 0)
            if chord.any():
                _chord_pitch_rule(pitch_logits, chord, previous_pitch, used, playable)
            event[:, 3] = pitch = pick(pitch_logits, s_pitch, 2)
            chain = chain[:, N_PITCHES:] + t_pitch[pitch]
            instrument_logits = logits[:, s_inst] + chain[:, :N_INSTRUMENTS]
            repeated = chord & (pitch == previous_pitch)
            if repeated.any():
                _chord_instrument_rule(instrument_logits, repeated, used)
            event[:, 4] = instrument = pick(instrument_logits, s_inst, 3)
            if s_vel is not None:
                event[:, 5] = pick(logits[:, s_vel] + chain[:, N_INSTRUMENTS:] + t_inst[instrument], s_vel, 4)
            sounding = duration != 0  # a note, not a pause
            if not sounding.all():
                event[~sounding, 3:] = pause_none

            # The bar ends where the time passes the barline; a pause reaching it exactly closes it.
            accept = live & (onset + sounding <= bar_units)
            live = accept & (onset < bar_units)
            active_now = active_out[:, step]
            np.greater(ends[:, :dummy], (onset * grid)[:, None], out=active_now)
            written = np.where((accept & sounding)[:, None], event[:, 3:5] + end_shift, dummy)
            ends[every, written] = np.maximum(ends[every, written], ((onset + units[duration]) * grid)[:, None])
            time = np.where(accept, onset, time)
            count += accept
            previous_pitch = np.where(sounding, pitch, -1)
            used[~repeated] = False  # the instruments already heard at the chord's top pitch
            used[every[:, 0], instrument] |= sounding
            hot[:] = False
            hot[every, event + block_starts] = True
            hot[:, active_start:] = active_now
            if not live.any():
                break

        bars = [_event_arrays(events_out[row, :n], active_out[row, :n], self.velocity) for row, n in enumerate(count)]
        left = np.maximum(ends[:, :dummy] - np.array([p.grid_length for p in plans])[:, None], 0)
        return bars, Carry(left[:, :N_PITCHES], left[:, N_PITCHES:])


CHUNK = 32  # steps of noise drawn at a time


def _nucleus_mask(values: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """(B, classes) additive mask (0 or -inf) keeping, per row, the most likely classes of
    ``softmax(values / temperature)`` until their probabilities reach ``top_p`` (always the first).

    It sorts the values (not their order) and keeps every class at or above the last value kept:
    a third faster than arg-sorting and scattering back, and it runs for every property of every
    step (~15 us a call, ~900 calls for 8 bars x 4 variations). Methods instead of NumPy's function
    wrappers, and float32 operands for the result, save a fifth of that."""
    if temperature <= 0.0:
        return np.zeros_like(values)
    ranked = np.sort(values)[:, ::-1]
    weights = np.exp((ranked - ranked[:, :1]) * (1.0 / temperature))
    cumulative = weights.cumsum(1)
    ahead = cumulative - weights  # mass of the classes ranked above
    kept = (ahead < top_p * cumulative[:, -1:]).sum(1)
    threshold = ranked[np.arange(len(values)), kept - 1]
    return np.where(values >= threshold[:, None], _KEEP, _CUT)


_KEEP, _CUT = np.float32(0.0), np.float32(NEG)  # the nucleus mask's values, float32 like the logits


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
