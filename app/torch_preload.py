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
smoothly. ``MAHLERNET_TORCH_PRELOAD=0`` turns it off (to compare, or should a system dislike it).

The other long pauses came from Python's cyclic garbage collector: importing torch makes hundreds of
thousands of objects, which set off full collections over the whole heap (the window's objects too),
each one 40-200 ms under the lock. :func:`quiet_imports` turns the collector off while torch is
imported and then *freezes* what exists (``gc.freeze``: moved out of the collector's sight, never
freed, which is what imported modules are anyway), so later full collections, in the window or in
a generation, only walk the objects made since.

The collector's pause and freeze belong to the app's start-up, not to a library call: only
:func:`app.models.scan_models` uses :func:`quiet_imports`, once per process.

Measured (``benchmarks/startup.py``, figures in ``benchmarks/README.md``): on an idle 2-core machine
the window's longest stall while torch, the models and audio load in the background is ~36 ms with
both measures and ~344 ms with a plain ``import torch``. The collector's part alone, in CPU time (on
a machine loaded by other jobs, where stalls mean nothing): in the first 8 s of the app the longest
collection takes ~56 ms and all of them ~150 ms with the collector paused and frozen around the
import, against ~146 ms and ~550 ms with the libraries preloaded but the collector left alone.

What is left is torch's own module initialisation (``torch._C`` building its Python bindings, about
70 ms of C++ under the lock).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import importlib.util
import os
import sys
from pathlib import Path
from typing import Iterator

# In dependency order; none of them touches Python while it initialises (libtorch_python does).
LIBRARIES = ("libc10.so", "libtorch_cpu.so", "libtorch.so")
RTLD_NOW = 0x2
SWITCH = "MAHLERNET_TORCH_PRELOAD"


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
    if not sys.platform.startswith("linux") or "torch" in sys.modules or os.environ.get(SWITCH) == "0":
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


@contextlib.contextmanager
def quiet_imports() -> Iterator[None]:
    """Import torch (and what needs it) inside this block: the cyclic collector is off meanwhile, and
    what exists afterwards is frozen (see the module docstring). Once torch is imported the block does
    nothing, so that later objects are never frozen. Off with ``MAHLERNET_TORCH_PRELOAD=0``."""
    if os.environ.get(SWITCH) == "0" or "torch" in sys.modules:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
