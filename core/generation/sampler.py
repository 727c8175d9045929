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
* Notes sounding across barlines stay in the active pitches and instruments of the next bar
  (:class:`~core.generation.bars.Carry`), kept as per-pitch end times, so nothing can wrap around.

Randomness is per row: every row draws its noise from its own ``torch.Generator`` (variation ``i``
seeded with ``seed + i``), one block of Gumbel noise per bar and attempt, whatever the other rows do.
Sampling is ``argmax(logits + T * gumbel)``, which is exact sampling from ``softmax(logits / T)`` and
plain argmax at ``T = 0``. A row therefore decodes the same music alone or in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from core.errors import Cancelled
from core.generation.bars import MAX_EVENTS, BarPlan, Carry, pause_fill
from core.generation.controls import Controls, Temperatures
from core.generation.fast_step import NEG, FastDecoder, fast_decoder
from core.network import DecoderState, MahlerNet
from core.representation.events import N_INSTRUMENTS, N_PITCHES, EventArrays
from core.representation.vocabulary import CLASS_UNITS, MAX_CLASS_UNITS

RETRIES = 3  # new attempts at a bar that came out empty, before it becomes a rest
RETRY_HEAT = 0.1  # offset temperature added per attempt (the original's rule)
DEFAULT_VELOCITY_BIN = 3  # mp (MIDI 64, the original's fixed velocity) for a model without velocity


@dataclass(frozen=True)
class DecodedBars:
    """One bar per row: its events and the notes sounding after it; ``attempts`` per row (1 = first
    try, more after empty bars; 0 = gave up and wrote a rest)."""

    events: list[EventArrays]
    carry: Carry
    attempts: list[int]


class Sampler:
    """Decodes bars with a model under the composer's controls (see the module docstring)."""

    def __init__(self, model: MahlerNet, controls: Controls, max_events: int = MAX_EVENTS):
        self.model = model
        self.controls = controls
        self.max_events = max_events
        self.device = next(model.parameters()).device
        self.fast: FastDecoder = fast_decoder(model)
        self.velocity = model.config.use_velocity
        self.width = self.fast.h_weight.shape[1]
        pitch_bias = np.where(controls.pitch_mask(), 0.0, NEG)
        allowed = controls.range_table() & controls.instrument_mask()[None, :]
        self.pitch_bias = torch.tensor(pitch_bias, dtype=torch.float32, device=self.device)
        self.instrument_bias = torch.tensor(np.where(allowed, 0.0, NEG), dtype=torch.float32, device=self.device)
        self.class_units = torch.tensor(CLASS_UNITS, dtype=torch.long, device=self.device)

    # ------------------------------------------------------------------------------------- public
    def decode(
        self,
        state: DecoderState,
        plans: Sequence[BarPlan],
        carry: Carry,
        generators: Sequence[torch.Generator],
        temperatures: Temperatures | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> DecodedBars:
        """Decode one bar per row from the network's initial decoder ``state`` (from
        :meth:`MahlerNet.initial_state`); ``plans``, ``carry`` and ``generators`` have one entry per row."""
        temperatures = temperatures or self.controls.temperatures
        rows = len(plans)
        events: list[EventArrays | None] = [None] * rows
        carries: list[Carry | None] = [None] * rows
        attempts = [0] * rows
        pending = list(range(rows))
        for attempt in range(RETRIES + 1):
            if cancel is not None and cancel():
                raise Cancelled("generation cancelled")
            heat = temperatures.hotter_offset(RETRY_HEAT * attempt) if attempt else temperatures
            index = torch.tensor(pending, device=self.device)
            sub_state = DecoderState(state.h[:, index], state.c[:, index], state.condition[index])
            noise = self._noise([generators[r] for r in pending]) if any(heat.as_tuple()) else None
            found, sub_carry = self._run(sub_state, [plans[r] for r in pending], carry.take(pending), heat, noise)
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
    def _noise(self, generators: Sequence[torch.Generator]) -> torch.Tensor:
        """(B, max_events, width) Gumbel noise, each row from its own generator."""
        uniform = torch.stack([torch.rand((self.max_events, self.width), generator=g) for g in generators])
        return (-torch.log(-torch.log(uniform))).to(self.device)

    def _masks(self, plans: Sequence[BarPlan]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        offset = np.stack([np.where(p.offset_mask(), 0.0, NEG) for p in plans])
        duration = np.stack([np.where(p.duration_mask(), 0.0, NEG) for p in plans])
        length = max(p.units for p in plans) + MAX_CLASS_UNITS + 1
        beats = np.stack([p.beat_table(length) for p in plans])
        beats = np.where(beats < 0, 8, beats)  # row 8 of the beat table = no beat
        to = lambda a, dtype=torch.float32: torch.tensor(a, dtype=dtype, device=self.device)  # noqa: E731
        return to(offset), to(duration), to(beats, torch.long), to([p.units for p in plans], torch.long)

    @torch.inference_mode()
    def _run(
        self, state: DecoderState, plans: Sequence[BarPlan], carry: Carry, temperatures: Temperatures, noise: torch.Tensor | None
    ) -> tuple[list[EventArrays], Carry]:
        fast, device = self.fast, self.device
        rows = len(plans)
        offset_bias, duration_bias, beat_table, bar_units = self._masks(plans)
        grid = torch.tensor([p.grid_per_unit for p in plans], dtype=torch.long, device=device)
        t_off, t_dur, t_pitch, t_inst, t_vel = temperatures.as_tuple()
        slices = fast.slices
        tables = fast.tables
        units = self.class_units

        # Notes sounding, as end times on the grid; column 96 / 23 takes the writes of rows that add nothing.
        pitch_end = torch.zeros(rows, N_PITCHES + 1, dtype=torch.long, device=device)
        pitch_end[:, :N_PITCHES] = torch.from_numpy(carry.pitch_end)
        instrument_end = torch.zeros(rows, N_INSTRUMENTS + 1, dtype=torch.long, device=device)
        instrument_end[:, :N_INSTRUMENTS] = torch.from_numpy(carry.instrument_end)

        steps = self.max_events
        columns = torch.empty(rows, steps, 6, dtype=torch.long, device=device)
        active_out = torch.empty(rows, steps, N_PITCHES + N_INSTRUMENTS, dtype=torch.bool, device=device)
        time = torch.zeros(rows, dtype=torch.long, device=device)
        count = torch.zeros(rows, dtype=torch.long, device=device)
        live = torch.ones(rows, dtype=torch.bool, device=device)
        previous_pitch = torch.full((rows,), -1, dtype=torch.long, device=device)
        none = torch.full((rows, 6 if self.velocity else 5), -1, dtype=torch.long, device=device)
        indices = fast.row_indices(none)
        active = torch.zeros(rows, N_PITCHES + N_INSTRUMENTS, device=device)
        step_state = fast.start(state)
        pitch_steps = torch.arange(N_PITCHES, device=device)

        def pick(logits: torch.Tensor, temperature: float, gumbel: torch.Tensor | None) -> torch.Tensor:
            if gumbel is not None and temperature > 0:
                logits = torch.add(logits, gumbel, alpha=temperature)
            return logits.argmax(dim=1)

        for step in range(steps):
            base, step_state = fast.step(indices, active, step_state)
            g = noise[:, step] if noise is not None else None
            cut = lambda name: g[:, slices[name]] if g is not None else None  # noqa: E731

            offset = pick(base[:, slices["offset"]] + offset_bias, t_off, cut("offset"))
            onset = time + units[offset]
            beat = beat_table.gather(1, onset.clamp(max=beat_table.shape[1] - 1).unsqueeze(1)).squeeze(1)
            chain = tables["offset"][offset] + tables["beat"][beat]
            duration = pick(base[:, slices["duration"]] + chain[:, : 60] + duration_bias, t_dur, cut("duration"))
            chain = chain[:, 60:] + tables["duration"][duration]
            pitch_logits = base[:, slices["pitch"]] + chain[:, :N_PITCHES] + self.pitch_bias
            if fast.same_step:
                below = (pitch_steps < previous_pitch.unsqueeze(1)) & (offset == 0).unsqueeze(1)
                pitch_logits = pitch_logits.masked_fill(below, NEG)
            pitch = pick(pitch_logits, t_pitch, cut("pitch"))
            chain = chain[:, N_PITCHES:] + tables["pitch"][pitch]
            instrument = pick(base[:, slices["instrument"]] + chain[:, :N_INSTRUMENTS] + self.instrument_bias[pitch], t_inst, cut("instrument"))
            if self.velocity:
                chain = chain[:, N_INSTRUMENTS:] + tables["instrument"][instrument]
                velocity = pick(base[:, slices["velocity"]] + chain, t_vel, cut("velocity"))
            else:
                velocity = torch.full_like(pitch, DEFAULT_VELOCITY_BIN)

            pause = duration == 0
            at_barline = onset == bar_units
            over = (onset > bar_units) | (at_barline & ~pause)
            accept = live & ~over
            live = accept & ~at_barline
            if step == steps - 1:
                live = torch.zeros_like(live)

            onset_grid = onset * grid
            active_now = torch.cat([pitch_end[:, :N_PITCHES], instrument_end[:, :N_INSTRUMENTS]], dim=1) > onset_grid.unsqueeze(1)
            pitch = torch.where(pause, -1, pitch)
            instrument = torch.where(pause, -1, instrument)
            velocity = torch.where(pause, -1, velocity)
            event = torch.stack([offset, duration, pitch, instrument, beat.masked_fill(beat == 8, -1), velocity], dim=1)
            columns[:, step] = event
            active_out[:, step] = active_now

            note = accept & ~pause
            end = ((onset + units[duration]) * grid).unsqueeze(1)
            pitch_end.scatter_reduce_(1, torch.where(note, pitch, N_PITCHES).unsqueeze(1), end, "amax")
            instrument_end.scatter_reduce_(1, torch.where(note, instrument, N_INSTRUMENTS).unsqueeze(1), end, "amax")
            time = torch.where(accept, onset, time)
            count += accept
            previous_pitch = pitch
            indices = fast.row_indices(event if self.velocity else event[:, :5])
            active = active_now.float()
            if not bool(live.any()):
                break

        counts = count.tolist()
        columns_np = columns.cpu().numpy()
        active_np = active_out.cpu().numpy()
        bars = []
        for row, n in enumerate(counts):
            c = columns_np[row, :n]
            bars.append(
                EventArrays(
                    offset=c[:, 0], duration=c[:, 1], pitch=c[:, 2], instrument=c[:, 3], beat=c[:, 4], velocity=c[:, 5],
                    is_pause=c[:, 2] < 0,
                    active_pitches=active_np[row, :n, :N_PITCHES],
                    active_instruments=active_np[row, :n, N_PITCHES:],
                )
            )  # fmt: skip
        shift = torch.tensor([p.grid_length for p in plans], dtype=torch.long, device=device).unsqueeze(1)
        after = Carry(
            (pitch_end[:, :N_PITCHES] - shift).clamp(min=0).cpu().numpy(),
            (instrument_end[:, :N_INSTRUMENTS] - shift).clamp(min=0).cpu().numpy(),
        )
        return bars, after


def make_generators(seed: int, rows: int, first: int = 0) -> list[torch.Generator]:
    """One generator per row: row ``i`` is seeded with ``seed + first + i``."""
    return [torch.Generator().manual_seed(seed + first + i) for i in range(rows)]

