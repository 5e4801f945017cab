"""The agent's built-in model price table and the matcher that finds model names in free text.

Prices are public list prices in USD per million tokens (input and output
separately). Each model also carries a ``ModelClass`` so the optimizer only
ever suggests a cheaper model of a similar class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class ModelClass(StrEnum):
    """What a model is for; a switch recommendation stays within one class."""

    FLAGSHIP = "flagship"
    SMALL = "small"
    REASONING = "reasoning"
    OPEN_WEIGHT = "open_weight"


@dataclass(frozen=True, slots=True)
class ModelPrice:
    name: str
    provider: str
    input_per_mtok: float
    output_per_mtok: float
    model_class: ModelClass

    def blended_per_mtok(self, input_share: float) -> float:
        """USD per million tokens when ``input_share`` of the tokens are input."""
        return self.input_per_mtok * input_share + self.output_per_mtok * (1.0 - input_share)


_TABLE: tuple[ModelPrice, ...] = (
    ModelPrice("gpt-4o", "openai", 2.50, 10.00, ModelClass.FLAGSHIP),
    ModelPrice("gpt-4o-mini", "openai", 0.15, 0.60, ModelClass.SMALL),
    ModelPrice("gpt-4.1", "openai", 2.00, 8.00, ModelClass.FLAGSHIP),
    ModelPrice("gpt-4.1-mini", "openai", 0.40, 1.60, ModelClass.SMALL),
    ModelPrice("o3-mini", "openai", 1.10, 4.40, ModelClass.REASONING),
    ModelPrice("claude-3-5-sonnet", "anthropic", 3.00, 15.00, ModelClass.FLAGSHIP),
    ModelPrice("claude-3-5-haiku", "anthropic", 0.80, 4.00, ModelClass.SMALL),
    ModelPrice("claude-3-opus", "anthropic", 15.00, 75.00, ModelClass.FLAGSHIP),
    ModelPrice("gemini-1.5-pro", "google", 1.25, 5.00, ModelClass.FLAGSHIP),
    ModelPrice("gemini-1.5-flash", "google", 0.075, 0.30, ModelClass.SMALL),
    ModelPrice("llama-3.1-70b", "meta", 0.88, 0.88, ModelClass.OPEN_WEIGHT),
    ModelPrice("mistral-large", "mistral", 2.00, 6.00, ModelClass.FLAGSHIP),
)

PRICES: dict[str, ModelPrice] = {price.name: price for price in _TABLE}

# Between two parts of a name, users write a hyphen, a dot, a space, an underscore or nothing.
_SEPARATOR = r"[\s._-]*"


def _name_pattern(name: str) -> re.Pattern[str]:
    parts = re.split(r"[.-]", name)
    body = _SEPARATOR.join(re.escape(part) for part in parts)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])", re.IGNORECASE)


_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, _name_pattern(name)) for name in PRICES
)


def find_models(text: str) -> list[str]:
    """Canonical names of the priced models mentioned in ``text``, in order of first appearance.

    Matching ignores case and tolerates separator variants ("GPT-4o", "gpt 4o",
    "claude 3.5 sonnet"). Where two names match at the same place the longest
    wins, so "gpt-4o-mini" never also yields "gpt-4o". No name appears twice.
    """
    matches = sorted(
        (match.start(), -(match.end() - match.start()), match.end(), name)
        for name, pattern in _PATTERNS
        for match in pattern.finditer(text)
    )
    found: list[str] = []
    covered_until = 0
    for start, _, end, name in matches:
        if start < covered_until:
            continue
        covered_until = end
        if name not in found:
            found.append(name)
    return found
