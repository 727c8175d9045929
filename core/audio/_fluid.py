"""Low-level access to the FluidSynth C library, beyond what pyfluidsynth wraps.

pyfluidsynth gives a Synth object but no way to hear FluidSynth's own error messages (they go to
stderr, where a GUI user never sees them), no float output and no list of compiled audio drivers.
This module adds exactly those through ctypes on the library pyfluidsynth already loaded:

* :func:`fluidsynth_module` imports pyfluidsynth once and turns "library not installed" into an
  :class:`~core.errors.AudioError` with a hint, instead of an ImportError at import time;
* a log hook that keeps FluidSynth's messages per thread, so the reason a driver failed can be told
  to the user, and forwards them to Python logging;
* :func:`write_float` renders straight into a NumPy buffer (no copies through a bytes string);
* :func:`compiled_audio_drivers` lists the drivers this FluidSynth build knows.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import logging
import threading
from collections import deque
from types import ModuleType
from typing import Any

import numpy as np

from core.errors import AudioError

LOG = logging.getLogger("core.audio.fluidsynth")

# FluidSynth's log levels (fluid_log_level: panic, error, warning, info, debug) mapped onto Python's.
# Errors are expected while drivers are tried in turn and reach the user as reasons (errors_since),
# so they are logged at debug level; only a panic is logged as an error.
_LEVELS = {0: logging.ERROR, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.DEBUG, 4: logging.DEBUG}
_LOG_CALLBACK_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)

_lock = threading.Lock()
_module: ModuleType | None = None
_import_error: str | None = None
_log_callback: Any = None  # keeps the ctypes callback alive for as long as the library may call it
_messages: deque[tuple[int, int, int, str]] = deque(maxlen=200)  # (number, thread id, level, text)
_counter = itertools.count(1)


def fluidsynth_module() -> ModuleType:
    """pyfluidsynth, imported on first use, with FluidSynth's log routed to Python logging.

    Raises AudioError (not ImportError) when the FluidSynth library is not installed, so that the
    app still opens and the CLI prints one line."""
    global _module, _import_error
    with _lock:
        if _module is None and _import_error is None:
            try:
                import fluidsynth  # noqa: PLC0415 - optional native library, loaded only when needed
            except (ImportError, OSError) as error:
                _import_error = f"FluidSynth is not available ({error}); install libfluidsynth3 or fluid-synth"
            else:
                _module = fluidsynth
                _install_log_hook(fluidsynth)
        if _module is None:
            raise AudioError(_import_error or "FluidSynth is not available")
        return _module


def fluidsynth_problem() -> str | None:
    """Why FluidSynth cannot be used, or None when it can."""
    try:
        fluidsynth_module()
    except AudioError as error:
        return str(error)
    return None


def _install_log_hook(module: ModuleType) -> None:
    global _log_callback
    library = module._fl
    if not hasattr(library, "fluid_set_log_function"):
        return

    def on_message(level: int, message: bytes | None, _data: int | None) -> None:
        text = (message or b"").decode("utf-8", "replace").strip()
        _messages.append((next(_counter), threading.get_ident(), level, text))
        LOG.log(_LEVELS.get(level, logging.DEBUG), "%s", text)

    _log_callback = _LOG_CALLBACK_TYPE(on_message)
    library.fluid_set_log_function.restype = _LOG_CALLBACK_TYPE
    library.fluid_set_log_function.argtypes = [ctypes.c_int, _LOG_CALLBACK_TYPE, ctypes.c_void_p]
    for level in _LEVELS:
        library.fluid_set_log_function(level, _log_callback, None)


def log_mark() -> int:
    """A bookmark in the log; pass it to :func:`errors_since` after a call that may fail."""
    entries = list(_messages)
    return entries[-1][0] if entries else 0


def errors_since(mark: int) -> list[str]:
    """Error and warning messages FluidSynth logged in this thread after ``mark``."""
    me = threading.get_ident()
    return [text for number, thread, level, text in list(_messages) if number > mark and thread == me and level <= 2]


def write_float(synth_pointer: int, out: np.ndarray) -> None:
    """Render ``len(out)`` frames into ``out`` (a C-contiguous float32 array of shape (frames, 2))."""
    if out.dtype != np.float32 or out.ndim != 2 or out.shape[1] != 2 or not out.flags.c_contiguous:
        raise ValueError("write_float needs a C-contiguous float32 array of shape (frames, 2)")
    function = _write_float_function()
    if len(out):
        pointer = out.ctypes.data
        # interleaved stereo: left at 0, 2, 4, ...; right at 1, 3, 5, ...
        if function(synth_pointer, len(out), pointer, 0, 2, pointer, 1, 2) != 0:
            raise AudioError("FluidSynth failed to render audio")


@functools.cache
def _write_float_function() -> Any:
    function = fluidsynth_module()._fl.fluid_synth_write_float
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                         ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    return function


def compiled_audio_drivers(settings_pointer: int) -> list[str]:
    """The audio drivers this FluidSynth build offers (e.g. alsa, jack, pulseaudio, sdl2, file)."""
    library = fluidsynth_module()._fl
    if not hasattr(library, "fluid_settings_option_concat"):
        return []
    concat = library.fluid_settings_option_concat
    concat.restype = ctypes.c_void_p
    concat.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    pointer = concat(settings_pointer, b"audio.driver", b",")
    if not pointer:
        return []
    text = ctypes.string_at(pointer).decode("ascii", "replace")
    free = getattr(library, "fluid_free", None)
    if free is not None:
        free.argtypes = [ctypes.c_void_p]
        free(ctypes.c_void_p(pointer))
    return [name for name in text.split(",") if name]
