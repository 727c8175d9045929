"""Keep the ALSA and JACK client libraries from writing on stderr.

When there is no sound card, no ALSA sequencer or no JACK server, libasound and libjack print several
lines each time we merely look for a device ("ALSA lib ... cannot find card '0'", "Cannot connect to
server socket ..."). Looking is normal here (we try drivers in turn), so their messages go to Python
logging at debug level instead, and the JACK ones are kept so a reason can be shown.
Nothing happens on systems without these libraries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import logging
import os
import threading
from collections import deque
from typing import Any

LOG = logging.getLogger("core.audio.native")

_ALSA_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
_JACK_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p)

_lock = threading.Lock()
_installed = False
_keep_alive: list[Any] = []  # ctypes callbacks must outlive every call the libraries make
jack_messages: deque[str] = deque(maxlen=50)


def _on_alsa(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
    LOG.debug("ALSA %s:%d (%s) %s [%d]", _text(file), line, _text(function), _text(fmt), err)


def _on_jack(message: bytes | None) -> None:
    text = _text(message)
    jack_messages.append(text)
    LOG.debug("JACK %s", text)


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace").strip()


def quiet_native_libraries() -> None:
    """Route libasound and libjack messages to logging (idempotent, thread-safe)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        _quiet_alsa()
        for path in _jack_libraries():
            _quiet_jack(path)


def _quiet_alsa() -> None:
    name = ctypes.util.find_library("asound")
    if not name:
        return
    try:
        library = ctypes.CDLL(name)
        handler = _ALSA_HANDLER_TYPE(_on_alsa)
        library.snd_lib_error_set_handler(handler)
    except (OSError, AttributeError):
        return
    _keep_alive.append(handler)


def _jack_libraries() -> list[str]:
    """The system libjack (FluidSynth's) and the copy bundled in python-rtmidi's wheel, if any."""
    paths = []
    system = ctypes.util.find_library("jack")
    if system:
        paths.append(system)
    try:
        import rtmidi  # noqa: PLC0415 - only to find its bundled libraries

        site = os.path.dirname(os.path.dirname(rtmidi.__file__))
        paths += sorted(glob.glob(os.path.join(site, "python_rtmidi*", "libjack*.so*")))
    except ImportError:
        pass
    return paths


def _quiet_jack(path: str) -> None:
    try:
        library = ctypes.CDLL(path)
        handler = _JACK_HANDLER_TYPE(_on_jack)
        library.jack_set_error_function(handler)
        library.jack_set_info_function(handler)
    except (OSError, AttributeError):
        return
    _keep_alive.append(handler)
