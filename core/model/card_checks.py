"""Checking a model file before trusting it: bounded JSON, and a network config within sane ranges.

A model file is data a user may download from anywhere, so nothing in it is believed until checked:
its size before it is read whole, the nesting of its JSON before it is parsed (a deeply nested card
made Python's parser raise RecursionError), and every field of its network config, by type and range,
before a network is built (a card asking for a latent code of 10^9 dimensions made PyTorch try to
allocate gigabytes). Each check fails with a one-line reason naming the field.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from core.model.network import NetworkConfig
from core.representation.instruments import TABLES

MAX_MODEL_BYTES = 512 * 1024**2  # the paper's size is ~92 MB in float32; a tenfold margin over the largest preset
MAX_CARD_BYTES = 4 * 1024**2
MAX_JSON_DEPTH = 32  # a card nests 4 levels; JSON deeper than this is not a card

# (lowest, highest) allowed for each integer setting; the presets sit well inside.
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "context_bars": (1, 16),
    "encoder_layers": (1, 8),
    "encoder_size": (1, 4096),
    "decoder_layers": (1, 8),
    "decoder_size": (1, 4096),
    "z_dim": (1, 2048),
    "condition_size": (0, 4096),
    "prior_size": (1, 4096),
}
FRACTIONS = ("encoder_dropout", "decoder_dropout", "z_dropout")  # in [0, 1)
POSITIVE_FLOATS = ("norm_momentum", "norm_eps", "leaky_slope", "output_init_std")  # in (0, 10]
CHOICES = {"prior": ("standard", "learned"), "instruments": tuple(sorted(TABLES))}


class CardError(ValueError):
    """What is wrong with a card, in one line (the caller names the file)."""


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_card(text: str) -> dict[str, Any]:
    """A card's JSON as a dict, or :class:`CardError` (too large, too deep, not JSON, not an object)."""
    if len(text) > MAX_CARD_BYTES:
        raise CardError(f"model card of {len(text):,} characters (at most {MAX_CARD_BYTES:,})")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise CardError(f"model card nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        card = json.loads(text)
    except ValueError as error:
        raise CardError(f"model card is not JSON ({error})") from None
    if not isinstance(card, dict):
        raise CardError("model card is not a JSON object")
    return card


def network_config(values: Any) -> NetworkConfig:
    """The :class:`NetworkConfig` of a card's ``network`` entry, every field checked first."""
    if not isinstance(values, dict):
        raise CardError("model card without a network config")
    known = {f.name: f for f in fields(NetworkConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise CardError(f"unknown network setting {unknown[0]!r}")
    for name, value in values.items():
        default = getattr(NetworkConfig(), name)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise CardError(f"network setting {name} must be true or false, not {value!r}")
        elif isinstance(default, int):
            low, high = INTEGER_RANGES.get(name, (0, 1 << 16))
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CardError(f"network setting {name} must be a whole number from {low} to {high}, not {value!r}")
        elif isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise CardError(f"network setting {name} must be a number, not {value!r}")
            if name in FRACTIONS and not 0.0 <= value < 1.0:
                raise CardError(f"network setting {name} must be from 0 to below 1, not {value!r}")
            if name in POSITIVE_FLOATS and not 0.0 < value <= 10.0:
                raise CardError(f"network setting {name} must be above 0 and at most 10, not {value!r}")
            if name == "forget_bias" and not -10.0 <= value <= 10.0:
                raise CardError(f"network setting {name} must be from -10 to 10, not {value!r}")
        elif name in CHOICES and value not in CHOICES[name]:
            raise CardError(f"network setting {name} must be one of {', '.join(CHOICES[name])}, not {value!r}")
    try:
        return NetworkConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise CardError(f"bad network config ({error})") from None
