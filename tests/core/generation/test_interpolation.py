"""Interpolation: the ends of an overfit model give back bars A and B, for context-free models and
for context models under a fixed context; linear and spherical paths; the slider's bars."""

import math

import pytest
import torch

from core.errors import GenerationError
from core.generation import interpolate
from core.generation.interpolation import mix, points
from tests.core.generation.helpers import encoded, overfit, piece, random_model, two_bars


@pytest.fixture(scope="module")
def score():
    return two_bars()


@pytest.fixture(scope="module")
def context_free(score):
    return overfit([encoded(score)], use_context=False)


@pytest.fixture(scope="module")
def with_context(score):
    # Each bar its own piece: both are learnt under the START context, the one the interpolation uses.
    first, second = score.slice_bars(1, 1), score.slice_bars(2, 2)
    return overfit([encoded(first), encoded(second)], use_context=True)


@pytest.mark.parametrize("slerp", [False, True])
def test_the_ends_of_a_context_free_model_are_bars_a_and_b(score, context_free, slerp):
    result = interpolate(context_free, score, 1, 2, 5, slerp=slerp)
    piece = encoded(score)
    assert [step.t for step in result.steps] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert result.context == "none"
    assert result.steps[0].events.equals(piece.bar_events(0))
    assert result.steps[-1].events.equals(piece.bar_events(1))
    assert result.steps[0].fragment.notes_count == 4 and result.steps[-1].fragment.notes_count == 5


def test_the_ends_of_a_context_model_under_the_start_context(score, with_context):
    piece = encoded(score)
    result = interpolate(with_context, score, 1, 2, 4, context="start")
    assert result.context == "start"
    assert result.steps[0].events.equals(piece.bar_events(0))
    assert result.steps[-1].events.equals(piece.bar_events(1))


def test_the_sequence_is_bar_a_the_steps_then_bar_b(score, context_free):
    result = interpolate(context_free, score, 1, 2, 3)
    sequence = result.sequence()
    bar = score.bar(1).length
    assert sequence.bar_count == 5
    first = sorted(n for t in sequence.tracks for n in t.notes if n.start < bar)
    assert first == sorted(n for t in score.slice_bars(1, 1).tracks for n in t.notes)
    last = sorted(n._replace(start=n.start - 4 * bar) for t in sequence.tracks for n in t.notes if n.start >= 4 * bar)
    assert last == sorted(n for t in score.slice_bars(2, 2).tracks for n in t.notes)
    assert {m.text for m in sequence.time_signatures} == {"4/4"}
    assert {t.us_per_quarter for t in sequence.tempos} == {500_000}


def test_a_chosen_step_goes_into_the_piece(score, context_free):
    result = interpolate(context_free, score, 1, 2, 3)
    ghosts = result.ghost_notes(1, at_bar=3)
    assert ghosts and all(score.bar(3).start <= g.note.start for g in ghosts)
    inserted = result.insert(1, at_bar=2)
    assert inserted.notes_count == score.notes_count + result.steps[1].fragment.notes_count
    assert score == two_bars()


def test_context_models_interpolate_under_the_bar_before_a():
    model, score = random_model(seed=3), piece((3, 4), bars=5)
    result = interpolate(model, score, 3, 5, 4)
    assert result.context == "before" and len(result.steps) == 4
    again = interpolate(model, score, 3, 5, 4)
    assert [s.events.offset.tolist() for s in again.steps] == [s.events.offset.tolist() for s in result.steps]


def test_paths_between_codes():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(mix(a, b, 0.0, True), a) and torch.allclose(mix(a, b, 1.0, True), b)
    assert math.isclose(float(mix(a, b, 0.5, True).norm()), 1.0, rel_tol=1e-6)  # on the great circle
    assert math.isclose(float(mix(a, b, 0.5, False).norm()), math.sqrt(0.5), rel_tol=1e-6)
    assert torch.allclose(mix(a, a * 2, 0.5, True), a * 1.5)  # no angle: a straight line
    assert points(3) == [0.0, 0.5, 1.0]


def test_bad_requests_say_why(score, context_free):
    with pytest.raises(GenerationError, match="2 to"):
        interpolate(context_free, score, 1, 2, 1)
    with pytest.raises(GenerationError, match="bars are numbered from 1"):
        interpolate(context_free, score, 0, 2, 3)
    with pytest.raises(GenerationError, match="context"):
        interpolate(context_free, score, 1, 2, 3, context="after")
