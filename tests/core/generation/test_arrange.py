"""Arranging a chord progression on tiny chord-conditioned models: bars per slot, one z held (or
encoded from a bar, or moved between two), the measures, the CLI and its clean errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.model.attributes import ATTRIBUTES, AttributeVectors, vectors_path
from core.model.checkpoints import load_model, make_card, read_card, save_model
from core.cli import main as cli
from core.errors import GenerationError
from core.generation.arrange import Arrangement, ArrangedVariation, arrange, band_of, chord_tone_share, texture_overlap
from core.generation.controls import Controls, Temperatures
from core.generation.engine import encode_bars
from core.generation.history import piece_bars
from core.harmony.conditioning import slots_of
from core.harmony.labels import Chord, parse_progression
from core.midi.files import read_midi, write_midi
from core.model.network import MahlerNet, NetworkConfig
from core.music.score import Note, Score, TimeSignature, Track
from tests.core.tiny_training import tune


def tiny_model(chords: bool = True, context: bool = False, seed: int = 0) -> MahlerNet:
    torch.manual_seed(seed)
    config = NetworkConfig(use_context=context, encoder_layers=1, encoder_size=16, decoder_layers=1, decoder_size=16,
                           z_dim=8, chords=chords, encoder_dropout=0, decoder_dropout=0, z_dropout=0)  # fmt: skip
    model = MahlerNet(config).eval()
    with torch.no_grad():  # louder heads than the near-zero initialisation, so the bars hold notes
        for head in model.heads.values():
            head.weight.normal_(0.0, 0.3)
    return model


def recorded_codes(model: MahlerNet, monkeypatch: pytest.MonkeyPatch) -> list[torch.Tensor]:
    """Every z (and chords) the arranger hands to the decoder, in order."""
    seen: list[torch.Tensor] = []
    original = model.initial_state

    def spy(z, summary, chords=None):  # type: ignore[no-untyped-def]
        seen.append(z.detach().clone())
        return original(z, summary, chords)

    monkeypatch.setattr(model, "initial_state", spy)
    return seen


def test_one_bar_per_slot_with_one_z_held(monkeypatch: pytest.MonkeyPatch):
    model = tiny_model()
    codes = recorded_codes(model, monkeypatch)
    chords = parse_progression("C G Am F Dm")
    result = arrange(model, chords, chords_per_bar=2, meter=(3, 4), variations=2, controls=Controls(seed=3))
    assert result.slots.tolist() == slots_of(chords, 2).tolist() and len(result.slots) == 3
    assert len(codes) == 3 and all(torch.equal(code, codes[0]) for code in codes)  # held over the bars
    assert not torch.equal(codes[0][0], codes[0][1])  # each variation its own
    assert result.bar_ticks == 3 * 480
    for variation in result.variations:
        assert len(variation.bars) == 3
        assert variation.score.time_signatures[0].text == "3/4"
        assert all(n.start < 3 * result.bar_ticks for t in variation.score.tracks for n in t.notes)
    again = arrange(model, chords, chords_per_bar=2, meter=(3, 4), variations=2, controls=Controls(seed=3))
    assert again.variations[1].score == result.variations[1].score  # a seed gives the same music


def piece_with_two_codes(model: MahlerNet) -> tuple[Score, torch.Tensor]:
    """A tune and the posterior means of its bars 3 and 6 (a style bar and the bar a move goes to)."""
    piece = tune(8, seed=2)
    bars = piece_bars(piece)
    with torch.no_grad():
        mu, _ = encode_bars(model, [bars.events(bars.parts(3)[0]), bars.events(bars.parts(6)[0])], None)
    return piece, mu


def test_the_style_of_a_bar_and_a_move_to_another(monkeypatch: pytest.MonkeyPatch):
    model = tiny_model()
    piece, mu = piece_with_two_codes(model)
    codes = recorded_codes(model, monkeypatch)
    greedy = Controls(Temperatures.greedy())
    result = arrange(model, parse_progression("C F G C"), source=piece, style_bar=3, interpolate_to=6, controls=greedy)
    assert torch.allclose(codes[0][0], mu[0], atol=1e-5) and torch.allclose(codes[-1][0], mu[1], atol=1e-5)
    assert torch.allclose(codes[1][0], mu[0] + (mu[1] - mu[0]) / 3, atol=1e-5)
    assert result.meter == (4, 4) and len(result.variations[0].bars) == 4
    # The style bar's instruments are kept: notes go to the piece's own tracks.
    names = {track.name for track in result.variations[0].score.tracks}
    assert names <= {track.name for track in piece.tracks}


def test_the_attribute_sliders_move_the_held_code_and_both_ends_of_a_move(monkeypatch: pytest.MonkeyPatch):
    model = tiny_model()
    piece, mu = piece_with_two_codes(model)
    shift = tuple(float(x) for x in np.linspace(-1.0, 1.0, 8))
    codes = recorded_codes(model, monkeypatch)
    steered = Controls(Temperatures.greedy(), latent_shift=shift)
    arrange(model, parse_progression("C F G"), source=piece, style_bar=3, interpolate_to=6, controls=steered)
    moved = mu + torch.tensor(shift)
    assert torch.allclose(codes[0][0], moved[0], atol=1e-5) and torch.allclose(codes[-1][0], moved[1], atol=1e-5)
    codes.clear()
    arrange(model, parse_progression("C F"), controls=Controls(seed=4))
    plain = codes[0].clone()
    codes.clear()
    arrange(model, parse_progression("C F"), controls=Controls(seed=4, latent_shift=shift))
    assert torch.allclose(codes[0], plain + torch.tensor(shift), atol=1e-5)  # a prior draw, moved


def test_a_context_model_hears_the_bars_it_made():
    model = tiny_model(context=True)
    result = arrange(model, parse_progression("Am Dm E7 Am"), controls=Controls(seed=1))
    assert len(result.variations[0].bars) == 4


def test_requests_it_cannot_carry_out_are_generation_errors():
    with pytest.raises(GenerationError, match="chord-conditioned"):
        arrange(tiny_model(chords=False), parse_progression("C"))
    with pytest.raises(GenerationError, match="--from FILE --bar K"):
        arrange(tiny_model(), parse_progression("C"), interpolate_to=3)
    with pytest.raises(GenerationError, match="bars 1-8"):
        arrange(tiny_model(), parse_progression("C"), source=tune(8), style_bar=20)


def _hand_made(notes_per_bar: list[list[tuple[int, int, str]]]) -> Arrangement:
    """An arrangement of C | G (one chord a bar) whose bars hold the given (onset, pitch, track) notes."""
    tracks: dict[str, list[Note]] = {}
    for bar, notes in enumerate(notes_per_bar):
        for onset, pitch, name in notes:
            tracks.setdefault(name, []).append(Note(bar * 1920 + onset, 480, pitch, 80))
    score = Score(480, tuple(Track(name, notes=tuple(n)) for name, n in tracks.items()), time_signatures=(TimeSignature(0, 4, 4),))
    chords = (Chord(0, "maj"), Chord(7, "maj"))
    variation = ArrangedVariation(0, 0, (), score, ())
    return Arrangement(chords, slots_of(list(chords), 1), (4, 4), 1920, (variation,), 0.0)


def test_chord_tones_instruments_and_onsets_are_measured():
    arrangement = _hand_made([[(0, 60, "a"), (480, 64, "a"), (960, 62, "b")], [(0, 67, "a"), (480, 71, "a"), (960, 60, "b")]])
    assert chord_tone_share(arrangement) == pytest.approx(4 / 6)  # D over C and C over G are not
    assert texture_overlap(arrangement) == (1.0, 1.0)
    other = _hand_made([[(0, 60, "a"), (480, 64, "a")], [(0, 67, "b"), (240, 71, "b")]])
    assert texture_overlap(other) == (0.0, 0.5)


def test_the_cli_writes_each_variation_and_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    model_path = save_model(tmp_path / "arranger.safetensors", tiny_model(), make_card(tiny_model(), name="arranger"))
    out = tmp_path / "out.mid"
    assert cli.main(["arrange", "--chords", "C G Am F", "--model", str(model_path), "--variations", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert read_card(model_path)["kind"] == "arranger"
    assert "of note time on chord tones" in printed and out.is_file() and (tmp_path / "out-2.mid").is_file()
    source = tmp_path / "tune.mid"
    write_midi(tune(8), source)
    assert cli.main(["arrange", "--chords", "C G", "--chords-per-bar", "2", "--model", str(model_path),
                     "--from", str(source), "--bar", "2", "--out", str(out)]) == 0  # fmt: skip
    assert "1 bars" in capsys.readouterr().out
    for argv, message in (
        (["--chords", "C Hm"], "'Hm'"),
        (["--chords", "C", "--meter", "four"], "meter 'four'"),
        (["--chords", "C", "--from", str(source)], "--from FILE and --bar K"),
    ):
        assert cli.main(["arrange", *argv, "--model", str(model_path), "--out", str(out)]) == 2
        error = capsys.readouterr().err.strip()
        assert message in error and "\n" not in error
    assert cli.main(["arrange", "--chords", "C", "--model", str(tmp_path / "none.safetensors"), "--out", str(out)]) == 2
    assert "none.safetensors" in capsys.readouterr().err
    # --attribute moves the held code along the vectors beside the model, and names a missing file
    steer = ["arrange", "--chords", "C G", "--model", str(model_path), "--attribute", "register=+2", "--out", str(out)]
    assert cli.main(steer) == 2
    assert "arranger.safetensors has no attribute vectors" in capsys.readouterr().err
    vectors = AttributeVectors(ATTRIBUTES, np.random.default_rng(0).normal(0, 3, (len(ATTRIBUTES), 8)))
    vectors.save(vectors_path(model_path))
    assert cli.main(steer) == 0
    shift = tuple(float(x) for x in 2.0 * vectors.vector("register"))
    direct = arrange(load_model(model_path)[0], parse_progression("C G"), controls=Controls(latent_shift=shift))
    assert read_midi(out) == read_midi(_written(direct.variations[0].score, tmp_path / "direct.mid"))


def test_a_held_z_keeps_its_band_unless_the_composer_names_the_instruments():
    model = tiny_model(seed=4)
    chords = parse_progression("C G Am F Dm E7 C G")
    result = arrange(model, chords, variations=3, controls=Controls(seed=5))
    bands = [band_of(variation.bars[0]) for variation in result.variations]
    assert len({band for band in bands}) > 1  # the variations play different bands...
    for variation, band in zip(result.variations, bands):
        assert band is not None
        for bar in variation.bars[1:]:  # ...and each keeps its own over the progression
            assert band_of(bar) is None or band_of(bar) <= band
    named = arrange(model, chords, variations=3, controls=Controls(seed=5, instruments=frozenset({0, 5, 9})))
    played = {int(i) for variation in named.variations for bar in variation.bars for i in bar.instrument if i >= 0}
    assert played and played <= {0, 5, 9}
    # Decoding the variations in groups by band gives each the music it gets on its own.
    alone = arrange(model, chords, variations=1, controls=Controls(seed=5))
    assert alone.variations[0].score == result.variations[0].score


def _written(score: Score, path: Path) -> Path:
    write_midi(score, path)
    return path
