"""The markers the harness registers, and the rules for their arguments."""

from __future__ import annotations

from pathlib import Path

from golden_path.tiers import TIER_ORDER

TEST_TIERS: tuple[str, ...] = ("unit", "integration", "e2e", "browser")
STAGES: tuple[str, ...] = ("auth", "websocket", "agent", "events", "persistence")
CUSTOMER_TIERS: tuple[str, ...] = tuple(t.value for t in TIER_ORDER)

MARKERS: dict[str, str] = {
    "unit": "no services: pure logic, runs anywhere in milliseconds",
    "integration": "real PostgreSQL and Redis, no server",
    "e2e": "a running Golden Path server over real sockets",
    "browser": "drives the chat page in headless Chromium (bash scripts/install-browser.sh)",
    "real_services": "uses the real-services fixture (added automatically)",
    "golden_path": "exercises the revenue path end to end: login to persisted answer",
    "security": "proves a security property (auth, isolation, input handling)",
    "slow": "takes more than a second on purpose",
    "tier(name)": f"the customer tier the test is about: one of {', '.join(CUSTOMER_TIERS)}",
    "stage(name)": f"the golden-path stage the test covers: one of {', '.join(STAGES)}",
    "bvj(segment, goal, value_impact, revenue_impact)": "Business Value Justification",
    "server_internals": "needs the server under test's own services or process (its database, "
    "its Redis, a restart): skipped when the suite runs against a deployment given by --gp-url",
    "reference_only": "needs the reference server's internals (restarts, outages, its database); "
    "skipped when the suite runs against a deployment given by --gp-url",
}


def test_tier_from_path(path: Path) -> str | None:
    """``unit``, ``integration``, ``e2e`` or ``browser`` from the folder a test file is in."""
    for part in reversed(path.parts[:-1]):
        if part in TEST_TIERS:
            return part
    return None


def check_choice(marker: str, args: tuple[object, ...], choices: tuple[str, ...]) -> str | None:
    """A message when ``@marker(...)`` does not name exactly one of ``choices``."""
    if len(args) != 1 or args[0] not in choices:
        shown = ", ".join(repr(a) for a in args) or "nothing"
        return f"@pytest.mark.{marker}({shown}): expected one of {', '.join(choices)}"
    return None
