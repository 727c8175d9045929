"""Train / validation / test splits by whole work, never by bar.

Bars of one piece repeat (a da capo, a refrain, a sequence a tone lower), so a split by bar puts
copies of validation bars in training, and its figures flatter the model (issue #21 measured 22.6% of
random-split validation bars with an exact copy in training, and 73% teacher-forced pitch accuracy on
them against 53% on works never seen). Here every work goes, whole, to one split.

A *work* is a source file's name without its movement: the corpus names its files
``<composer>__<work>__<movement>.mid``, and movements of one work share themes, so they stay together.
A file named otherwise is a work of its own. Each work's split is a function of its name and the
seed alone (a hash), so adding files to a folder never moves the works already assigned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Iterable

MOVEMENT_SEPARATOR = "__"


def work_of(source: str) -> str:
    """The work a source file belongs to: its name up to the movement (see the module docstring)."""
    stem = PurePath(source).name
    for suffix in (".npz", ".mid", ".midi", ".kar"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    parts = stem.split(MOVEMENT_SEPARATOR)
    return MOVEMENT_SEPARATOR.join(parts[:2]) if len(parts) > 2 else stem


def _draw(work: str, seed: int) -> float:
    """A number in [0, 1) fixed by the work's name and the seed."""
    digest = hashlib.sha256(f"{seed}:{work}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class WorkSplit:
    """The works of each split, sorted."""

    train: tuple[str, ...]
    validation: tuple[str, ...]
    test: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        return {"train": list(self.train), "validation": list(self.validation), "test": list(self.test)}

    @classmethod
    def from_dict(cls, values: dict) -> "WorkSplit":
        return cls(*(tuple(sorted(values.get(key, []))) for key in ("train", "validation", "test")))

    def split_of(self, source: str) -> str | None:
        """``train``, ``validation``, ``test`` or None (a work this split never saw)."""
        work = work_of(source)
        for name, works in (("train", self.train), ("validation", self.validation), ("test", self.test)):
            if work in works:
                return name
        return None


def split_works(sources: Iterable[str], seed: int, validation: float = 0.1, test: float = 0.1) -> WorkSplit:
    """Assign every work of ``sources`` to train, validation or test (``validation`` and ``test`` are
    the expected shares of works). With fewer than three works everything trains."""
    works = sorted({work_of(s) for s in sources})
    if len(works) < 3:
        return WorkSplit(tuple(works), (), ())
    parts: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for work in works:
        draw = _draw(work, seed)
        parts["test" if draw < test else "validation" if draw < test + validation else "train"].append(work)
    for held in ("validation", "test"):  # a small folder still holds one work out of each
        wanted = validation if held == "validation" else test
        if wanted > 0 and not parts[held] and len(parts["train"]) > 1:
            moved = min(parts["train"], key=lambda w: _draw(w, seed + 1))
            parts["train"].remove(moved)
            parts[held].append(moved)
    return WorkSplit(*(tuple(sorted(parts[k])) for k in ("train", "validation", "test")))
