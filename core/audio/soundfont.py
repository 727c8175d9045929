"""Finding a General MIDI soundfont for the built-in synth.

The order is the user's choice first, then the environment, then the system: an explicit path (the
app's setting or ``--soundfont``), then ``$MAHLERNET_SOUNDFONT``, then the places where Linux
distributions, Homebrew and Windows installs of FluidSynth put soundfonts. An explicit path that does
not exist is an error (the user meant that file); when nothing is found anywhere the error says where
we looked and how to fix it, and the rest of the app keeps working without sound.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from core.errors import AudioError

ENV_VAR = "MAHLERNET_SOUNDFONT"
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")

# Preferred files, best first. Debian's default-GM.sf2 is the alternative the system administrator
# chose (FluidR3 when fluid-soundfont-gm is installed, TimGM6mb otherwise), so it comes first.
_PREFERRED_NAMES = (
    "default-GM.sf2",
    "default-GM.sf3",
    "FluidR3_GM.sf2",
    "FluidR3_GM.sf3",
    "MuseScore_General.sf3",
    "MuseScore_General.sf2",
    "GeneralUser GS.sf2",
    "default.sf2",
    "FluidR3_GS.sf2",
    "TimGM6mb.sf2",
    "freepats-general-midi.sf2",
)


def soundfont_directories(env: Mapping[str, str] | None = None, platform: str | None = None) -> list[Path]:
    """Folders that commonly hold soundfonts on ``platform`` (default: this one), most specific first."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = Path(env.get("HOME") or env.get("USERPROFILE") or "~").expanduser()
    folders: list[Path] = []
    if platform.startswith("win"):
        for variable in ("APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "USERPROFILE"):
            if env.get(variable):
                folders.append(Path(env[variable]) / "soundfonts")
        folders.append(Path("C:/soundfonts"))  # FluidSynth's own default location on Windows
        for variable in ("PROGRAMFILES", "PROGRAMFILES(X86)"):
            if env.get(variable):
                folders += [Path(env[variable]) / "MuseScore 4" / "sound", Path(env[variable]) / "MuseScore 3" / "sound"]
        return folders
    data_home = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    folders += [data_home / "soundfonts", data_home / "sounds" / "sf2"]
    if platform == "darwin":
        folders += [
            home / "Library" / "Audio" / "Sounds" / "Banks",
            Path("/Library/Audio/Sounds/Banks"),
        ]
        prefixes = [env["HOMEBREW_PREFIX"]] if env.get("HOMEBREW_PREFIX") else []
        for prefix in [*prefixes, "/opt/homebrew", "/usr/local"]:
            folders.append(Path(prefix) / "share" / "soundfonts")
        return _unique(folders)
    # Linux and other Unix: Debian/Ubuntu (sounds/sf2, sf3), Fedora and Arch (soundfonts).
    data_dirs = [Path(d) for d in (env.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share").split(":") if d]
    for base in [*data_dirs, Path("/usr/share"), Path("/usr/local/share")]:
        folders += [base / "sounds" / "sf2", base / "sounds" / "sf3", base / "soundfonts"]
    return _unique(folders)


def candidate_soundfonts(env: Mapping[str, str] | None = None, platform: str | None = None) -> list[Path]:
    """Every soundfont file found in the usual folders, best first (preferred names, then the rest
    alphabetically, folder by folder)."""
    found: list[Path] = []
    for name in _PREFERRED_NAMES:
        for folder in soundfont_directories(env, platform):
            path = folder / name
            if path.is_file():
                found.append(path)
    for folder in soundfont_directories(env, platform):
        try:
            others = sorted(p for p in folder.iterdir() if p.suffix.lower() in SOUNDFONT_SUFFIXES and p.is_file())
        except OSError:
            continue
        found += others
    return _unique(found)


def find_soundfont(
    explicit: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> Path:
    """The soundfont to use: ``explicit`` if given, else ``$MAHLERNET_SOUNDFONT``, else the best file
    in the usual folders. Raises AudioError with a one-line reason when there is none."""
    env = os.environ if env is None else env
    if explicit:
        return _check_file(Path(explicit).expanduser(), "the chosen soundfont")
    if env.get(ENV_VAR):
        return _check_file(Path(env[ENV_VAR]).expanduser(), f"${ENV_VAR}")
    candidates = candidate_soundfonts(env, platform)
    if candidates:
        return candidates[0]
    looked = ", ".join(str(f) for f in soundfont_directories(env, platform)[:4])
    raise AudioError(
        f"no General MIDI soundfont found (looked in {looked}, ...): install one (Debian: timgm6mb-soundfont "
        f"or fluid-soundfont-gm), set ${ENV_VAR}, or choose a .sf2 file in the settings"
    )


def _check_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise AudioError(f"{path}: {what} does not exist or is not a file")
    if path.suffix.lower() not in SOUNDFONT_SUFFIXES:
        raise AudioError(f"{path}: {what} is not a soundfont (.sf2 or .sf3)")
    return path


def _unique(paths: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    result = []
    for path in paths:
        if path not in seen:
            seen.add(path)
            result.append(path)
    return result
