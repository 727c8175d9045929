"""Round-trip decoding: of several bars decoded from one code, the one the encoder maps back nearest
to that code is kept; one candidate is plain decoding; the interpolation uses it at both ends."""

import numpy as np
import pytest
import torch

from core.errors import GenerationError
from core.generation import Controls, Temperatures, interpolate
from core.generation.bars import BarPlan, Carry
from core.generation.engine import encode_bars, evaluating
from core.generation.round_trip import decode_nearest
from core.generation.sampler import Sampler, make_streams
from tests.core.generation.helpers import random_model, two_bars

GREEDY = Controls(temperatures=Temperatures.greedy(), seed=3)
ROWS = 3


def decode(model, candidates: int, controls: Controls = GREEDY):
    torch.manual_seed(1)
    z = torch.randn(ROWS, model.config.z_dim)
    plans = [BarPlan.of(4, 4)] * ROWS
    with evaluating(model):
        decoded = decode_nearest(model, Sampler(model, controls), z, None, plans, Carry.silent(ROWS), make_streams(controls.seed, ROWS), candidates)
        distance = ((encode_bars(model, decoded.events, None)[0] - z) ** 2).sum(dim=1)
    return z, decoded, distance


def test_one_candidate_is_plain_decoding():
    model = random_model(seed=5, use_context=False)
    z, decoded, _ = decode(model, candidates=1)
    with evaluating(model):
        plain = Sampler(model, GREEDY).decode(model.initial_state(z, None), [BarPlan.of(4, 4)] * ROWS, Carry.silent(ROWS), make_streams(3, ROWS))
    assert all(a.equals(b) for a, b in zip(decoded.events, plain.events))
    assert decoded.attempts == plain.attempts


def test_the_kept_bar_comes_back_nearer_to_its_code_than_the_greedy_bar():
    model = random_model(seed=5, use_context=False)
    _, greedy, greedy_distance = decode(model, candidates=1)
    _, searched, searched_distance = decode(model, candidates=6)
    assert len(searched.events) == ROWS and searched.carry.rows == ROWS
    assert torch.all(searched_distance <= greedy_distance + 1e-5)
    # The search did something: some row kept a sampled bar, strictly nearer than the greedy one.
    changed = [i for i in range(ROWS) if not searched.events[i].equals(greedy.events[i])]
    assert changed and all(searched_distance[i] < greedy_distance[i] for i in changed)


def test_the_search_is_repeatable():
    model = random_model(seed=6, use_context=False)
    _, one, _ = decode(model, candidates=4)
    _, two, _ = decode(model, candidates=4)
    assert all(a.equals(b) for a, b in zip(one.events, two.events))
    assert np.array_equal(one.carry.pitch_end, two.carry.pitch_end)


def test_the_interpolation_checks_the_number_of_candidates():
    model = random_model(seed=7, use_context=False)
    with pytest.raises(GenerationError, match="33 candidates"):
        interpolate(model, two_bars(), 1, 2, 3, candidates=33)
    one = interpolate(model, two_bars(), 1, 2, 3, candidates=1)
    many = interpolate(model, two_bars(), 1, 2, 3, candidates=8)
    assert [s.t for s in one.steps] == [s.t for s in many.steps] == [0.0, 0.5, 1.0]
