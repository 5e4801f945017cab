"""The markers the harness registers, the project's vocabulary, and the rules for both.

A project's segments (``gp_segments``: its plans, seats or tiers) and stages
(``gp_stages``, by default the five below) are its own: they drive the ``tier``
and ``stage`` markers, BVJ segments, the coverage matrix and the gate. Without
``gp_segments`` any segment name is taken and the matrix shows the segments the
tests name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from golden_path.testing.options import harness_options

TEST_TIERS: tuple[str, ...] = ("unit", "integration", "e2e", "browser")
# The golden path's five stages: gp_stages' default.
STAGES: tuple[str, ...] = ("auth", "websocket", "agent", "events", "persistence")


@dataclass(frozen=True)
class Vocabulary:
    """The run's segments (empty: any name) and stages."""

    segments: tuple[str, ...] = ()
    stages: tuple[str, ...] = STAGES

    def segment_problem(self, args: tuple[object, ...]) -> str | None:
        return check_choice("tier", args, self.segments)

    def stage_problem(self, args: tuple[object, ...]) -> str | None:
        return check_choice("stage", args, self.stages)


MARKERS: dict[str, str] = {
    "unit": "no services: pure logic, runs anywhere in milliseconds",
    "integration": "real PostgreSQL and Redis, no server",
    "e2e": "a running Golden Path server over real sockets",
    "browser": "drives the chat page in headless Chromium (bash scripts/install-browser.sh)",
    "real_services": "uses the real-services fixture (added automatically)",
    "golden_path": "exercises the revenue path end to end: login to persisted answer",
    "security": "proves a security property (auth, isolation, input handling)",
    "slow": "takes more than a second on purpose",
    "tier(name)": "the customer segment the test is about: one of gp_segments",
    "stage(name)": "the golden-path stage the test covers: one of gp_stages (by default "
    + ", ".join(STAGES)
    + ")",
    "bvj(segment, goal, value_impact, revenue_impact)": "Business Value Justification",
    "server_internals": "needs the server under test's own services or process (its database, "
    "its Redis, a restart): skipped when the suite runs against a deployment given by --gp-url",
    "protocol(name)": "the protocol the test speaks where its fixtures do not say it (e.g. "
    "raw HTTP on gp_base_url): v1 or ag-ui; --gp-protocol skips it when the server under test "
    "speaks the other",
    "reference_only": "needs the reference server's internals (restarts, outages, its database); "
    "skipped when the suite runs against a deployment given by --gp-url",
}


def vocabulary(config: pytest.Config) -> Vocabulary:
    """This run's segments and stages, from ``gp_segments`` and ``gp_stages``."""
    options = harness_options(config)
    return Vocabulary(options.segments, options.stages or STAGES)


def test_tier_from_path(path: Path) -> str | None:
    """``unit``, ``integration``, ``e2e`` or ``browser`` from the folder a test file is in."""
    for part in reversed(path.parts[:-1]):
        if part in TEST_TIERS:
            return part
    return None


def test_tier_of(item: pytest.Item) -> str | None:
    """The test's tier: from its folder (``tests/e2e/...``), else from its own tier marker
    (a test shipped in a package, such as ``golden_path/conformance``, names its tier)."""
    from_path = test_tier_from_path(item.path)
    if from_path is not None:
        return from_path
    return next((tier for tier in TEST_TIERS if item.get_closest_marker(tier)), None)


def check_choice(marker: str, args: tuple[object, ...], choices: tuple[str, ...]) -> str | None:
    """A message when ``@marker(...)`` does not name exactly one of ``choices`` (any
    non-empty name when ``choices`` is empty)."""
    shown = ", ".join(repr(a) for a in args) or "nothing"
    setting = "gp_segments" if marker == "tier" else "gp_stages"
    if len(args) > 1:
        return (
            f"@pytest.mark.{marker}({shown}): one name per marker; a test of several "
            f"stacks one @pytest.mark.{marker}(...) for each"
        )
    if len(args) == 0 or not isinstance(args[0], str) or not args[0].strip():
        return f"@pytest.mark.{marker}({shown}): expected a name"
    if choices and args[0] not in choices:
        return f"@pytest.mark.{marker}({shown}): expected one of {', '.join(choices)} ({setting})"
    return None
