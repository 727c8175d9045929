"""Choosing each new bar's z: the model's prior (learned or standard), the original's N(0, I),
reranked candidates; nucleus sampling; and the instruments a continuation may use by default."""

import dataclasses

import numpy as np
import pytest
import torch

from core.generation import Controls, Temperatures, continue_piece
from core.generation.continuation import _history
from core.generation.engine import context_summaries, encode_bars
from core.generation.history import piece_bars
from core.generation.bars import BarPlan, Carry, pause_fill
from core.generation.latent import candidate_streams, decode_bar, prior_z
from core.generation.sampler import RETRIES, Sampler, _nucleus_floor, make_streams
from core.model.objective import kl_divergence
from tests.core.generation.helpers import piece, random_model

LIVELY = Controls(Temperatures.uniform(1.2), seed=4)


def learned_model(seed: int = 0):
    model = random_model(seed=seed, prior="learned", prior_size=8)
    with torch.no_grad():
        torch.nn.init.normal_(model.prior_network[2].weight, 0.0, 1.0)
    return model


def test_prior_z_follows_the_learned_prior_and_standard_ignores_it():
    model = learned_model()
    summary = torch.randn(3, 2 * model.config.encoder_size)
    noise = torch.randn(3, model.config.z_dim)
    mu, logvar = model.prior(summary)
    assert torch.allclose(prior_z(model, summary, noise, Controls(z_scale=1.0)), mu + torch.exp(0.5 * logvar) * noise)
    assert torch.allclose(prior_z(model, summary, noise, Controls(z_scale=0.0)), mu)
    assert torch.equal(prior_z(model, summary, noise, Controls(latent="standard", z_scale=1.0)), noise)
    plain = random_model()
    assert torch.allclose(prior_z(plain, summary, noise, Controls(z_scale=0.5)), 0.5 * noise)


def test_the_latent_choice_changes_the_music_of_a_learned_prior_model():
    model, score = learned_model(1), piece((4, 4), bars=4)
    prior = continue_piece(model, score, 4, 2, variations=2, controls=LIVELY)
    standard = continue_piece(model, score, 4, 2, variations=2, controls=dataclasses.replace(LIVELY, latent="standard"))
    assert any(not np.array_equal(a.pitch, b.pitch) for v, w in zip(prior.variations, standard.variations) for a, b in zip(v.events, w.events))


def test_one_candidate_reranked_is_the_prior_itself():
    model, score = learned_model(2), piece((3, 4), bars=4)
    prior = continue_piece(model, score, 4, 2, variations=2, controls=LIVELY)
    reranked = continue_piece(model, score, 4, 2, variations=2, controls=dataclasses.replace(LIVELY, latent="rerank", candidates=1))
    for a, b in zip(prior.variations, reranked.variations):
        assert all(np.array_equal(x.pitch, y.pitch) and np.array_equal(x.offset, y.offset) for x, y in zip(a.events, b.events))


def test_reranking_keeps_the_candidate_closest_to_the_prior():
    model, score = learned_model(3), piece((4, 4), bars=4)
    controls = dataclasses.replace(LIVELY, latent="rerank", candidates=3)
    kept = continue_piece(model, score, 4, 1, variations=1, controls=controls).variations[0].events[0]
    # Decode the three candidates one by one, as the variation's streams would, and score them.
    line_result = continue_piece(model, score, 4, 1, variations=1, controls=dataclasses.replace(LIVELY, latent="prior"))
    candidates = candidate_streams(make_streams(LIVELY.seed, 1), 3)
    bars = []
    for stream in candidates:
        alone = continue_piece(model, score, 4, 1, controls=dataclasses.replace(LIVELY, seed=stream.seed))
        bars.append(alone.variations[0].events[0])
    assert np.array_equal(bars[0].pitch, line_result.variations[0].events[0].pitch)
    bars_of = piece_bars(score)
    line = _history(bars_of, bars_of.sequence(4, 4), None, model.config.context_bars)
    with torch.no_grad():
        summary = context_summaries(model, [line] * 3)
        mu, logvar = encode_bars(model, bars, summary)
        kl = kl_divergence(mu, logvar, *model.prior(summary))
    best = bars[int(kl.argmin())]
    assert np.array_equal(kept.pitch, best.pitch) and np.array_equal(kept.offset, best.offset)


class GivingUp(Sampler):
    """A sampler whose first decoding gives up on the rows in ``fail`` (a rest, as after every retry),
    and whose later decodings give up on the rows in ``fail_again``; it records the z's it was given."""

    def __init__(self, model, controls, fail: set[int], fail_again: set[int] = frozenset()):
        super().__init__(model, controls)
        self.fail, self.fail_again, self.calls = fail, fail_again, []

    def decode(self, state, plans, carry, streams, bar=0, temperatures=None, cancel=None):
        decoded = super().decode(state, plans, carry, streams, bar, temperatures, cancel)
        self.calls.append((state.h.clone(), [s.seed for s in streams], decoded))
        failing = self.fail if len(self.calls) == 1 else self.fail_again
        for row in failing & set(range(len(plans))):
            decoded.events[row] = pause_fill(plans[row], carry.take([row]))
            decoded.attempts[row] = 0
        return decoded


@pytest.mark.parametrize("fail_again", [set(), {0}])
def test_a_bar_that_gave_up_is_decoded_again_from_a_new_code(fail_again):
    model = learned_model(4)
    summary = torch.randn(3, 2 * model.config.encoder_size)
    streams = make_streams(7, 3)
    sampler = GivingUp(model, LIVELY, fail={1}, fail_again=fail_again)
    plan = BarPlan.of(4, 4)
    decoded = decode_bar(model, sampler, summary, plan, Carry.silent(3), streams, 0, LIVELY)
    first, second = sampler.calls[0][2], sampler.calls[1]
    assert len(sampler.calls) == 2 and len(second[1]) == 1  # only the row that gave up
    assert second[1][0] not in {s.seed for s in streams}  # from a stream of its own
    for row in (0, 2):
        assert decoded.events[row].equals(first.events[row]) and decoded.attempts[row] == first.attempts[row]
    if fail_again:
        assert decoded.attempts[1] == 0 and decoded.events[1].is_pause.all()  # the rest stays
    else:
        assert decoded.events[1].equals(second[2].events[0]) and decoded.attempts[1] > RETRIES + 1
        assert not decoded.events[1].is_pause.all()


def test_no_bar_gave_up_no_second_decoding():
    model = learned_model(4)
    sampler = GivingUp(model, LIVELY, fail=set())
    decode_bar(model, sampler, torch.randn(2, 2 * model.config.encoder_size), BarPlan.of(3, 4), Carry.silent(2), make_streams(1, 2), 0, LIVELY)
    assert len(sampler.calls) == 1


def nucleus(values: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """Which classes nucleus sampling keeps, per row."""
    return values >= _nucleus_floor(values, temperature, top_p, np.arange(len(values)))[:, None]


def test_the_nucleus_keeps_the_likeliest_classes_up_to_the_mass_asked():
    values = np.log(np.array([[0.5, 0.3, 0.15, 0.05], [0.05, 0.15, 0.3, 0.5]], np.float32))
    kept = nucleus(values, 1.0, 0.7)
    assert kept.tolist() == [[True, True, False, False], [False, False, True, True]]
    assert nucleus(values, 1.0, 0.4).sum(axis=1).tolist() == [1, 1]  # the first always stays
    hot = nucleus(values, 10.0, 0.7).sum(axis=1)  # a high temperature flattens
    assert hot.tolist() == [3, 3]


def test_the_nucleus_of_peaked_and_flat_rows_matches_arg_sorting_every_row():
    """Keeping the classes at or above a threshold value keeps what ranking the classes one by one keeps."""
    rng = np.random.default_rng(3)
    values = (rng.normal(size=(64, 40)) * rng.choice([0.5, 3.0, 12.0], size=(64, 1))).astype(np.float32)
    for temperature, top_p in ((1.0, 0.9), (0.5, 0.7), (2.0, 0.95)):
        scaled = values / temperature
        order = np.argsort(-scaled, axis=1)
        ranked = np.exp(np.take_along_axis(scaled, order, 1) - scaled.max(axis=1, keepdims=True))
        ranked /= ranked.sum(axis=1, keepdims=True)
        expected = np.zeros(values.shape, bool)
        np.put_along_axis(expected, order, np.cumsum(ranked, axis=1) - ranked < top_p, 1)
        kept = nucleus(values, temperature, top_p)
        assert np.array_equal(kept, expected)
        assert (kept.sum(axis=1) == 1).any() and (kept.sum(axis=1) > 1).any()  # peaked and flat rows


def test_nucleus_sampling_stays_inside_the_nucleus():
    model, score = random_model(seed=5, spread=2.0), piece((4, 4), bars=4)
    loose = continue_piece(model, score, 4, 2, variations=3, controls=LIVELY)
    tight = continue_piece(model, score, 4, 2, variations=3, controls=dataclasses.replace(LIVELY, top_p=0.05))
    assert len({tuple(e.pitch) for v in tight.variations for e in v.events}) < len({tuple(e.pitch) for v in loose.variations for e in v.events})
    with pytest.raises(Exception, match="top-p"):
        Controls(top_p=0.0)


def test_a_continuation_plays_the_seeds_instruments_unless_told_otherwise():
    model, score = random_model(seed=6, spread=2.0), piece((4, 4), bars=4)  # violin and cello
    heard = {4, 6}  # the violin and cello classes
    default = continue_piece(model, score, 4, 3, variations=3, controls=LIVELY)
    used = {int(i) for v in default.variations for e in v.events for i in e.instrument if i >= 0}
    assert used and used <= heard
    everything = dataclasses.replace(LIVELY, instruments=frozenset(range(23)))
    wide = continue_piece(model, score, 4, 3, variations=3, controls=everything)
    assert {int(i) for v in wide.variations for e in v.events for i in e.instrument if i >= 0} - heard
