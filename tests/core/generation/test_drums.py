"""Drums in generation (issue #17): a model that knows drums continues a piece's drum kit on
channel 10 with percussion keys; a model that does not says so in one line instead of dropping it."""

from __future__ import annotations

import pytest
import torch

from core.model import checkpoints

from core.training import runs
from core.generation import Controls, continue_piece
from core.generation.controls import PLAYABLE_RANGES, playable_ranges
from core.midi.files import read_midi, write_midi
from core.preprocess.dataset import preprocess_folder
from core.preprocess.report import EncodeOptions
from core.representation.instruments import DRUM_KEYS, MAHLERNET, POP_DRUMS
from core.music.score import DRUM_CHANNEL
from tests.core.generation.helpers import piece, random_model
from tests.core.tiny_training import groove, write_groove_folder, write_tiny_preset


@pytest.fixture(autouse=True)
def few_threads():
    torch.set_num_threads(1)  # 2 threads on 2 busy cores are many times slower for tiny nets


@pytest.fixture(scope="module")
def drum_model(tmp_path_factory):
    """A tiny continuation model trained on three grooves encoded with the pop-drums table, from a
    preset that asks for transposition (which a drum model must not do)."""
    folder = tmp_path_factory.mktemp("drums")
    preprocess_folder(write_groove_folder(folder / "midi"), folder / "dataset", jobs=1, options=EncodeOptions(instruments=POP_DRUMS))
    preset = write_tiny_preset(folder / "presets", "continuation", epochs=6, batch_size=4)
    preset.write_text(preset.read_text().replace("[training]\n", "[training]\ntranspose = 3\n"))
    runs.start_run(folder / "run", folder / "dataset", preset).fit()
    return checkpoints.load_model(folder / "run" / "best.safetensors")


def test_a_model_trained_on_drum_music_knows_its_drums_and_never_transposed_them(drum_model):
    model, card = drum_model
    assert card["network"]["instruments"] == "pop-drums" and model.config.instrument_table is POP_DRUMS
    assert card["training"]["transpose"] == 0  # a moved drum key is another drum


def test_the_drum_model_continues_the_drums_on_channel_10_with_percussion_keys(drum_model, tmp_path):
    model, _ = drum_model
    song = groove(bars=8, seed=7)
    result = continue_piece(model, song, from_bar=4, bars=4, variations=3, controls=Controls(seed=1))
    assert result.notes == ()  # nothing left out
    drum_notes = []
    for variation in result.variations:
        for track in variation.fragment.tracks:
            if track.program == 0 and track.name == "Drums":
                assert track.channel == DRUM_CHANNEL  # joins the piece's kit
            if track.is_drum:
                drum_notes += [n.pitch for n in track.notes]
    assert drum_notes and all(DRUM_KEYS[0] <= key <= DRUM_KEYS[1] for key in drum_notes)
    path = tmp_path / "continued.mid"
    write_midi(result.continued(0), path)
    back = read_midi(path)
    kit = [t for t in back.tracks if t.is_drum]
    new_start = back.bar(5).start
    assert len(kit) == 1 and any(n.start >= new_start for n in kit[0].notes)  # the kit plays on in the file


def test_a_model_without_drums_says_it_leaves_them_out():
    model = random_model(seed=2)
    assert model.config.instrument_table is MAHLERNET
    result = continue_piece(model, groove(bars=8), from_bar=4, bars=2, controls=Controls(seed=0))
    assert model.config.context_bars == 1 and len(result.notes) == 1
    # the bars it heard: one context bar and the seed bar, 12 hits each
    assert result.notes[0].startswith("drums not continued: bars 3-4 play 24 drum notes (channel 10)")
    assert "(mahlernet) has no drum class" in result.notes[0]
    assert not any(t.is_drum for v in result.variations for t in v.fragment.tracks)


def test_no_note_without_drums_in_the_bars_heard_or_with_a_drum_model():
    plain = continue_piece(random_model(seed=2), piece(bars=4), from_bar=2, bars=1)
    assert plain.notes == ()
    drummer = random_model(seed=2, instruments="pop-drums")
    assert continue_piece(drummer, groove(bars=8), from_bar=4, bars=1).notes == ()


def test_a_drum_model_plays_the_drum_class_only_on_percussion_keys():
    ranges = playable_ranges(POP_DRUMS)
    assert ranges[POP_DRUMS.drum_class] == DRUM_KEYS and playable_ranges(MAHLERNET) == PLAYABLE_RANGES
    assert [r for i, r in enumerate(ranges) if i != 17] == [r for i, r in enumerate(PLAYABLE_RANGES) if i != 17]
    assert Controls().for_table(POP_DRUMS).ranges == ranges
    chosen = tuple((0, 127) for _ in PLAYABLE_RANGES)
    assert Controls(ranges=chosen).for_table(POP_DRUMS).ranges == chosen  # the caller's ranges win
