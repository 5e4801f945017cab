"""The workload facts the agent extracts from a user's message: models, volumes, input share.

``parse_workload`` never rejects text: whatever it cannot read stays unknown.
Volumes are normalised to a per-day figure (a month is 30 days) and clamped to
``MAX_TOKENS_PER_DAY`` / ``MAX_REQUESTS_PER_DAY`` so absurd numbers cannot overflow
anything downstream. Several volumes in one message add up. A volume with no
period ("2M tokens") is read as per day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from golden_path.agent.prices import PRICES, find_models

DEFAULT_INPUT_SHARE = 0.75
MAX_TOKENS_PER_DAY = 10**15
MAX_REQUESTS_PER_DAY = 10**12

_NUMBER = r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_MULTIPLIER = r"(?:\s?(?P<mult>thousand|million|billion|trillion|mm|bn|k|m|b)(?![a-z]))?"
_PERIOD = (
    r"(?:\s*(?:/|per\b|a\b|an\b|each\b|every\b)\s*-?\s*"
    r"(?P<unit>day|d|month|mo|week|wk|w|hour|hr|h|minute|min|second|sec|s)(?![a-z])"
    r"|\s+(?P<adverb>daily|monthly|weekly|hourly))?"
)
_TOKENS = re.compile(
    _NUMBER
    + _MULTIPLIER
    + r"\s*(?:(?P<kind>input|output|prompt|completion)\s+)?(?:tokens?|toks?)(?![a-z])"
    + _PERIOD,
    re.IGNORECASE,
)
_REQUESTS = re.compile(
    _NUMBER
    + _MULTIPLIER
    + r"\s*(?:api\s+|llm\s+)?(?:requests?|reqs?|calls?|queries|query|completions)(?![a-z])"
    + _PERIOD,
    re.IGNORECASE,
)
_INPUT_PERCENT = re.compile(
    r"(?P<pct>\d{1,3}(?:\.\d+)?)\s*%\s*(?:of\s+(?:the\s+)?tokens?\s+(?:are\s+)?)?(?P<kind>input|output)",
    re.IGNORECASE,
)

_MULTIPLIERS: dict[str, int] = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "trillion": 10**12,
}
# How many of a period fit in a day, as a (numerator, denominator) pair.
_PER_DAY: dict[str, tuple[int, int]] = {
    "second": (86_400, 1),
    "minute": (1_440, 1),
    "hour": (24, 1),
    "day": (1, 1),
    "week": (1, 7),
    "month": (1, 30),
}
# Larger stated numbers are clamped before arithmetic (keeps Decimal far from overflow).
_MAX_STATED_NUMBER = Decimal(10**30)
_UNIT_PERIOD: dict[str, str] = {
    "s": "second",
    "sec": "second",
    "second": "second",
    "min": "minute",
    "minute": "minute",
    "h": "hour",
    "hr": "hour",
    "hour": "hour",
    "hourly": "hour",
    "d": "day",
    "day": "day",
    "daily": "day",
    "w": "week",
    "wk": "week",
    "week": "week",
    "weekly": "week",
    "mo": "month",
    "month": "month",
    "monthly": "month",
}


@dataclass(frozen=True, slots=True)
class Workload:
    """What is known about the user's AI usage; ``None`` means not stated."""

    models: tuple[str, ...] = ()
    tokens_per_day: int | None = None
    requests_per_day: int | None = None
    input_share: float = DEFAULT_INPUT_SHARE

    @property
    def has_facts(self) -> bool:
        """True when at least one model or a token volume is known."""
        return bool(self.models) or self.tokens_per_day is not None

    def to_parameters(self) -> dict[str, Any]:
        """The workload as JSON-serialisable tool parameters."""
        return {
            "models": list(self.models),
            "tokens_per_day": self.tokens_per_day,
            "requests_per_day": self.requests_per_day,
            "input_share": self.input_share,
        }

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> Workload:
        """The workload named by tool ``parameters``; ``TypeError``/``ValueError`` if malformed."""
        models = parameters.get("models", [])
        if not isinstance(models, list | tuple) or not all(isinstance(m, str) for m in models):
            raise TypeError(f"models must be a list of model names, got {models!r}")
        unknown = [m for m in models if m not in PRICES]
        if unknown:
            raise ValueError(f"unknown models: {', '.join(unknown)}")
        share = parameters.get("input_share", DEFAULT_INPUT_SHARE)
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ValueError(f"input_share must be a number from 0 to 1, got {share!r}")
        return cls(
            models=tuple(models),
            tokens_per_day=_optional_count(parameters, "tokens_per_day", MAX_TOKENS_PER_DAY),
            requests_per_day=_optional_count(parameters, "requests_per_day", MAX_REQUESTS_PER_DAY),
            input_share=float(share),
        )


def _optional_count(parameters: dict[str, Any], key: str, maximum: int) -> int | None:
    value = parameters.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError(f"{key} must be an integer from 0 to {maximum}, got {value!r}")
    return value


def parse_workload(text: str) -> Workload:
    """The workload facts stated in ``text``; an empty ``Workload`` when there are none."""
    tokens = _sum_per_day(_TOKENS, text, MAX_TOKENS_PER_DAY)
    requests = _sum_per_day(_REQUESTS, text, MAX_REQUESTS_PER_DAY)
    return Workload(
        models=tuple(find_models(text)),
        tokens_per_day=None if tokens is None else tokens[0],
        requests_per_day=None if requests is None else requests[0],
        input_share=_input_share(text, tokens),
    )


def _sum_per_day(
    pattern: re.Pattern[str], text: str, maximum: int
) -> tuple[int, dict[str, Decimal]] | None:
    """The clamped per-day total of every volume ``pattern`` finds, plus totals by token kind."""
    total = Decimal(0)
    by_kind: dict[str, Decimal] = {}
    found = False
    for match in pattern.finditer(text):
        found = True
        volume = min(_per_day(match), Decimal(maximum))
        total = min(total + volume, Decimal(maximum))
        kind = (match.groupdict().get("kind") or "").lower()
        if kind:
            by_kind[kind] = by_kind.get(kind, Decimal(0)) + volume
    if not found:
        return None
    return int(total.to_integral_value(ROUND_HALF_EVEN)), by_kind


def _per_day(match: re.Match[str]) -> Decimal:
    number = min(Decimal(match["num"].replace(",", "")), _MAX_STATED_NUMBER)
    multiplier = _MULTIPLIERS[match["mult"].lower()] if match["mult"] else 1
    unit = (match["unit"] or match["adverb"] or "day").lower()
    per_day, days = _PER_DAY[_UNIT_PERIOD[unit]]
    return number * multiplier * per_day / days


def _input_share(text: str, tokens: tuple[int, dict[str, Decimal]] | None) -> float:
    """Input share from "80% input"/"20% output", else from input vs output volumes."""
    match = _INPUT_PERCENT.search(text)
    if match is not None:
        percent = min(float(match["pct"]), 100.0)
        share = percent / 100.0 if match["kind"].lower() == "input" else 1.0 - percent / 100.0
        return round(share, 4)
    if tokens is not None:
        by_kind = tokens[1]
        inputs = by_kind.get("input", Decimal(0)) + by_kind.get("prompt", Decimal(0))
        outputs = by_kind.get("output", Decimal(0)) + by_kind.get("completion", Decimal(0))
        if inputs > 0 and outputs > 0:
            return round(float(inputs / (inputs + outputs)), 4)
    return DEFAULT_INPUT_SHARE
