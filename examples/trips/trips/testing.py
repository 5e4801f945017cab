"""Our test users: what golden-path's gp_user makes for this product (gp_user_factory).

Our identity provider is another team's service, so a test user is a subject and a token
signed like the provider's: RS256 with the private key the harness made for the run
($TRIPS_JWT_PRIVATE_KEY; the service under test only ever sees the public half)."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import jwt

from trips.tokens import ALGORITHM, AUDIENCE, ISSUER

TTL_S = 900


@dataclass(frozen=True, slots=True)
class TestTraveller:
    """The shape gp_user needs: an ``access_token`` (gp_agui and gp_ws send it)."""

    subject: str
    plan: str
    access_token: str


async def make_user(base_url: str, plan: str) -> TestTraveller:
    subject = f"traveller-{uuid.uuid4().hex}"
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + TTL_S,
        "plan": plan,
    }
    token = jwt.encode(claims, os.environ["TRIPS_JWT_PRIVATE_KEY"], algorithm=ALGORITHM)
    return TestTraveller(subject=subject, plan=plan, access_token=token)
