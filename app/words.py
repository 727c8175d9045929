"""Numbers in words the composer reads: "1 track", "2 tracks" (never "1 tracks")."""

from __future__ import annotations


def count(number: int, word: str, plural: str | None = None) -> str:
    """``number`` and ``word``, plural unless the number is one: ``count(1, "bar")`` is "1 bar"."""
    return f"{number} {word if number == 1 else plural or word + 's'}"
