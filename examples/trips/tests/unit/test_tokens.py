"""Which tokens the service accepts: RS256 from our issuer, checked with the public key."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from trips.tokens import AUDIENCE, ISSUER, Traveller, Unauthorized, bearer, verify

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="only our identity provider's tokens plan trips in a traveller's name",
        revenue_impact="a forged token books in someone else's name: a chargeback and a breach",
    ),
]

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "t-1", "iat": now, "exp": now + 60}
    base["plan"] = "pro"
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(**changes: Any) -> str:
    return jwt.encode(claims(**changes), KEY, algorithm="RS256")


def test_a_token_of_our_issuer_names_the_traveller_and_plan() -> None:
    assert verify(signed(), PUBLIC_PEM) == Traveller(subject="t-1", plan="pro")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(signed(plan="enterprise"), id="a plan we do not sell"),
        pytest.param(signed(plan=None), id="no plan"),
        pytest.param(signed(iss="https://evil.example"), id="another issuer"),
        pytest.param(signed(aud="orders"), id="another audience"),
        pytest.param(signed(exp=int(time.time()) - 120), id="expired"),
        pytest.param(signed(sub=""), id="empty subject"),
        pytest.param(jwt.encode(claims(), PUBLIC_PEM.encode()[:64], algorithm="HS256"), id="hs256"),
    ],
)
def test_a_token_we_did_not_issue_as_is_is_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        verify(token, PUBLIC_PEM)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer   "])
def test_a_missing_or_malformed_authorization_header_is_refused(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer(header)
