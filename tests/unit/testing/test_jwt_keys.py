"""gp_jwt's keys and tokens, on their own: every algorithm pyjwt signs, verified by pyjwt.

Each token the factory signs with a fresh key must verify with the public half
(as PEM and as the JWKS the harness publishes, found by its ``kid``), name the
project's segment, carry only the claims asked for, and each broken token must
be broken in exactly the way its name says.
"""

from __future__ import annotations

import jwt
import pytest

from golden_path.testing.identity.jwt_factory import JWTFactory, foreign_key
from golden_path.testing.identity.keys import ALGORITHMS, HMAC, generate, jwks, key_id
from golden_path.testing.identity.signing import provide_key
from golden_path.testing.options import JWT_ALGORITHMS

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="tokens signed exactly like a team's server signs them, whatever its "
        "algorithm, so its negative tests test its server and not the harness",
        revenue_impact="a forged token a team's server accepts is a breach; a harness that "
        "cannot sign like the server leaves that untested",
    ),
]

SEGMENTS = ("free", "pro", "team")


def factory(algorithm: str, **kwargs: object) -> tuple[JWTFactory, str]:
    pair = generate(algorithm)
    made = JWTFactory(
        secret=pair.private,
        issuer="team",
        audience="team-api",
        algorithm=algorithm,
        tier_claim="plan",
        segments=SEGMENTS,
        key_id=pair.kid or None,
        **kwargs,  # type: ignore[arg-type]
    )
    return made, pair.public


def decode(token: str, public: str, algorithm: str) -> dict[str, object]:
    return jwt.decode(token, public, algorithms=[algorithm], audience="team-api", issuer="team")


def test_the_options_and_the_key_maker_know_the_same_algorithms() -> None:
    assert JWT_ALGORITHMS == ALGORITHMS


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_token_of_each_algorithm_verifies_with_the_public_half(algorithm: str) -> None:
    made, public = factory(algorithm)
    claims = decode(made.valid("u1"), public, algorithm)
    assert claims["plan"] == "free"
    assert sorted(claims) == ["aud", "exp", "iat", "iss", "jti", "plan", "sub"]


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a not in HMAC])
def test_the_jwks_finds_the_key_by_the_kid_each_token_carries(algorithm: str) -> None:
    pair = generate(algorithm)
    made = JWTFactory(pair.private, algorithm=algorithm, key_id=key_id(algorithm, pair.private))
    token = made.valid("u1", "pro")
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid == pair.kid
    found = jwt.PyJWKSet.from_dict(jwks(pair))[kid]
    assert jwt.decode(token, found.key, algorithms=[algorithm], audience=made.audience)


def test_an_hmac_secret_has_no_jwks_and_no_kid() -> None:
    pair = generate("HS384")
    assert key_id("HS384", pair.private) is None
    with pytest.raises(ValueError, match="HS384 has no public half"):
        jwks(pair)


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "ES384", "EdDSA"])
def test_another_key_of_the_same_algorithm_does_not_verify(algorithm: str) -> None:
    made, public = factory(algorithm)
    with pytest.raises(jwt.InvalidSignatureError):
        decode(made.other_key("u1"), public, algorithm)
    assert jwt.get_unverified_header(made.other_key("u1"))["alg"] == algorithm


def test_tampered_tier_moves_the_token_to_another_segment_and_keeps_the_signature() -> None:
    made, public = factory("RS256")
    token = made.valid("u1", "free")
    moved = made.tampered_tier(token)
    assert jwt.decode(moved, options={"verify_signature": False})["plan"] == "team"
    assert moved.rsplit(".", 1)[1] == token.rsplit(".", 1)[1]
    with pytest.raises(jwt.InvalidSignatureError):
        decode(moved, public, "RS256")
    pro = made.tampered_tier(made.valid("u1", "team"), to="pro")
    assert jwt.decode(pro, options={"verify_signature": False})["plan"] == "pro"


def test_tampered_tier_without_another_segment_says_what_to_give() -> None:
    made = JWTFactory(generate("HS256").private)
    with pytest.raises(ValueError, match=r"needs to= or another segment .*gp_segments"):
        made.tampered_tier(made.valid("u1", "free"))


def test_claims_can_be_dropped_and_added() -> None:
    made, public = factory("EdDSA", extra_claims={"typ": "access"})
    claims = decode(made.valid("u1", without=("jti", "typ"), org="acme"), public, "EdDSA")
    assert "jti" not in claims
    assert "typ" not in claims
    assert claims["org"] == "acme"
    assert "plan" not in jwt.decode(
        made.missing_claim("u1", "plan"), options={"verify_signature": False}
    )


def test_a_negative_value_of_the_segment_claim_is_sent_as_it_is() -> None:
    made = JWTFactory(generate("HS256").private, segments=SEGMENTS, tier_claim="plan")
    for value in (0, None, ["free"], ""):
        decoded = jwt.decode(made.valid("u1", value), options={"verify_signature": False})
        assert decoded["plan"] == value


def test_provide_key_fills_what_is_unset_and_never_overwrites() -> None:
    env: dict[str, str] = {}
    pair = provide_key("ES256", "PRIVATE", "PUBLIC", "JWKS", environ=env)
    assert pair is not None
    assert env["PRIVATE"] == pair.private
    assert env["PUBLIC"] == pair.public
    with open(env["JWKS"], encoding="utf-8") as file:
        assert jwt.PyJWKSet.from_json(file.read())[pair.kid].key_id == pair.kid
    before = dict(env)
    assert provide_key("ES256", "PRIVATE", "PUBLIC", "JWKS", environ=env) is None
    assert env == before


def test_an_unknown_algorithm_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'HS999': expected one of HS256, .*EdDSA"):
        JWTFactory("x", algorithm="HS999")


def test_a_foreign_key_is_a_pem_for_asymmetric_algorithms() -> None:
    assert foreign_key("RS256").startswith("-----BEGIN PRIVATE KEY-----")
    assert not foreign_key("HS256").startswith("-----")
