"""The NumPy tables are an implementation of the network's own chain: the sampler decodes the same
events through either, under the same seeds and rules."""

import dataclasses

import numpy as np
import pytest
import torch

from core.generation.bars import BarPlan, Carry, event_batch
from core.generation.controls import Controls, Temperatures
from core.generation.engine import standard_normal
from core.generation.sampler import Sampler, make_streams
from core.representation.events import EventArrays
from core.representation.vocabulary import class_of_units
from tests.core.generation.helpers import random_model

MODELS = {
    "continuation": {},
    "no velocity, 3 layers, output norm, same-step mask": {
        "use_velocity": False, "decoder_layers": 3, "output_norm": True, "same_step_mask": True, "use_context": False,
    },
}  # fmt: skip
CONTROLS = {
    "defaults (top-p 0.8)": Controls(),
    "hot, no nucleus": Controls(Temperatures.uniform(1.5), top_p=1.0),
    "greedy": Controls(Temperatures.greedy()),
    "strings only, nucleus 0.6": Controls(Temperatures.uniform(2.0), instruments=frozenset({4, 5, 6}), top_p=0.6),
}


def busy_model(changes):
    """A random network leaning to chords and eighth-note steps, so bars hold many events."""
    model = random_model(seed=7, spread=1.0, **changes)
    with torch.no_grad():
        if model.head_norms is not None:
            for norm in model.head_norms.values():
                norm.running_mean.normal_(0.0, 0.3)
                norm.running_var.uniform_(0.5, 2.0)
        bias = model.heads["offset"].bias
        bias.fill_(-4.0)
        bias[0], bias[class_of_units(12)] = 2.0, 3.0
    return model


def decode(model, controls, decoder, plans, carry):
    rows = len(plans)
    streams = make_streams(11, rows)
    with torch.inference_mode():
        summary = model.encode_context(event_batch([EventArrays.empty()] * rows, [True] * rows)) if model.config.use_context else None
        state = model.initial_state(standard_normal(streams, 0, model.config.z_dim, torch.device("cpu")), summary)
    return Sampler(model, controls, decoder=decoder).decode(state, plans, carry, streams)


@pytest.mark.parametrize("controls", list(CONTROLS))
@pytest.mark.parametrize("name", list(MODELS))
def test_tables_and_network_decode_the_same_events(name, controls):
    model = busy_model(MODELS[name])
    plans = [BarPlan.of(4, 4), BarPlan.of(3, 4), BarPlan.of(6, 8), BarPlan.of(4, 4)] * 2
    ends = np.zeros((len(plans), 96), np.int64)
    ends[0, [30, 40, 47]] = [96, 300, 500]  # notes sounding into the first row's bar
    carry = Carry(ends, np.zeros((len(plans), 23), np.int64))
    tables = decode(model, CONTROLS[controls], "tables", plans, carry)
    network = decode(model, CONTROLS[controls], "network", plans, carry)
    assert tables.attempts == network.attempts
    assert np.array_equal(tables.carry.pitch_end, network.carry.pitch_end)
    assert np.array_equal(tables.carry.instrument_end, network.carry.instrument_end)
    chords = 0
    for fast, reference in zip(tables.events, network.events):
        for field in dataclasses.fields(fast):
            assert np.array_equal(getattr(fast, field.name), getattr(reference, field.name)), field.name
        chords += int(np.count_nonzero((fast.offset[1:] == 0) & ~fast.is_pause[1:]))
    assert sum(len(e) for e in tables.events) >= 20  # real bars, not a row of rests
    assert chords >= 3  # the chord rules had work to do


def test_an_unknown_decoder_is_refused():
    with pytest.raises(ValueError, match="decoder"):
        Sampler(random_model(), Controls(), decoder="gpu")
