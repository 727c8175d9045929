"""The sampling loop: bars end at their barline in every meter, masks and ranges hold, notes carry
across barlines, rows are reproducible alone or in a batch, empty bars are retried then rested."""

import numpy as np
import pytest
import torch

from core.generation.bars import BarPlan, Carry, event_batch, onset_units
from core.generation.controls import PLAYABLE_RANGES, Controls, Temperatures
from core.generation.engine import standard_normal
from core.generation.sampler import DecodedBars, Sampler, make_streams
from core.representation.events import EventArrays
from core.representation.vocabulary import CLASS_UNITS
from tests.core.generation.helpers import random_model


def decode(model, plans, seed=0, controls=Controls(), carry=None, max_events=192, noise_seed=None):
    """Decode one bar per plan from START; z from ``seed``, sampling noise from ``noise_seed`` (default:
    the same streams)."""
    rows = len(plans)
    streams = make_streams(seed, rows)
    with torch.inference_mode():
        summary = None
        if model.config.use_context:
            summary = model.encode_context(event_batch([EventArrays.empty()] * rows, [True] * rows))
        z = standard_normal(streams, 0, model.config.z_dim, torch.device("cpu"))
        state = model.initial_state(z, summary)
    sampler = Sampler(model, controls, max_events)
    noise = streams if noise_seed is None else make_streams(noise_seed, rows)
    return sampler.decode(state, plans, carry if carry is not None else Carry.silent(rows), noise)


@pytest.mark.parametrize("meter", [(3, 4), (4, 4), (6, 8), (2, 2), (12, 8), (5, 4), (7, 8)])
def test_every_bar_ends_at_its_barline(meter):
    plan = BarPlan.of(*meter)
    model = random_model(seed=sum(meter))
    decoded = decode(model, [plan] * 24, seed=3, controls=Controls(Temperatures.uniform(1.5)))
    offsets_allowed = set(plan.meter.classes)
    durations_allowed = set(np.flatnonzero(plan.duration_mask()))
    reached_barline = 0
    for events in decoded.events:
        assert len(events) >= 1
        onsets = onset_units(events)
        assert set(events.offset.tolist()) <= offsets_allowed
        assert set(events.duration.tolist()) <= durations_allowed
        notes = ~events.is_pause
        assert np.all(onsets[notes] < plan.units), "a note starts outside its bar"
        assert np.all(onsets[events.is_pause] <= plan.units)
        if onsets[-1] == plan.units:  # only a closing pause may reach the barline, and it is last
            assert events.is_pause[-1]
            reached_barline += 1
        beats = [plan.meter.beat_of(int(t)) if t < plan.units else 0 for t in onsets]
        assert events.beat.tolist() == beats
        assert np.all(events.pitch[events.is_pause] == -1) and np.all(events.pitch[notes] >= 0)
        for before, after in zip(range(len(events) - 1), range(1, len(events))):
            if events.offset[after] == 0 and notes[before]:  # a chord ascends
                assert events.pitch[after] >= events.pitch[before]
    assert sum(len(e) for e in decoded.events) > 24  # the bars hold music, not only rests


def test_instrument_mask_and_ranges_hold_over_many_samples():
    allowed = frozenset({4, 6, 20})  # violin, cello, flute
    model = random_model(seed=5, spread=1.0)
    plans = [BarPlan.of(4, 4)] * 32
    hot = Temperatures.uniform(2.0)
    notes = 0
    for seed in range(3):
        decoded = decode(model, plans, seed=seed, controls=Controls(hot, allowed))
        for events in decoded.events:
            keep = ~events.is_pause
            for pitch, instrument in zip(events.pitch[keep] + 17, events.instrument[keep]):
                low, high = PLAYABLE_RANGES[instrument]
                assert instrument in allowed and low <= pitch <= high
                notes += 1
    assert notes > 100
    # Without the controls, the same model plays other instruments and leaves those ranges.
    free = decode(model, plans, seed=0, controls=Controls(hot, clamp_ranges=False))
    instruments = np.concatenate([e.instrument[~e.is_pause] for e in free.events])
    assert set(instruments.tolist()) - allowed


def test_a_row_is_the_same_alone_or_in_a_batch():
    model = random_model(seed=2)
    plans = [BarPlan.of(3, 4)] * 5
    batch = decode(model, plans, seed=10)
    for row in range(5):
        alone = decode(model, plans[:1], seed=10 + row)
        assert alone.events[0].equals(batch.events[row])
        assert np.array_equal(alone.carry.pitch_end, batch.carry.pitch_end[row : row + 1])


def test_same_seed_same_music_and_other_seeds_differ():
    model = random_model(seed=4)
    plans = [BarPlan.of(4, 4)] * 3
    first, again, other = decode(model, plans, seed=7), decode(model, plans, seed=7), decode(model, plans, seed=8)
    assert all(a.equals(b) for a, b in zip(first.events, again.events))
    assert not all(a.equals(b) for a, b in zip(first.events, other.events))
    assert not first.events[0].equals(first.events[1])  # the rows of one batch differ too


def test_greedy_decoding_ignores_the_seed():
    model = random_model(seed=4)
    greedy = Controls(Temperatures.greedy())
    one = decode(model, [BarPlan.of(4, 4)] * 2, seed=1, controls=greedy, noise_seed=1)
    two = decode(model, [BarPlan.of(4, 4)] * 2, seed=1, controls=greedy, noise_seed=99)
    assert all(a.equals(b) for a, b in zip(one.events, two.events))
    sampled = decode(model, [BarPlan.of(4, 4)] * 2, seed=1, noise_seed=99)
    assert not all(a.equals(b) for a, b in zip(one.events, sampled.events))


def test_notes_sounding_into_a_bar_stay_active():
    plan = BarPlan.of(4, 4)
    held_until = 144  # grid ticks after the barline: a dotted quarter
    carry = Carry.silent(16)
    carry.pitch_end[:, 60 - 17] = held_until
    carry.instrument_end[:, 4] = held_until
    decoded = decode(random_model(seed=6), [plan] * 16, seed=1, carry=carry)
    checked = 0
    for events in decoded.events:
        ticks = onset_units(events) * plan.grid_per_unit
        for tick, active_pitches, active_instruments in zip(ticks, events.active_pitches, events.active_instruments):
            if tick < held_until:
                assert active_pitches[60 - 17] and active_instruments[4]
                checked += 1
    assert checked > 0
    # What sounds past the barline is carried on, measured from the next barline.
    for row, events in enumerate(decoded.events):
        onsets = onset_units(events)
        ends = {}
        for onset, duration, pitch in zip(onsets, events.duration, events.pitch):
            if pitch >= 0:
                ends[pitch] = max(ends.get(pitch, 0), (onset + CLASS_UNITS[duration]) * plan.grid_per_unit)
        for pitch, end in ends.items():
            assert decoded.carry.pitch_end[row, pitch] >= max(0, end - plan.grid_length)
        assert decoded.carry.pitch_end[row, 60 - 17] >= 0


def test_an_empty_bar_is_retried_then_becomes_a_rest():
    model = random_model(seed=1)
    with torch.no_grad():  # every first offset jumps past a 4/4 bar (class 59 = 39/8 q*)
        model.heads["offset"].bias.fill_(-50.0)
        model.heads["offset"].bias[59] = 50.0
    decoded = decode(model, [BarPlan.of(4, 4)] * 2, seed=0)
    assert decoded.attempts == [0, 0]
    for events in decoded.events:
        assert events.offset.tolist() == [48] and events.is_pause.tolist() == [True] and events.beat.tolist() == [0]


def test_a_silent_bar_is_retried_then_becomes_a_rest_but_pauses_under_a_held_note_are_kept():
    model = random_model(seed=1)
    with torch.no_grad():  # pauses only (duration class 0), each two thirds of a quarter (offset class 8)
        model.heads["duration"].bias.fill_(-50.0)
        model.heads["duration"].bias[0] = 50.0
        model.heads["offset"].bias.fill_(-50.0)
        model.heads["offset"].bias[8] = 50.0
    silent = decode(model, [BarPlan.of(4, 4)], seed=0)
    assert silent.attempts == [0]  # nothing sounded in any attempt: a rest
    held = Carry.silent(1)
    held.pitch_end[0, 60 - 17] = 96  # a note held a quarter into the bar (grid ticks)
    sustained = decode(model, [BarPlan.of(4, 4)], seed=0, carry=held)
    assert sustained.attempts == [1] and sustained.events[0].is_pause.all()


def test_a_bar_stops_at_the_event_cap():
    model = random_model(seed=1)
    with torch.no_grad():  # chord members for ever
        model.heads["offset"].bias.fill_(-50.0)
        model.heads["offset"].bias[0] = 50.0
    decoded = decode(model, [BarPlan.of(4, 4)], seed=0, max_events=20)
    events = decoded.events[0]
    assert len(events) == 20
    assert np.all(events.offset == 0)
    # Even so, the chord ascends and, below the top of the range, never holds a note twice on one
    # instrument (at MIDI 108 nothing higher is left, so that pitch may double).
    assert np.all(np.diff(events.pitch) >= 0)
    below_top = [(p, i) for p, i in zip(events.pitch.tolist(), events.instrument.tolist()) if p < 108 - 17]
    assert len(set(below_top)) == len(below_top) > 3


def test_a_greedy_chord_moves_on_when_its_instruments_are_used():
    model = random_model(seed=1)
    with torch.no_grad():  # chord members for ever, always the same pitch if it may
        model.heads["offset"].bias.fill_(-50.0)
        model.heads["offset"].bias[0] = 50.0
        model.heads["pitch"].bias.fill_(-50.0)
        model.heads["pitch"].bias[60 - 17] = 50.0
    controls = Controls(Temperatures.greedy(), instruments=frozenset({4, 20}))  # violin, flute
    events = decode(model, [BarPlan.of(4, 4)], controls=controls, max_events=6).events[0]
    assert events.pitch[:2].tolist() == [60 - 17, 60 - 17]
    assert sorted(events.instrument[:2].tolist()) == [4, 20]
    assert np.all(events.pitch[2:] > 60 - 17)


def test_the_best_of_each_rows_candidates_and_a_rest_loses():
    model = random_model(seed=2, use_context=False)
    decoded = Sampler(model, Controls(Temperatures.uniform(1.2), seed=1)).decode(
        model.initial_state(torch.randn(6, model.config.z_dim), None), [BarPlan.of(4, 4)] * 6, Carry.silent(6), make_streams(1, 6)
    )
    assert not decoded.events[3].equals(decoded.events[4]) and not decoded.events[2].equals(decoded.events[1])
    gave_up = DecodedBars(decoded.events, decoded.carry, [0 if i == 4 else a for i, a in enumerate(decoded.attempts)])
    # Two rows of three candidates: row 0's lowest score is candidate 2, row 1's is candidate 1 (index 4), which gave up.
    best = gave_up.best_of(torch.tensor([[3.0, 2.0, 1.0], [5.0, 0.0, 6.0]]))
    assert best.events[0].equals(decoded.events[2]) and best.events[1].equals(decoded.events[3])
    assert np.array_equal(best.carry.pitch_end, decoded.carry.take([2, 3]).pitch_end)
    joined = DecodedBars.join([decoded.take([5]), decoded.take([0, 1])])
    assert [e.equals(decoded.events[i]) for e, i in zip(joined.events, (5, 0, 1))] == [True] * 3
    assert joined.attempts == [decoded.attempts[i] for i in (5, 0, 1)]
