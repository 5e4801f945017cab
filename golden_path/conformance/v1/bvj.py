"""The business value of each topic whose tests are split between the shipped suite and
this repository's ``tests/e2e`` (the half that needs the reference server itself).

Both halves of a topic justify their tests by the same ``@pytest.mark.bvj``: one mark a
topic, here, which each half puts in its ``pytestmark``.
"""

from __future__ import annotations

import pytest

AGUI_REFERENCE = pytest.mark.bvj(
    segment="all",
    goal="conversion",
    value_impact=(
        "A team whose UI already speaks AG-UI (CopilotKit, the AG-UI clients) can put it "
        "on the reference server and keep every promise of the golden path: the same "
        "limits, the same persisted history, the same bill."
    ),
    revenue_impact=(
        "AG-UI is how agent frameworks reach their UIs; a server that speaks it is "
        "adopted without a client rewrite, and one that bills an AG-UI run twice or "
        "loses it from history costs the customer's trust."
    ),
)

AUTH_HTTP = pytest.mark.bvj(
    segment="all",
    goal="retention",
    value_impact="Customers can sign up, stay logged in and log out; a stolen or forged "
    "token opens nothing",
    revenue_impact="Broken login blocks every paid session; a token flaw leaks customers' "
    "conversations and usage data and costs their trust",
)

CLIENT_FRAMES = pytest.mark.bvj(
    segment="all",
    goal="retention",
    value_impact="Conversations continue in their thread, clients can stop a run they no "
    "longer want and renew their credentials without dropping the stream",
    revenue_impact="Lost threads, unstoppable runs or sockets dropped at token renewal make "
    "the agent feel broken and drive churn of paying users",
)

CLOSE_CODES = pytest.mark.bvj(
    segment="all",
    goal="stability",
    value_impact="Every way a socket ends carries a code the client can act on: reconnect, "
    "re-authenticate, back off, close a tab or upgrade",
    revenue_impact="A client that cannot tell why its socket closed reconnects blindly or "
    "gives up; both lose answers, and 4429 is an upgrade prompt",
)

ERRORS = pytest.mark.bvj(
    segment="all",
    goal="conversion",
    value_impact="Every refusal says exactly what went wrong (and, at a plan limit, which "
    "plan lifts it) without dropping the conversation",
    revenue_impact="Plan limits are the upgrade funnel: a clear quota or length error "
    "converts, a dropped socket churns; a misbehaving client cannot take a socket down",
)

HANDSHAKE = pytest.mark.bvj(
    segment="all",
    goal="retention",
    value_impact="Every client (browser, SDK, CLI) can open the socket the product streams "
    "through, and nobody can open one with someone else's or a forged credential",
    revenue_impact="No socket means no answers for any paying user; a weak handshake "
    "exposes customers' live conversations",
)

IDEMPOTENCY_AND_RESUME = pytest.mark.bvj(
    segment="all",
    goal="retention",
    value_impact="A client that retries or reconnects gets every answer exactly once and is "
    "never billed twice for one question",
    revenue_impact="Double billing and lost answers after a network blip are what make "
    "paying customers cancel",
)

SECURITY_LIMITS = pytest.mark.bvj(
    segment="all",
    goal="stability",
    value_impact="No request can make the server hold gigabytes, no thread read returns "
    "unbounded history, and a logout holds even if Redis drops its record",
    revenue_impact="One oversized request taking a node down, or a logged-out token "
    "working again, is an outage or a breach for every customer",
)

SECURITY_SESSIONS = pytest.mark.bvj(
    segment="all",
    goal="retention",
    value_impact="A customer who logs out (or out everywhere) after a token leaked is "
    "really logged out: no minted session, no socket that keeps streaming",
    revenue_impact="A stolen token that outlives logout exposes every conversation and "
    "usage figure of the account; one such incident costs the customer's trust",
)
