"""What the user is asking the agent for, as the set of tools that would answer it.

Usage analysis is always part of the answer; the other tools are asked for by
keywords (optimise/save/cheaper -> cost optimizer, report/summary/export ->
report builder, forecast/trend/anomaly -> advanced analytics). Whether the
user's tier allows a tool is decided elsewhere (``golden_path.tiers``).
"""

from __future__ import annotations

import re

from golden_path.tiers import Tool

_KEYWORDS: dict[Tool, re.Pattern[str]] = {
    Tool.COST_OPTIMIZER: re.compile(
        r"\boptimi[sz]|\brecommend|\bsav(?:e|es|ing|ings)\b|\bcheaper\b"
        r"|\b(?:reduc\w*|lower\w*|cut\w*)\s+(?:[\w-]+\s+){0,3}?(?:costs?|spend\w*|bills?)\b",
        re.IGNORECASE,
    ),
    Tool.REPORT_BUILDER: re.compile(
        r"\breport|\bsummary\b|\bsummari[sz]e|\bfor\s+(?:(?:my|our|the)\s+)?team\b|\bexport",
        re.IGNORECASE,
    ),
    Tool.ADVANCED_ANALYTICS: re.compile(
        r"\bforecast|\bpredict|\btrend|\banomal|\bprojection",
        re.IGNORECASE,
    ),
}


def detect_intent(text: str) -> frozenset[Tool]:
    """The tools ``text`` asks for; always includes ``Tool.USAGE_ANALYZER``."""
    asked = {tool for tool, pattern in _KEYWORDS.items() if pattern.search(text)}
    return frozenset({Tool.USAGE_ANALYZER, *asked})
