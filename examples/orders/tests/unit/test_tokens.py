"""Which bearer tokens the orders API accepts: its own issuer, audience, plan claim and scope."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from orders.tokens import AUDIENCE, ISSUER, Caller, Unauthorized, bearer, verify

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="only a token this service issued, for this API, in date and with the "
        "write scope, places an order in a customer's name",
        revenue_impact="an order placed with a forged token is a chargeback and a breach report",
    ),
]
SECRET = "unit-test-signing-key-0123456789abcdef"  # noqa: S105 - a test key


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "customer-1",
        "iat": now,
        "exp": now + 300,
        "plan": "mid",
        "typ": "access",
        "scope": "orders:read orders:write",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(**changes: Any) -> str:
    return jwt.encode(claims(**changes), SECRET, algorithm="HS256")


def test_a_good_token_names_the_customer_and_plan() -> None:
    assert verify(token(), SECRET) == Caller(subject="customer-1", plan="mid")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "golden-path"}, "issuer"),
        ({"aud": "golden-path-api"}, "Audience"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"typ": "refresh"}, "not an access token"),
        ({"scope": "orders:read"}, "scope 'orders:write' is missing"),
        ({"plan": "platinum"}, "unknown plan"),
        ({"plan": None}, 'missing the "plan" claim'),
        ({"scope": None}, 'missing the "scope" claim'),
        ({"sub": ""}, "empty subject"),
    ],
)
def test_a_token_wrong_in_one_way_is_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        verify(token(**changes), SECRET)


def test_another_key_is_refused() -> None:
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        verify(token(), SECRET + "-other")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_no_bearer_token_is_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized, match="Bearer <token>"):
        bearer(header)


def test_the_bearer_scheme_is_case_insensitive() -> None:
    assert bearer("bearer abc.def.ghi") == "abc.def.ghi"
