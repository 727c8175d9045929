"""A model card (the JSON beside a model's weights) in words a composer reads: what the model does,
what it was trained on, how big it is and how long it trained, and its figures on held-out music.

No torch and no Qt: the Help menu reads the cards without loading a model. Every field is optional
(a card of the user's own model may have fewer), and a card that cannot be read is reported in one
line naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

MAX_CARD_BYTES = 4 * 1024 * 1024
JOBS = {"continuation": "Continue: writes new bars after the seed", "interpolation": "Interpolate: morphs from bar A to bar B"}


@dataclass(frozen=True)
class CardSummary:
    """One card, as titled lines: (heading, text)."""

    name: str
    path: Path
    lines: tuple[tuple[str, str], ...]
    problem: str = ""  # why the card could not be read ("" = it could)


def read_card_summary(card_path: Path) -> CardSummary:
    """The summary of the card at ``card_path``; a missing, huge or broken file gives a summary with
    its one-line ``problem``."""
    name = card_path.stem
    try:
        if card_path.stat().st_size > MAX_CARD_BYTES:
            return CardSummary(name, card_path, (), f"{card_path}: the card is larger than a model card can be")
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return CardSummary(name, card_path, (), f"{card_path}: cannot read the model card ({error})")
    if not isinstance(card, dict):
        return CardSummary(name, card_path, (), f"{card_path}: the model card is not a JSON object")
    return CardSummary(str(card.get("name") or name), card_path, tuple(card_lines(card)))


def cards_in(folders: Iterable[Path]) -> list[CardSummary]:
    """The cards of the models (``NAME.safetensors`` with ``NAME.json``) at the top of ``folders``."""
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for weights in sorted(folder.glob("*.safetensors")):
            card = weights.with_suffix(".json")
            if card.is_file():
                found.append(read_card_summary(card))
    return found


def card_lines(card: dict[str, Any]) -> list[tuple[str, str]]:
    """The lines worth reading in ``card``, in the order a composer asks about them."""
    lines: list[tuple[str, str]] = []
    kind = str(card.get("kind", ""))
    lines.append(("Job", JOBS.get(kind, kind or "unknown")))
    data, dataset = _dict(card.get("data")), _dict(card.get("dataset"))
    trained_on = str(data.get("name") or dataset.get("folder") or "")
    if dataset.get("pieces"):
        trained_on += f" ({dataset['pieces']} pieces, {dataset.get('bars', '?')} bars)"
    if trained_on:
        lines.append(("Trained on", trained_on.strip()))
    if data.get("recipe"):
        lines.append(("Corpus", str(data["recipe"])))
    if card.get("note"):
        lines.append(("Split", str(card["note"])))
    size = []
    if isinstance(card.get("parameters"), (int, float)):
        size.append(f"{card['parameters'] / 1e6:.1f} M parameters")
    if card.get("epochs"):
        size.append(f"{card['epochs']} epochs")
    if isinstance(card.get("training_time_s"), (int, float)):
        size.append(f"{card['training_time_s'] / 60:.0f} min of training")
    if card.get("hardware"):
        size.append(f"on {card['hardware']}")
    if size:
        lines.append(("Size", ", ".join(size)))
    lines += _figures(card)
    return lines


def _figures(card: dict[str, Any]) -> list[tuple[str, str]]:
    lines = []
    evaluation = _dict(card.get("evaluation"))
    pitch = _dict(_dict(evaluation.get("properties")).get("pitch"))
    if pitch:
        where = f" on {evaluation['bars']} bars of {evaluation.get('split', 'held-out')} works" if evaluation.get("bars") else ""
        parts = []
        if "teacher_forced_accuracy" in pitch:
            parts.append(f"teacher-forced {_percent(pitch['teacher_forced_accuracy'])}")
        if "free_running_accuracy" in pitch:
            parts.append(f"free-running {_percent(pitch['free_running_accuracy'])}")
        lines.append(("Pitch accuracy", ", ".join(parts) + where))
    musicality = _dict(card.get("musicality"))
    continuation = _dict(_dict(musicality.get("continuation")).get("model"))
    if continuation:
        lines.append(
            (
                "Musicality",
                f"{_percent(continuation.get('in_key'))} of notes in key, "
                f"{_percent(continuation.get('overlap_real'))} pitch-class overlap with the real bars",
            )
        )
    interpolation = _dict(musicality.get("interpolation"))
    if "endpoint_note_f1" in interpolation:
        lines.append(("Endpoints", f"note F1 {interpolation['endpoint_note_f1']:.2f} with bars A and B"))
    goals = _dict(_dict(card.get("quality_bar")).get("goals"))
    if goals:
        met = sum(1 for g in goals.values() if _dict(g).get("met"))
        missed = [name.replace("_", " ") for name, g in goals.items() if not _dict(g).get("met")]
        text = f"{met} of {len(goals)} met"
        if missed:
            text += f"; not met: {', '.join(missed)}"
        lines.append(("Quality goals", text))
    return lines


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _percent(value: object) -> str:
    return f"{float(value) * 100:.1f}%" if isinstance(value, (int, float)) else "?"
