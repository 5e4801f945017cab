"""A team's server that verifies its own tokens its own way, and gp_jwt signing like it.

Each test writes a team's project (its plans ``free pro team`` in a ``plan``
claim, its own issuer and audience, an app that holds only the public half of
the key, as PEM or as a JWKS file) and runs pytest there on the outer run's
servers. The harness makes a key of the configured algorithm, hands the app its
public half, and signs with the private one; each bad token is refused for the
reason it names, and a token moved to another plan is refused by the signature
alone (its plan is one the app knows).
"""

from __future__ import annotations

import textwrap

import pytest

from tests.integration.harness.test_team_project import project, run, write

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team's negative token tests run against its own RS256, ES256 or EdDSA "
        "server, with its own plans and claims, on the first try",
        revenue_impact="token checks that only work for the reference server leave a team's "
        "real authentication untested: the breach that ends enterprise deals",
    ),
]
__all__ = ["project"]

APP = """
import json
import os

import jwt
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ALGORITHM = os.environ["TEAM_JWT_ALG"]
PLANS = ("free", "pro", "team")


def key_for(token):
    if os.environ.get("TEAM_JWKS"):
        with open(os.environ["TEAM_JWKS"]) as file:
            keys = jwt.PyJWKSet.from_json(file.read())
        kid = jwt.get_unverified_header(token).get("kid")
        return next((k for k in keys.keys if k.key_id == kid), keys.keys[0]).key
    return os.environ["TEAM_JWT_PUBLIC_KEY"]


async def me(request):
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    try:
        claims = jwt.decode(
            token, key_for(token), algorithms=[ALGORITHM], audience="team-api", issuer="team"
        )
    except Exception as exc:
        return JSONResponse({"refused": type(exc).__name__}, status_code=401)
    if claims.get("plan") not in PLANS:
        return JSONResponse({"refused": "plan"}, status_code=403)
    return JSONResponse({"user": claims["sub"], "plan": claims["plan"], "keys": sorted(claims)})


app = Starlette(routes=[Route("/me", me)])
"""

TESTS = """
import httpx
import jwt
import pytest


async def me(base_url, token):
    async with httpx.AsyncClient(base_url=base_url) as client:
        return await client.get("/me", headers={"authorization": f"Bearer {token}"})


async def test_a_valid_token_names_the_first_plan_and_no_claim_of_the_reference_server(
    gp_base_url, gp_jwt
):
    answer = await me(gp_base_url, gp_jwt.valid("u1"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["plan"] == "free"
    assert answer.json()["keys"] == ["aud", "exp", "iat", "iss", "jti", "plan", "sub"]


async def test_a_plan_is_given_by_name(gp_base_url, gp_jwt):
    answer = await me(gp_base_url, gp_jwt.valid("u1", "team"))
    assert answer.json()["plan"] == "team"


@pytest.mark.parametrize(
    ("kind", "refused"),
    [
        ("other_key", "InvalidSignatureError"),
        ("alg_none", "InvalidAlgorithmError"),
        ("expired", "ExpiredSignatureError"),
        ("wrong_audience", "InvalidAudienceError"),
        ("wrong_issuer", "InvalidIssuerError"),
    ],
)
async def test_each_bad_token_is_refused_for_its_reason(gp_base_url, gp_jwt, kind, refused):
    answer = await me(gp_base_url, getattr(gp_jwt, kind)("u1"))
    assert answer.status_code == 401
    assert answer.json()["refused"] == refused


async def test_a_token_moved_to_another_plan_is_refused_by_its_signature_alone(
    gp_base_url, gp_jwt
):
    token = gp_jwt.tampered_tier(gp_jwt.valid("u1", "free"))
    assert jwt.decode(token, options={"verify_signature": False})["plan"] == "team"
    answer = await me(gp_base_url, token)
    assert answer.json()["refused"] == "InvalidSignatureError"


async def test_a_claim_can_be_dropped(gp_base_url, gp_jwt):
    answer = await me(gp_base_url, gp_jwt.valid("u1", without=("exp",)))
    assert answer.status_code == 200
    assert "exp" not in answer.json()["keys"]
"""


@pytest.mark.parametrize(
    ("algorithm", "public_as"),
    [("RS256", "pem"), ("ES256", "pem"), ("EdDSA", "jwks"), ("PS384", "jwks")],
)
def test_gp_jwt_signs_like_a_server_that_holds_only_a_public_key(
    project: pytest.Pytester, algorithm: str, public_as: str
) -> None:
    write(project.path, {"team/__init__.py": "", "team/app.py": APP, "test_tokens.py": TESTS})
    public = (
        "gp_jwt_public_key_env = TEAM_JWT_PUBLIC_KEY"
        if public_as == "pem"
        else "gp_jwt_jwks_env = TEAM_JWKS"
    )
    result = run(
        project,
        f"""
        gp_app = team.app:app
        gp_app_env = TEAM_JWT_ALG={algorithm}
        gp_segments = free pro team
        gp_jwt_algorithm = {algorithm}
        gp_jwt_secret_env = TEAM_JWT_PRIVATE_KEY
        {public}
        gp_jwt_issuer = team
        gp_jwt_audience = team-api
        gp_jwt_tier_claim = plan
        """,
    )
    result.assert_outcomes(passed=9)


def test_an_algorithm_pyjwt_does_not_sign_stops_the_run_naming_the_choices(
    project: pytest.Pytester,
) -> None:
    write(project.path, {"test_nothing.py": "def test_nothing():\n    pass\n"})
    result = run(project, "gp_jwt_algorithm = HS999\n")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    text = textwrap.dedent("\n".join(result.errlines))
    assert "gp_jwt_algorithm = 'HS999': expected one of HS256" in text
    assert "ES384, EdDSA" in text
