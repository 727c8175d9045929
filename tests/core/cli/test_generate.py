"""`mahlernet continue`, `interpolate` and `reconstruct` through the CLI entry point."""

import pytest

from core.model.checkpoints import make_card, save_model
from core.cli import main as cli
from core.generation import models as default_models
from core.midi.files import read_midi, write_midi
from tests.core.generation.helpers import piece, random_model


@pytest.fixture()
def run_cli(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["core.cli.generate"])
    monkeypatch.setattr(default_models, "default_model_folders", lambda: [tmp_path / "models"])
    return lambda *argv: cli.main([str(a) for a in argv])


@pytest.fixture()
def midi(tmp_path):
    path = tmp_path / "in.mid"
    write_midi(piece((6, 8), bars=4, tempo=600_000), path)
    return path


def _save(folder, name, use_context):
    folder.mkdir(parents=True, exist_ok=True)
    model = random_model(seed=3, use_context=use_context)
    return save_model(folder / f"{name}.safetensors", model, make_card(model, name=name))


@pytest.mark.parametrize(
    "argv",
    [
        ["continue", "{midi}", "--from-bar", "2", "--bars", "2", "--out", "{out}"],
        ["interpolate", "{midi}", "--bar-a", "1", "--bar-b", "2", "--steps", "3", "--out", "{out}"],
        ["reconstruct", "{midi}", "--bar", "1", "--out", "{out}"],
    ],
)
def test_without_a_model_one_line_and_exit_2(run_cli, midi, tmp_path, capsys, argv):
    code = run_cli(*(a.format(midi=midi, out=tmp_path / "out.mid") for a in argv))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"mahlernet {argv[0]}: no ") and "model is installed" in err
    assert not (tmp_path / "out.mid").exists()


def test_continue_writes_one_file_per_variation(run_cli, midi, tmp_path, capsys):
    _save(tmp_path / "models", "classical-continuation", use_context=True)
    out = tmp_path / "out" / "cont.mid"
    code = run_cli(
        "continue", midi, "--from-bar", 3, "--bars", 2, "--out", out, "--variations", 3, "--seed", 4,
        "--temperatures", "1.2,1,1,1,1", "--instruments", "violin,cello",
    )  # fmt: skip
    assert code == 0
    paths = [out, out.with_name("cont-2.mid"), out.with_name("cont-3.mid")]
    printed = capsys.readouterr().out
    for index, path in enumerate(paths):
        assert f"wrote {path}" in printed and f"(seed {4 + index})" in printed
        score = read_midi(path)
        bar = score.bar(1).length
        assert {m.text for m in score.time_signatures} == {"6/8"}
        assert {t.us_per_quarter for t in score.tempos} == {600_000}
        assert all(n.start < 5 * bar for t in score.tracks for n in t.notes)
        assert {t.program for t in score.tracks} <= {40, 42}  # only the allowed violin and cello


def test_interpolate_and_reconstruct_with_a_named_model(run_cli, midi, tmp_path, capsys):
    interpolation = _save(tmp_path / "elsewhere", "mine", use_context=False)
    out = tmp_path / "morph.mid"
    assert run_cli("interpolate", midi, "--bar-a", 1, "--bar-b", 3, "--steps", 4, "--out", out, "--slerp", "--model", interpolation) == 0
    bar = read_midi(midi).bar(1).length
    morph = read_midi(out)
    assert morph.bar_count <= 6 and all(n.start < 6 * bar for t in morph.tracks for n in t.notes)
    assert min(n.start for t in morph.tracks for n in t.notes) == 0  # bar A comes first
    _save(tmp_path / "models", "classical-continuation", use_context=True)
    assert run_cli("reconstruct", midi, "--bar", 2, "--out", tmp_path / "recon.mid") == 0
    printed = capsys.readouterr().out
    assert "accuracy offset" in printed and "pitch" in printed
    assert read_midi(tmp_path / "recon.mid").notes_count > 0


def test_bad_bars_are_one_line_errors(run_cli, midi, tmp_path, capsys):
    _save(tmp_path / "models", "classical-continuation", use_context=True)
    assert run_cli("continue", midi, "--from-bar", 2, "--bars", 0, "--out", tmp_path / "x.mid") == 2
    assert run_cli("continue", midi, "--from-bar", 2, "--bars", 2, "--context-bar", "x", "--out", tmp_path / "x.mid") == 2
    assert run_cli("continue", midi, "--from-bar", 2, "--bars", 2, "--instruments", "kazoo", "--out", tmp_path / "x.mid") == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("mahlernet continue: ") for line in lines)


def test_continuing_drums_with_a_model_without_drums_prints_a_one_line_note(run_cli, tmp_path, capsys):
    from tests.core.tiny_training import groove

    song = tmp_path / "groove.mid"
    write_midi(groove(bars=8), song)
    _save(tmp_path / "models", "classical-continuation", use_context=True)
    assert run_cli("continue", song, "--from-bar", 4, "--bars", 2, "--out", tmp_path / "plain.mid") == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and notes[0].startswith("note: drums not continued: bars 3-4 play 24 drum notes")
    continued = read_midi(tmp_path / "plain.mid")
    assert any(t.is_drum for t in continued.tracks)  # the seed's drums are still in the file
    assert not [n for t in continued.tracks if t.is_drum for n in t.notes if n.start >= 4 * 1920]  # none after it


def test_a_drum_model_takes_drums_among_the_allowed_instruments_and_prints_no_note(run_cli, tmp_path, capsys):
    from tests.core.tiny_training import groove

    song = tmp_path / "groove.mid"
    write_midi(groove(bars=8), song)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    model = random_model(seed=3, instruments="pop-drums")
    path = save_model(folder / "drummer.safetensors", model, make_card(model, name="drummer"))
    out = tmp_path / "drums.mid"
    code = run_cli("continue", song, "--from-bar", 4, "--bars", 2, "--instruments", "drums", "--model", path, "--out", out)
    assert code == 0 and "note:" not in capsys.readouterr().out
    new = [n for t in read_midi(out).tracks for n in t.notes if n.start >= 4 * 1920]
    kit = [t for t in read_midi(out).tracks if t.is_drum]
    assert new and len(kit) == 1 and all(n in kit[0].notes for n in new)  # only the kit plays on


@pytest.mark.parametrize("meter", ["3/4", "6/8", "4/4"])
def test_generate_writes_new_pieces_in_the_asked_meter(run_cli, tmp_path, capsys, meter):
    _save(tmp_path / "models", "classical-continuation", use_context=True)
    out = tmp_path / "new.mid"
    code = run_cli("generate", "--bars", 3, "--meter", meter, "--tempo", 90, "--variations", 2, "--seed", 3, "--out", out)
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    for index, path in enumerate([out, out.with_name("new-2.mid")]):
        assert f"wrote {path}: 3 bars of {meter}" in printed and f"(seed {3 + index})" in printed
        score = read_midi(path)
        assert [m.text for m in score.time_signatures] == [meter] and round(score.tempos[0].bpm) == 90
        assert all(n.start < score.bar(4).start for t in score.tracks for n in t.notes)


def test_attributes_move_the_codes_and_unknown_names_fail_before_anything_is_read(run_cli, midi, tmp_path, capsys):
    import numpy as np

    from core.model.attributes import ATTRIBUTES, AttributeVectors, vectors_path

    path = _save(tmp_path / "models", "classical-continuation", use_context=True)
    out = tmp_path / "g.mid"
    assert run_cli("generate", "--bars", 2, "--out", out, "--attribute", "loudness=+1") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown attribute 'loudness' (known: density, register" in err
    assert run_cli("generate", "--bars", 2, "--out", out, "--attribute", "density=+1") == 2
    assert "has no attribute vectors (classical-continuation.attributes.safetensors)" in capsys.readouterr().err
    assert not out.exists()
    assert run_cli("continue", midi, "--from-bar", 2, "--bars", 1, "--out", out, "--attribute", "busy") == 2
    assert "write NAME=AMOUNT" in capsys.readouterr().err

    AttributeVectors(ATTRIBUTES, np.random.default_rng(1).normal(0, 3, (6, 8))).save(vectors_path(path))
    plain, moved = tmp_path / "plain.mid", tmp_path / "moved.mid"
    assert run_cli("continue", midi, "--from-bar", 2, "--bars", 2, "--seeded", "--out", plain) == 0
    argv = ["continue", midi, "--from-bar", 2, "--bars", 2, "--seeded", "--out", moved, "--attribute", "density=+2", "--attribute", "register=-1"]
    assert run_cli(*argv) == 0
    assert read_midi(plain) != read_midi(moved)
    assert run_cli("generate", "--bars", 2, "--out", out, "--attribute", "stepwise=1.5") == 0


def test_interpolate_refuses_a_number_of_candidates_out_of_range(run_cli, midi, tmp_path, capsys):
    interpolation = _save(tmp_path / "elsewhere", "mine", use_context=False)
    out = tmp_path / "morph.mid"
    code = run_cli("interpolate", midi, "--bar-a", 1, "--bar-b", 3, "--steps", 4, "--out", out, "--candidates", 0, "--model", interpolation)
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "0 candidates per step" in err
    assert not out.exists()
    assert run_cli("interpolate", midi, "--bar-a", 1, "--bar-b", 3, "--steps", 4, "--out", out, "--candidates", 1, "--model", interpolation) == 0


@pytest.mark.parametrize("command", ["continue", "generate"])
def test_the_sampling_defaults_are_the_apps(command):
    """The CLI keeps its own copies of the defaults (importing core.generation would load torch for
    every command): they must be the app's, Controls' for continue and scratch.Z_SCALE for generate."""
    from core.generation import Controls
    from core.generation.scratch import Z_SCALE

    required = {"continue": ["x.mid", "--from-bar", "1", "--bars", "1"], "generate": ["--bars", "1"]}[command]
    args = cli.build_parser().parse_args([command, *required, "--out", "o.mid"])
    assert args.top_p == Controls.top_p and args.latent == Controls.latent and args.candidates == Controls.candidates
    assert args.z_scale == (Controls.z_scale if command == "continue" else Z_SCALE)


def test_interpolate_decodes_as_many_candidates_per_step_as_the_app():
    from core.generation.interpolation import CANDIDATES

    args = cli.build_parser().parse_args(["interpolate", "x.mid", "--bar-a", "1", "--bar-b", "2", "--out", "o.mid"])
    assert args.candidates == CANDIDATES
