"""Settings that persist between sessions (QSettings): sound, MIDI, device, folders, window layout.

Stored where Qt keeps an application's settings on each platform, or in an ini file given by the
caller (tests) or by ``$MAHLERNET_SETTINGS``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "MahlerNet"
APPLICATION = "MahlerNet Studio"
MAX_RECENT = 10
DEVICES = ("auto", "cpu", "gpu")


class AppSettings:
    def __init__(self, path: str | Path | None = None) -> None:
        path = path or os.environ.get("MAHLERNET_SETTINGS")
        if path:
            self.qsettings = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings(ORGANIZATION, APPLICATION)

    def _text(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key, default)
        return str(value) if value is not None else default

    # ---------------------------------------------------------------------------- sound and model
    @property
    def soundfont(self) -> str:
        """Path of the soundfont chosen by the user ("" = find one automatically)."""
        return self._text("audio/soundfont")

    @soundfont.setter
    def soundfont(self, value: str) -> None:
        self.qsettings.setValue("audio/soundfont", value)

    @property
    def midi_port(self) -> str:
        """Name of the MIDI output port ("" = none: play through the built-in synth)."""
        return self._text("audio/midi_port")

    @midi_port.setter
    def midi_port(self, value: str) -> None:
        self.qsettings.setValue("audio/midi_port", value)

    @property
    def device(self) -> str:
        """Where the model runs: auto, cpu or gpu."""
        value = self._text("model/device", "auto")
        return value if value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        if value not in DEVICES:
            raise ValueError(f"device {value!r} is not one of {', '.join(DEVICES)}")
        self.qsettings.setValue("model/device", value)

    def model(self, kind: str) -> str:
        """Name of the model picked last for ``kind`` (continuation, interpolation or arranger)."""
        return self._text(f"model/{kind}")

    def set_model(self, kind: str, name: str) -> None:
        self.qsettings.setValue(f"model/{kind}", name)

    # ------------------------------------------------------------------------------- files
    @property
    def last_folder(self) -> str:
        return self._text("files/last_folder")

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self.qsettings.setValue("files/last_folder", value)

    @property
    def recent_files(self) -> list[str]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):  # one entry comes back as a plain string from ini files
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent_file(self, path: str | Path) -> list[str]:
        """Put ``path`` first in the recent files (once), keep ``MAX_RECENT``."""
        text = str(Path(path).resolve())
        recent = [text] + [p for p in self.recent_files if p != text]
        self.qsettings.setValue("files/recent", recent[:MAX_RECENT])
        return recent[:MAX_RECENT]

    def remove_recent_file(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self.qsettings.setValue("files/recent", [p for p in self.recent_files if p != text])

    # ------------------------------------------------------------------------------ window
    @property
    def geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/state", value)

    def sync(self) -> None:
        self.qsettings.sync()
