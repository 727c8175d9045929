"""Attribute vectors: the attributes of a bar, the quartile recipe, the vector file, the amounts the
composer types, and latent arithmetic on an overfit tiny model (adding bar 2's direction to bar 1's code
decodes bar 2)."""

import numpy as np
import pytest
import torch

from core.model.batching import PairSet
from core.errors import CheckpointError, GenerationError
from core.generation import Controls, Temperatures, interpolate
from core.generation.attribute_study import (
    compute_vectors,
    encode_pairs,
    measure,
    mixed_vectors,
    mixing_matrix,
    partial_vectors,
    quartile_vector,
)
from core.model.attributes import (
    ATTRIBUTES,
    AttributeVectors,
    bar_attributes,
    latent_shift,
    load_for_model,
    measured_effects,
    moves_alone,
    parse_amounts,
    vectors_path,
)
from core.generation.latent import prior_z
from tests.core.generation.helpers import encoded, overfit, random_model, two_bars

GREEDY = Controls(temperatures=Temperatures.greedy())


@pytest.fixture(scope="module")
def pieces():
    # four copies of the two bars, each its own piece: 8 bars, 4 sparse scales and 4 full chords
    return [encoded(two_bars()) for _ in range(4)]


@pytest.fixture(scope="module")
def model(pieces):
    return overfit(pieces[:1], use_context=False)


def test_the_attributes_of_a_scale_and_of_a_chord_bar():
    piece = encoded(two_bars())
    scale = bar_attributes(piece.bar_events(0), 96)
    chord = bar_attributes(piece.bar_events(1), 96)
    names = dict(zip(ATTRIBUTES, scale))
    # four quarters C D E F: 1 note per beat, steps only, one voice, on the beats, a beat long
    assert names == pytest.approx({"density": 1.0, "register": 62.75, "polyphony": 1.0, "busyness": 0.0, "stepwise": 1.0, "duration": 0.0})
    names = dict(zip(ATTRIBUTES, chord))
    # C3 G3 E4 (whole) + G5 then E5 (halves): 5 notes, 4 sounding at both onsets, the top voice leaps a third
    assert names["density"] == pytest.approx(1.25) and names["register"] == pytest.approx(64.4)
    assert names["polyphony"] == pytest.approx(4.0) and names["stepwise"] == 0.0
    assert names["duration"] == pytest.approx(np.mean(np.log2([4, 4, 4, 2, 2])))


def test_an_empty_bar_has_no_register_and_no_motion():
    from core.representation.events import EventArrays

    values = bar_attributes(EventArrays.empty(), 96)
    assert values[0] == 0.0 and np.isnan(values[1:]).all()


def test_the_quartile_vector_is_top_quarter_minus_bottom_quarter():
    codes = np.arange(16, dtype=float)[:, None] * np.array([[1.0, -2.0]])
    values = np.arange(16, dtype=float)
    values[5] = np.nan  # left out
    vector = quartile_vector(codes, values)
    finite = [i for i in range(16) if i != 5]  # 15 bars: quarters of 3
    assert vector == pytest.approx(codes[finite[-3:]].mean(0) - codes[finite[:3]].mean(0))
    with pytest.raises(GenerationError, match="too few"):
        quartile_vector(codes[:4], values[:4])


def test_vectors_round_trip_through_safetensors_and_junk_is_refused(tmp_path):
    vectors = AttributeVectors(ATTRIBUTES, np.arange(6 * 4, dtype=np.float32).reshape(6, 4))
    path = vectors_path(tmp_path / "mine.safetensors")
    assert path.name == "mine.attributes.safetensors"
    vectors.save(path)
    loaded = load_for_model(tmp_path / "mine.safetensors")
    assert loaded.names == ATTRIBUTES and np.array_equal(loaded.vectors, vectors.vectors)
    assert loaded.shift({"density": 2.0, "stepwise": -1.0}) == pytest.approx(2 * vectors.vectors[0] - vectors.vectors[4])
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match="mine.attributes.safetensors.*not an attribute-vector file"):
        AttributeVectors.load(path)
    with pytest.raises(GenerationError, match="other.safetensors has no attribute vectors"):
        load_for_model(tmp_path / "other.safetensors")


def test_amounts_parse_add_up_and_unknown_names_fail():
    assert parse_amounts(["density=+1.5", "Register=-1", "density=0.5"]) == {"density": 2.0, "register": -1.0}
    with pytest.raises(GenerationError, match="unknown attribute 'loudness'.*density, register"):
        parse_amounts(["loudness=1"])
    with pytest.raises(GenerationError, match="NAME=AMOUNT"):
        parse_amounts(["density"])
    with pytest.raises(GenerationError, match="not a number"):
        parse_amounts(["density=lots"])
    with pytest.raises(GenerationError, match="from -10 to 10"):
        parse_amounts(["density=nan"])
    vectors = AttributeVectors(ATTRIBUTES, np.ones((6, 3)))
    assert latent_shift(vectors, {"density": 0.0}) is None
    assert latent_shift(vectors, {"density": 1.5, "register": 0.5}) == pytest.approx((2.0, 2.0, 2.0))


def test_the_latent_shift_is_added_to_prior_draws_and_must_fit_the_model():
    model = random_model(seed=1, use_context=False)
    noise = torch.randn(3, model.config.z_dim)
    shift = tuple(float(x) for x in np.linspace(-1, 1, model.config.z_dim))
    plain = prior_z(model, None, noise, Controls())
    moved = prior_z(model, None, noise, Controls(latent_shift=shift))
    assert torch.allclose(moved - plain, torch.tensor(shift).expand(3, -1), atol=1e-6)
    with pytest.raises(GenerationError, match="3 dimensions but the model's code has 8"):
        prior_z(model, None, noise, Controls(latent_shift=(1.0, 2.0, 3.0)))


def test_adding_the_density_vector_to_the_scale_decodes_the_denser_chord_bar(pieces, model):
    pairs = PairSet(pieces)
    vectors = compute_vectors(model, pairs, pairs.pairs)
    codes = encode_pairs(model, pairs, pairs.pairs)[0].numpy()
    # every scale bar has one code and every chord bar another: the density vector joins them
    assert vectors.vector("density") == pytest.approx(codes[1] - codes[0], abs=1e-5)
    score = two_bars()
    shift = latent_shift(vectors, {"density": 1.0})
    result = interpolate(model, score, 1, 1, 2, controls=GREEDY)
    moved = interpolate(model, score, 1, 1, 2, controls=Controls(temperatures=Temperatures.greedy(), latent_shift=shift))
    assert result.steps[0].events.equals(encoded(score).bar_events(0))
    assert moved.steps[0].events.equals(encoded(score).bar_events(1))
    back = interpolate(model, score, 2, 2, 2, controls=Controls(temperatures=Temperatures.greedy(), latent_shift=latent_shift(vectors, {"density": -1.0})))
    assert back.steps[0].events.equals(encoded(score).bar_events(0))


def test_the_study_measures_each_vector_on_every_attribute(pieces, model):
    pairs = PairSet(pieces)
    vectors = compute_vectors(model, pairs, pairs.pairs)
    scales = pairs.pairs[::2]
    study = measure(model, vectors, pairs, scales, amount=1.0, controls=GREEDY)
    assert study.change.shape == (6, 6) and study.bars == 4
    # the density vector turns every scale into the chord bar: +0.25 notes per beat, +1.65 semitones,
    # three more notes sounding together, no step left in the top voice
    row = dict(zip(ATTRIBUTES, study.raw_change[ATTRIBUTES.index("density")]))
    assert row["density"] == pytest.approx(0.25) and row["register"] == pytest.approx(1.65)
    assert row["polyphony"] == pytest.approx(3.0) and row["stepwise"] == pytest.approx(-1.0)
    assert np.isnan(study.change).all()  # four equal bars: no spread to measure the changes in
    assert len(study.table()) == 2 + 6 and set(study.goal()) == set(ATTRIBUTES)


def test_partial_vectors_hold_the_other_attributes_fixed():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(400, 6))
    values[:, 5] = values[:, 3] + 0.1 * rng.normal(size=400)  # duration follows busyness in this corpus
    directions = np.eye(6, 8)  # attribute a moves code dimension a
    codes = values @ directions
    vectors = partial_vectors(codes, values)
    # each vector moves its own dimension only, although busyness and duration go together
    off_diagonal = vectors[:, :6] - np.diag(np.diag(vectors[:, :6]))
    assert np.abs(off_diagonal).max() < 1e-6 and (np.diag(vectors[:, :6]) > 0).all()
    quartiles = np.stack([quartile_vector(codes, values[:, a], seed=a) for a in range(6)])
    assert abs(quartiles[3, 5]) > 1.0  # the plain quartile vector of busyness drags duration along
    with pytest.raises(GenerationError, match="too few"):
        partial_vectors(codes[:10], values[:10])


def test_the_mixing_matrix_undoes_the_cross_talk_of_a_linear_response():
    rng = np.random.default_rng(5)
    response = np.eye(6) * 0.8 + 0.3 * rng.normal(size=(6, 6))  # each vector drags the others along
    mixing = mixing_matrix(response, target=1.2)
    assert mixing @ response == pytest.approx(1.2 * np.eye(6), abs=1e-9)
    # mixed vectors respond linearly: own 1.2 SD, the others 0
    vectors = rng.normal(size=(6, 16))
    attribute_of_code = np.linalg.lstsq(vectors, response, rcond=None)[0]  # a linear "decoder" with that table
    assert (mixing @ vectors) @ attribute_of_code == pytest.approx(1.2 * np.eye(6), abs=1e-6)
    silent = np.zeros((6, 6))
    silent[0, 0] = np.nan  # a vector that moves nothing (and an attribute with no spread) gives a finite mix
    assert np.isfinite(mixing_matrix(silent)).all() and not mixing_matrix(silent).any()


def test_the_mix_keeps_the_quartile_vectors_when_no_step_meets_more_goals(pieces, model):
    pairs = PairSet(pieces)
    quartile = compute_vectors(model, pairs, pairs.pairs)
    # four equal bars of each kind: no spread, no goal can be met, so the first set (the quartile one) stays
    mixed = mixed_vectors(model, pairs, quartile, pairs.pairs, steps=1)
    assert np.array_equal(mixed.vectors, quartile.vectors) and mixed.names == ATTRIBUTES
    with pytest.raises(GenerationError, match="mix recipe needs training bars"):
        compute_vectors(model, pairs, pairs.pairs, recipe="mix")
    assert np.array_equal(compute_vectors(model, pairs, pairs.pairs, recipe="mix", mix_ids=pairs.pairs).vectors, quartile.vectors)


def test_a_vector_moves_its_attribute_alone_only_by_one_sd_with_the_others_under_half():
    assert moves_alone(1.0, [0.49, -0.49]) and moves_alone(2.0, [0.99])
    assert not moves_alone(0.99, [0.0])  # not far enough
    assert not moves_alone(1.2, [0.1, -0.6])  # polyphony dragged along by more than half
    assert not moves_alone(1.2, [0.1, float("nan")])  # an attribute it could not measure proves nothing
    assert not moves_alone(-1.5, [0.0])  # the wrong way


def card_table(**rows: dict[str, float]) -> dict:
    return {"attributes": {"amount": 1.5, "test_bars": 200, "change_sd": rows}}


def test_measured_effects_read_the_cards_table_and_name_what_else_moves():
    density = {"density": 0.45, "register": 0.08, "polyphony": 0.5, "busyness": 0.22, "stepwise": 0.1, "duration": -0.33}
    register = {"density": -0.02, "register": 1.49, "polyphony": -0.04, "busyness": -0.03, "stepwise": 0.1, "duration": -0.02}
    effects = measured_effects(card_table(density=density, register=register, stepwise="junk", busyness={"density": "x"}))
    assert set(effects) == {"density", "register"}  # rows that are not tables of numbers are left out
    dense = effects["density"]
    assert dense.own == pytest.approx(0.45)
    assert dense.side_effects() == [("polyphony", 0.5), ("duration", -0.33)]  # largest first, >= 0.25 SD
    assert dense.describe() == (
        "Measured on 200 held-out bars at +1.5 (SD: the spread of an attribute over real bars): note density +0.45 SD;"
        " it also moved polyphony +0.50 SD, note length -0.33 SD."
    )
    assert effects["register"].describe().endswith("register +1.49 SD; nothing else by 0.25 SD or more.")


def test_a_card_without_a_usable_table_has_no_measured_effects():
    assert measured_effects({}) == {}
    assert measured_effects({"attributes": "computed elsewhere"}) == {}
    assert measured_effects({"attributes": {"amount": "lots", "change_sd": {"density": {"density": 1.0}}}}) == {}


def test_an_arrangers_bars_are_measured_over_their_own_chords(pieces):
    from core.generation.attribute_study import bar_chords
    from tests.core.generation.test_arrange import tiny_model

    arranger = tiny_model(chords=True)
    pairs = PairSet(pieces)
    pairs.bar_chords = None  # a dataset from before chords were stored
    with pytest.raises(GenerationError, match="the dataset holds none"):
        bar_chords(arranger, pairs, pairs.pairs)
    assert bar_chords(random_model(seed=1, use_context=False), pairs, pairs.pairs) is None  # a model without chords
    pairs.bar_chords = np.arange(2 * len(pairs.pairs)).reshape(-1, 2) % 24
    assert bar_chords(arranger, pairs, pairs.pairs[1:3]).tolist() == pairs.bar_chords[1:3].tolist()
    vectors = AttributeVectors(ATTRIBUTES, np.random.default_rng(0).normal(0, 1, (len(ATTRIBUTES), arranger.config.z_dim)))
    study = measure(arranger, vectors, pairs, pairs.pairs, controls=GREEDY)
    assert study.change.shape == (6, 6) and study.bars == len(pairs.pairs)


def test_a_models_latent_shift_reads_its_vectors_only_when_an_amount_moves(tmp_path):
    from core.model.attributes import model_latent_shift

    assert model_latent_shift(tmp_path / "none.safetensors", {"density": 0.0}) is None  # no file, no error
    with pytest.raises(GenerationError, match="none.safetensors has no attribute vectors"):
        model_latent_shift(tmp_path / "none.safetensors", {"density": 1.0})
    vectors = AttributeVectors(ATTRIBUTES, np.eye(len(ATTRIBUTES), 8))
    vectors.save(vectors_path(tmp_path / "m.safetensors"))
    assert model_latent_shift(tmp_path / "m.safetensors", {"register": 2.0}) == (0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
