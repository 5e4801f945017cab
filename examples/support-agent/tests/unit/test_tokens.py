"""Our token rules (support/tokens.py), with no service: what the desk lets chat."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from support.tokens import ALGORITHM, AUDIENCE, ISSUER, Unauthorized, bearer, verify

pytestmark = [
    pytest.mark.stage("sign-in"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="only our own customers' chat tokens reach the agent, each with its plan",
        revenue_impact="a forged plan claim would grant a starter customer business-plan "
        "refunds; a forged token another customer's conversations",
    ),
]

SECRET = "a-secret-for-the-unit-tests-only-0123456789abcdef"  # noqa: S105


def token(**changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "customer_id": "c-1",
        "iat": now,
        "exp": now + 60,
        "plan": "team",
        "token_use": "access",
        "scope": "support:chat orders:read",
    }
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, SECRET, ALGORITHM)


def test_a_chat_token_names_the_customer_and_their_plan() -> None:
    caller = verify(token(), SECRET)
    assert (caller.customer, caller.plan) == ("c-1", "team")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"plan": "platinum"}, "unknown plan"),
        ({"token_use": "refresh"}, "not an access token"),
        ({"scope": "orders:read"}, "support:chat"),
        ({"customer_id": ""}, "empty customer_id"),
        ({"customer_id": None}, "customer_id"),
        ({"aud": "orders-api"}, "(?i)audience"),
    ],
)
def test_a_token_we_did_not_issue_for_chat_is_refused_saying_why(
    changes: dict[str, Any], why: str
) -> None:
    with pytest.raises(Unauthorized, match=why):
        verify(token(**changes), SECRET)


@pytest.mark.parametrize("header", [None, "", "Bearer ", "Basic abc", "token abc"])
def test_a_request_without_a_bearer_token_is_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized, match="Bearer"):
        bearer(header)
