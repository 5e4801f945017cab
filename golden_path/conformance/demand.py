"""What each shipped suite asks of the server's limits, said before it runs.

A server with production limits refuses a conformance run part-way (the suite
signs up users from one machine, and sends bursts that prove the limits): the
command says up front what the suite needs, so an operator exempts the runner or
gives it a plan that allows it, instead of reading a wall of 429s.
"""

from __future__ import annotations

from golden_path.tiers import TIER_LIMITS, Tier

# The v1 suite's busiest user: the test that proves the per-minute message limit sends the
# highest plan's messages_per_minute and one more, within one minute, on one user (they name
# no thread, so they start no run); the tests of the daily quota start a free plan's whole
# quota of runs on one user within seconds (and one more, refused).
V1_MESSAGES_PER_MINUTE = max(limits.messages_per_minute for limits in TIER_LIMITS.values()) + 1
V1_RUNS_PER_MINUTE = TIER_LIMITS[Tier.FREE].runs_per_day + 1
# The AG-UI suite's runs, counted from its modules (golden_path/conformance/agui: one to
# three runs a test, 15 tests), all with the one bearer token $GOLDEN_PATH_AGUI_TOKEN; under
# pytest -n they start within the same minute.
AGUI_RUNS = 30


def demand(protocol: str) -> str:
    """One paragraph: the runs a minute (and the users) the ``protocol`` suite needs."""
    if protocol == "v1":
        return (
            f"the v1 suite needs up to {V1_RUNS_PER_MINUTE} runs a minute on one user (a free "
            f"plan's whole daily quota and one more) and {V1_MESSAGES_PER_MINUTE} messages a "
            "minute on one user (a plan's whole messages_per_minute and one more: the test "
            "that proves that limit), and signs up and logs in new users from this machine "
            "for each test, several a second under pytest -n: exempt this machine from the "
            "server's signup and login throttles"
        )
    return (
        f"the AG-UI suite starts about {AGUI_RUNS} runs, most within one minute under "
        "pytest -n, all with the one bearer token in $GOLDEN_PATH_AGUI_TOKEN: that token's "
        f"plan must allow {AGUI_RUNS} runs a minute and a few at once"
    )
