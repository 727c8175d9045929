"""What the whole test session shares: the garbage collector kept out of timing tests' way."""

import gc

import pytest


def _freeze_heap() -> None:
    """Collect, then move what is left out of the collector's sight: full collections then walk only
    the objects made since, as in the app after importing torch (app/torch_preload.py)."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session) -> None:
    """Freeze what collecting the tests made (torch, Qt and every test module)."""
    _freeze_heap()


@pytest.fixture
def settled_heap() -> None:
    """For tests that time real-time work (playback, a GUI that must keep ticking): freeze what the
    session has made so far. A test session builds dozens of windows and models in one process, far
    more than an app session; without this, one full collection took 150-250 ms under the interpreter
    lock, and a player thread stalled behind it sent a note 130-290 ms late (5 runs in 6 of the audio
    and app tests together)."""
    _freeze_heap()
