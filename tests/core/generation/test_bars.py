"""The one active-note bookkeeping of generation (NotesSounding) agrees with the data and with the
training side's tensor version (features.sounding_in_bar)."""

import numpy as np
import torch

from core.model.features import onset_times, sounding_in_bar
from core.generation.bars import BarPlan, Carry, NotesSounding, carry_after, onset_units, pause_fill
from core.representation.vocabulary import CLASS_UNITS_ARRAY
from tests.core.synthetic import random_pieces


def book_bar(events, plan, carry):
    """Book a bar note by note as the sampler does; the active sets read at every onset."""
    sounding = NotesSounding(carry)
    onsets = onset_units(events)
    read = []
    for k in range(len(events)):
        read.append(sounding.at(np.array([onsets[k] * plan.grid_per_unit]))[0].copy())
        end = (onsets[k] + CLASS_UNITS_ARRAY[events.duration[k]]) * plan.grid_per_unit
        classes = np.array([[max(events.pitch[k], 0), max(events.instrument[k], 0)]])
        sounding.add(np.array([events.duration[k] > 0]), classes, np.array([end]))
    return np.array(read).reshape(len(events), -1), sounding


def test_booking_note_by_note_gives_the_active_sets_of_the_data_and_of_training():
    bars = 0
    for piece in random_pieces(4, bars=10, seed=4):
        carry = Carry.silent(1)
        for index in range(len(piece.bar_numerator)):
            events = piece.bar_events(index)
            plan = BarPlan.of(int(piece.bar_numerator[index]), int(piece.bar_denominator[index]))
            active, sounding = book_bar(events, plan, carry)
            assert np.array_equal(active[:, :96], events.active_pitches)
            assert np.array_equal(active[:, 96:], events.active_instruments)
            after = carry_after(events, plan, carry)
            assert np.array_equal(after.pitch_end, sounding.carry(plan.grid_length).pitch_end)
            # The training side sees the bar's own notes only (held notes come from the data).
            own, _ = book_bar(events, plan, Carry.silent(1))
            offset = torch.from_numpy(events.offset.astype(np.int64))[None]
            columns = (torch.from_numpy(getattr(events, name).astype(np.int64))[None] for name in ("duration", "pitch", "instrument"))
            pitches, instruments = sounding_in_bar(onset_times(offset), *columns)
            assert np.array_equal(pitches[0].numpy(), own[:, :96]) and np.array_equal(instruments[0].numpy(), own[:, 96:])
            carry = after
            bars += 1
    assert bars == 40


def test_an_empty_bar_hears_what_sounds_into_it_and_passes_the_rest_on():
    plan = BarPlan.of(4, 4)
    ends = np.zeros((1, 96), np.int64)
    ends[0, 10], ends[0, 20] = plan.grid_length // 2, plan.grid_length + 7
    carry = Carry(ends, np.zeros((1, 23), np.int64))
    rest = pause_fill(plan, carry)
    assert rest.active_pitches[-1, 20] and not rest.active_pitches[-1, 10]
    assert carry.shifted(plan.grid_length).pitch_end[0, 20] == 7 and carry_after(rest, plan, carry).pitch_end[0, 20] == 7
