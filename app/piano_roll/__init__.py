"""The piano roll: see :mod:`app.piano_roll.view` for the widget and its API."""

from app.piano_roll.view import PianoRoll

__all__ = ["PianoRoll"]
