"""Import torch in a background thread without freezing the window for a third of a second.

Most of ``import torch`` is Python code, which shares the interpreter lock with the GUI thread in small
slices. One part does not: loading ``libtorch_cpu`` (hundreds of megabytes, relocated and initialised
by the dynamic loader) happens inside a single ``dlopen`` call, and Python's import machinery holds the
lock for all of it, about 0.3 s on a laptop, during which the window cannot repaint.

:func:`preload_torch_libraries` does that ``dlopen`` first, through a ctypes call of the C library's own
``dlopen``: ctypes releases the interpreter lock around foreign calls, so the window keeps drawing
while the loader works. The later ``import torch`` finds the libraries already loaded and only runs its
Python part. The libraries are loaded with ``RTLD_LOCAL`` (their symbols stay private, as torch loads
them), and only those that never call into Python while they initialise. Anything unexpected (another
platform, a torch laid out differently) makes this a no-op: torch then loads as usual, just less
smoothly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import sys
from pathlib import Path

# In dependency order; none of them touches Python while it initialises (libtorch_python does).
LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libtorch.so")
RTLD_NOW = 0x2


def _dlopen_function():  # type: ignore[no-untyped-def]
    """The C library's ``dlopen`` as a ctypes function (one that releases the interpreter lock)."""
    for library in (None, ctypes.util.find_library("dl")):
        try:
            function = ctypes.CDLL(library).dlopen
        except (OSError, AttributeError):
            continue
        function.restype = ctypes.c_void_p
        function.argtypes = [ctypes.c_char_p, ctypes.c_int]
        return function
    return None


def preload_torch_libraries() -> list[str]:
    """Load torch's big native libraries without holding the interpreter lock; returns the names
    loaded (empty where this does not apply: not Linux, torch imported already or not installed)."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return []
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return []
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).parent / "lib"
    dlopen = _dlopen_function()
    if dlopen is None:
        return []
    loaded = []
    for name in LIBRARIES:
        path = folder / name
        if not path.is_file() or not dlopen(str(path).encode(), RTLD_NOW):
            break  # let the ordinary import load the rest (and report any real problem)
        loaded.append(name)
    return loaded
