"""Our plans and what each lets the agent do on its own: refunds up to a limit."""

from __future__ import annotations

# The most the agent refunds without a human, per plan (cents).
REFUND_LIMIT_CENTS = {"starter": 2_000, "team": 10_000, "business": 50_000}
PLANS = tuple(REFUND_LIMIT_CENTS)


def refund_limit_cents(plan: str) -> int:
    return REFUND_LIMIT_CENTS[plan]
