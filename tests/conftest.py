"""What the whole test session shares: the garbage collector kept out of timing tests' way."""

import gc

import pytest


def pytest_collection_finish(session) -> None:
    """Freeze what collecting the tests made (torch, Qt and every test module), as the app freezes
    what importing torch made (app/torch_preload.py): full garbage collections then walk only the
    objects made since instead of the whole heap."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def settled_heap() -> None:
    """For tests that time real-time work (playback, a GUI that must keep ticking): freeze what the
    session has made so far. A test session builds dozens of windows and models in one process, far
    more than an app session; without this, one full collection took 150-250 ms under the interpreter
    lock, and a player thread stalled behind it sent a note 130-290 ms late (5 runs in 6 of the audio
    and app tests together)."""
    gc.collect()
    gc.freeze()
