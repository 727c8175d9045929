"""Soundfont discovery: explicit choice, environment variable, system folders per platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.audio.soundfont import ENV_VAR, candidate_soundfonts, find_soundfont, soundfont_directories
from core.errors import AudioError


def _font(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\0\0\0\0sfbk")
    return path


def test_explicit_choice_wins_over_everything(tmp_path):
    mine = _font(tmp_path / "mine.sf2")
    other = _font(tmp_path / "other.sf2")
    assert find_soundfont(mine, env={ENV_VAR: str(other)}) == mine


def test_environment_variable_comes_next(tmp_path):
    other = _font(tmp_path / "other.sf2")
    assert find_soundfont(None, env={ENV_VAR: str(other), "HOME": str(tmp_path)}) == other


def test_missing_explicit_file_is_a_clear_error(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        find_soundfont(tmp_path / "nope.sf2", env={})
    with pytest.raises(AudioError, match=ENV_VAR):
        find_soundfont(None, env={ENV_VAR: str(tmp_path / "nope.sf2")})
    text = _font(tmp_path / "notes.txt")
    with pytest.raises(AudioError, match="not a soundfont"):
        find_soundfont(text, env={})


def test_linux_folders_prefer_the_system_default_then_known_names(tmp_path):
    share = tmp_path / "share"
    tim = _font(share / "sounds" / "sf2" / "TimGM6mb.sf2")
    fluid = _font(share / "soundfonts" / "FluidR3_GM.sf2")
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_DIRS": str(share)}
    found = candidate_soundfonts(env, "linux")
    assert found.index(fluid) < found.index(tim)
    default = _font(share / "sounds" / "sf2" / "default-GM.sf2")
    assert find_soundfont(None, env=env, platform="linux") == default


def test_user_folder_and_other_names_are_found(tmp_path):
    odd = _font(tmp_path / "home" / ".local" / "share" / "soundfonts" / "Orchestra.sf3")
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_DIRS": str(tmp_path / "empty")}
    assert odd in candidate_soundfonts(env, "linux")


def test_platform_folders():
    mac = [str(p) for p in soundfont_directories({"HOME": "/Users/u"}, "darwin")]
    assert "/opt/homebrew/share/soundfonts" in mac and "/usr/local/share/soundfonts" in mac
    assert "/Users/u/Library/Audio/Sounds/Banks" in mac
    windows = [p.as_posix() for p in soundfont_directories({"USERPROFILE": "C:/Users/u"}, "win32")]
    assert "C:/soundfonts" in windows and "C:/Users/u/soundfonts" in windows
    linux = [str(p) for p in soundfont_directories({"HOME": "/home/u"}, "linux")]
    assert "/usr/share/sounds/sf2" in linux and "/usr/share/soundfonts" in linux


def test_nothing_found_says_how_to_fix_it(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_DATA_DIRS": str(tmp_path / "none")}
    with pytest.raises(AudioError, match=ENV_VAR) as caught:
        find_soundfont(None, env=env, platform="win32")
    assert "\n" not in str(caught.value)
