"""JWTs: what ``Tokens`` issues, and every way a token must be refused (always ``TokenError``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import example, given
from hypothesis import strategies as st

from golden_path.ids import ThreadID, UserID
from golden_path.server.auth.tokens import REQUIRED_CLAIMS, Claims, TokenError, Tokens
from golden_path.server.config import Settings
from golden_path.testing.server.reference import reference_jwt
from golden_path.tiers import TIER_ORDER, Tier

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="only tokens this server issued, unexpired, of the right type, for the "
        "right audience, open a session; everything else is one uniform refusal",
        revenue_impact="a forged or confused token reads another customer's threads or grants "
        "a paid tier for free: a breach that ends enterprise deals",
    ),
]

SECRET = "k" * 48
SETTINGS = Settings(jwt_secret=SECRET).validated()
TOKENS = Tokens(SETTINGS)
FACTORY = reference_jwt(SETTINGS)
USER = UserID.new()
SKEW = SETTINGS.clock_skew_s
B64URL = string.ascii_letters + string.digits + "-_"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def hs256(payload: Any, key: str | bytes = SECRET, header: dict[str, Any] | None = None) -> str:
    """Sign anything (pyjwt's encoder refuses malformed claims; a forger would not)."""
    head = _b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    key_bytes = key.encode() if isinstance(key, str) else key
    signature = hmac.new(key_bytes, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def claims(**overrides: Any) -> dict[str, Any]:
    return FACTORY.claims(str(USER), **overrides)


def without(name: str) -> dict[str, Any]:
    data = claims()
    del data[name]
    return data


def decoded(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="golden-path-api",
        issuer="golden-path",
    )
    return payload


def now() -> int:
    return int(time.time())


# --- what is issued -------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_issue_pair_claims(tier: Tier) -> None:
    before = now()
    pair = TOKENS.issue_pair(USER, tier)
    access, refresh = decoded(pair.access_token), decoded(pair.refresh_token)
    for payload, typ, ttl in (
        (access, "access", SETTINGS.access_ttl_s),
        (refresh, "refresh", SETTINGS.refresh_ttl_s),
    ):
        assert set(REQUIRED_CLAIMS) <= set(payload)
        assert payload["iss"] == "golden-path"
        assert payload["aud"] == "golden-path-api"
        assert payload["sub"] == str(USER)
        assert payload["tier"] == tier.value
        assert payload["typ"] == typ
        assert before <= payload["iat"] <= now()
        assert payload["exp"] == payload["iat"] + ttl
        assert isinstance(payload["jti"], str)
        assert 8 <= len(payload["jti"]) <= 128
    assert access["jti"] != refresh["jti"]
    assert access["fam"] == refresh["fam"]
    assert jwt.get_unverified_header(pair.access_token)["alg"] == "HS256"


def test_issued_claims_objects_match_the_tokens() -> None:
    pair = TOKENS.issue_pair(USER, Tier.MID)
    access = decoded(pair.access_token)
    assert pair.access_claims == Claims(
        USER, Tier.MID, "access", access["jti"], access["fam"], access["iat"], access["exp"]
    )
    assert pair.refresh_claims.typ == "refresh"
    assert pair.refresh_claims.family == pair.access_claims.family
    assert pair.expires_in == SETTINGS.access_ttl_s


def test_jti_and_family_are_unique_per_pair() -> None:
    pairs = [TOKENS.issue_pair(USER, Tier.FREE) for _ in range(20)]
    jtis = [c.jti for p in pairs for c in (p.access_claims, p.refresh_claims)]
    assert len(set(jtis)) == len(jtis)
    assert len({p.access_claims.family for p in pairs}) == len(pairs)


def test_a_given_family_is_kept_for_rotation() -> None:
    pair = TOKENS.issue_pair(USER, Tier.EARLY, family="f" * 32)
    assert decoded(pair.access_token)["fam"] == "f" * 32
    assert decoded(pair.refresh_token)["fam"] == "f" * 32
    assert TOKENS.verify(pair.refresh_token, "refresh").family == "f" * 32


def test_issue_pair_at_a_given_time() -> None:
    moment = now() - 100
    pair = TOKENS.issue_pair(USER, Tier.FREE, now=moment + 0.9)
    assert pair.access_claims.issued_at == moment
    assert pair.access_claims.expires_at == moment + SETTINGS.access_ttl_s
    assert TOKENS.verify(pair.access_token, "access").issued_at == moment


def test_custom_ttls_issuer_and_audience_are_used() -> None:
    settings = Settings(
        jwt_secret=SECRET,
        access_ttl_s=60,
        refresh_ttl_s=120,
        jwt_issuer="https://issuer.example",
        jwt_audience="other-api",
    ).validated()
    tokens = Tokens(settings)
    pair = tokens.issue_pair(USER, Tier.FREE)
    payload = jwt.decode(
        pair.refresh_token,
        SECRET,
        algorithms=["HS256"],
        audience="other-api",
        issuer="https://issuer.example",
    )
    assert payload["exp"] - payload["iat"] == 120
    assert pair.access_claims.expires_at - pair.access_claims.issued_at == 60
    assert pair.expires_in == 60
    assert tokens.verify(pair.access_token, "access").user_id == USER
    with pytest.raises(TokenError):
        TOKENS.verify(pair.access_token, "access")  # this server's audience and issuer differ


def test_to_response_is_the_oauth_shape() -> None:
    pair = TOKENS.issue_pair(USER, Tier.FREE)
    assert pair.to_response() == {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
        "expires_in": SETTINGS.access_ttl_s,
    }


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_verify_accepts_its_own_tokens(tier: Tier) -> None:
    pair = TOKENS.issue_pair(USER, tier)
    assert TOKENS.verify(pair.access_token, "access") == pair.access_claims
    assert TOKENS.verify(pair.refresh_token, "refresh") == pair.refresh_claims


def test_verify_returns_typed_values() -> None:
    verified = TOKENS.verify(FACTORY.valid(str(USER), Tier.ENTERPRISE), "access")
    assert isinstance(verified.user_id, UserID)
    assert verified.tier is Tier.ENTERPRISE


def test_a_token_from_another_server_with_the_same_settings_is_accepted() -> None:
    other = Tokens(Settings(jwt_secret=SECRET).validated())
    pair = other.issue_pair(USER, Tier.FREE)
    assert TOKENS.verify(pair.access_token, "access").jti == pair.access_claims.jti


# --- the clock ------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds_ago", [SKEW + 1, 60, 3600, 10**6])
def test_expired_beyond_the_skew_is_refused(seconds_ago: int) -> None:
    token = hs256(claims(iat=now() - 10**6 - 10, exp=now() - seconds_ago))
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


def test_factory_expired_is_refused() -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(FACTORY.expired(str(USER)), "access")


@pytest.mark.parametrize("seconds_ago", [0, 1, SKEW // 2])
def test_expired_within_the_skew_is_accepted(seconds_ago: int) -> None:
    token = hs256(claims(iat=now() - 60, exp=now() - seconds_ago))
    assert TOKENS.verify(token, "access").user_id == USER


@pytest.mark.parametrize("ahead", [SKEW + 20, 3600, 10**6])
def test_issued_in_the_future_beyond_the_skew_is_refused(ahead: int) -> None:
    token = hs256(claims(iat=now() + ahead, exp=now() + ahead + 900))
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


def test_factory_not_yet_valid_is_refused() -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(FACTORY.not_yet_valid(str(USER)), "access")


def test_issued_in_the_future_within_the_skew_is_accepted() -> None:
    token = hs256(claims(iat=now() + SKEW // 2))
    assert TOKENS.verify(token, "access").user_id == USER


def test_a_future_not_before_is_refused() -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(hs256(claims(nbf=now() + 3600)), "access")


# --- every refusal --------------------------------------------------------------------------


def _rsa_signed_token() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims(), key, algorithm="RS256")


def _hs_header_variant(alg: str) -> str:
    return hs256(claims(), header={"alg": alg, "typ": "JWT"})


def _unsigned(alg: str) -> str:
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps(claims()).encode())}."


REFUSED: dict[str, Callable[[], str]] = {
    "wrong-audience": lambda: FACTORY.wrong_audience(str(USER)),
    "audience-list-with-ours": lambda: hs256(claims(aud=["golden-path-api", "other"])),
    "audience-list-only-ours": lambda: hs256(claims(aud=["golden-path-api"])),
    "audience-case": lambda: hs256(claims(aud="Golden-Path-API")),
    "audience-not-string": lambda: hs256(claims(aud=1)),
    "wrong-issuer": lambda: FACTORY.wrong_issuer(str(USER)),
    "issuer-case": lambda: hs256(claims(iss="Golden-Path")),
    "issuer-not-string": lambda: hs256(claims(iss=["golden-path"])),
    "refresh-where-access-due": lambda: FACTORY.wrong_type(str(USER)),
    "unknown-typ": lambda: hs256(claims(typ="id")),
    "typ-case": lambda: hs256(claims(typ="ACCESS")),
    "typ-list": lambda: hs256(claims(typ=["access"])),
    "another-key": lambda: FACTORY.other_key(str(USER)),
    "another-key-prefix-of-ours": lambda: hs256(claims(), key=SECRET[:-1]),
    "alg-none": lambda: FACTORY.alg_none(str(USER)),
    "alg-None": lambda: _unsigned("None"),
    "alg-NONE": lambda: _unsigned("NONE"),
    "alg-missing": lambda: hs256(claims(), header={"typ": "JWT"}),
    "alg-lowercase-hs256": lambda: _hs_header_variant("hs256"),
    "alg-HS512-header": lambda: _hs_header_variant("HS512"),
    "alg-HS512-signed": lambda: jwt.encode(claims(), SECRET, algorithm="HS512"),
    "alg-HS384-signed": lambda: jwt.encode(claims(), SECRET, algorithm="HS384"),
    "alg-RS256-header-hmac-signed": lambda: _hs_header_variant("RS256"),
    "alg-RS256-signed": _rsa_signed_token,
    "alg-EdDSA-header": lambda: _hs_header_variant("EdDSA"),
    "header-not-object": lambda: f"{_b64(b'[1]')}.{_b64(json.dumps(claims()).encode())}.sig",
    "payload-not-object": lambda: hs256([1, 2, 3]),
    "payload-null": lambda: hs256(None),
    "tampered-tier": lambda: FACTORY.tampered_tier(FACTORY.valid(str(USER))),
    "tampered-tier-own-token": lambda: FACTORY.tampered_tier(
        TOKENS.issue_pair(USER, Tier.FREE).access_token
    ),
    "tampered-sub": lambda: FACTORY.tampered(FACTORY.valid(str(USER)), sub=str(UserID.new())),
    "tampered-exp": lambda: FACTORY.tampered(FACTORY.valid(str(USER)), exp=now() + 10**8),
    "tampered-typ": lambda: FACTORY.tampered(
        TOKENS.issue_pair(USER, Tier.FREE).refresh_token, typ="access"
    ),
    "signature-stripped": lambda: FACTORY.valid(str(USER)).rsplit(".", 1)[0] + ".",
    "signature-of-another-token": lambda: (
        FACTORY.valid(str(USER)).rsplit(".", 1)[0]
        + "."
        + FACTORY.valid(str(UserID.new())).rsplit(".", 1)[1]
    ),
    "sub-not-user-id": lambda: hs256(claims(sub="alice")),
    "sub-thread-id": lambda: hs256(claims(sub=str(ThreadID.new()))),
    "sub-uppercase-hex": lambda: hs256(claims(sub="usr_" + "A" * 32)),
    "sub-short": lambda: hs256(claims(sub="usr_" + "a" * 31)),
    "sub-integer": lambda: hs256(claims(sub=42)),
    "sub-null": lambda: hs256(claims(sub=None)),
    "tier-unknown": lambda: hs256(claims(tier="platinum")),
    "tier-uppercase": lambda: hs256(claims(tier="FREE")),
    "tier-empty": lambda: hs256(claims(tier="")),
    "tier-list": lambda: hs256(claims(tier=["free"])),
    "tier-integer": lambda: hs256(claims(tier=0)),
    "jti-too-short": lambda: hs256(claims(jti="1234567")),
    "jti-empty": lambda: hs256(claims(jti="")),
    "jti-too-long": lambda: hs256(claims(jti="j" * 129)),
    "jti-integer": lambda: hs256(claims(jti=12345678)),
    "fam-not-string": lambda: hs256(claims(fam=123)),
    "exp-float": lambda: hs256(claims(exp=now() + 900.5)),
    "exp-numeric-string": lambda: hs256(claims(exp=str(now() + 900))),
    "exp-word": lambda: hs256(claims(exp="tomorrow")),
    "exp-bool": lambda: hs256(claims(exp=True)),
    "exp-null": lambda: hs256(claims(exp=None)),
    "exp-list": lambda: hs256(claims(exp=[now() + 900])),
    "iat-float": lambda: hs256(claims(iat=now() + 0.5)),
    "iat-bool": lambda: hs256(claims(iat=True)),
    "iat-word": lambda: hs256(claims(iat="now")),
    "iat-numeric-string": lambda: hs256(claims(iat=str(now()))),
    "iat-list": lambda: hs256(claims(iat=[now()])),
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("build", REFUSED.values(), ids=REFUSED.keys())
def test_refused(build: Callable[[], str]) -> None:
    token = build()
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


def test_the_refusal_controls_are_accepted() -> None:
    """Each refusal above breaks one thing of a token that is otherwise accepted."""
    assert TOKENS.verify(FACTORY.valid(str(USER)), "access").user_id == USER
    assert TOKENS.verify(hs256(claims()), "access").user_id == USER


def test_access_where_refresh_due_is_refused() -> None:
    pair = TOKENS.issue_pair(USER, Tier.FREE)
    with pytest.raises(TokenError):
        TOKENS.verify(pair.access_token, "refresh")
    with pytest.raises(TokenError):
        TOKENS.verify(pair.refresh_token, "access")


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_required_claim_missing_is_refused(claim: str) -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(FACTORY.missing_claim(str(USER), claim), "access")


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_required_claim_null_is_refused(claim: str) -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(hs256(claims(**{claim: None})), "access")


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_each_required_claim_missing_from_a_refresh_token_is_refused(claim: str) -> None:
    data = without(claim) | ({"typ": "refresh"} if claim != "typ" else {})
    with pytest.raises(TokenError):
        TOKENS.verify(hs256(data), "refresh")


def test_the_family_claim_is_optional() -> None:
    verified = TOKENS.verify(hs256(without("fam")), "access")
    assert verified.family == ""


@pytest.mark.parametrize(
    "token",
    [
        "",
        " ",
        ".",
        "..",
        "...",
        "a.b.c",
        "not a token",
        "Bearer x.y.z",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.e30",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "eyJhbGciOiJIUzI1NiJ9.e30.e30.e30",
        "%%%.%%%.%%%",
        "\x00\x00.\x00.\x00",
        "é.é.é",
        pytest.param("\ud800.\ud800.\ud800", id="lone-surrogates"),
    ],
)
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


@pytest.mark.parametrize("token", [None, b"x.y.z", 42, ["a", "b"]])
def test_a_non_string_is_refused(token: Any) -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


def test_a_10_kb_token_is_refused_even_when_signed_correctly() -> None:
    token = hs256(claims(padding="p" * 10_000))
    assert len(token) > 10_000
    with pytest.raises(TokenError):
        TOKENS.verify(token, "access")


def test_a_token_just_under_the_size_limit_is_accepted() -> None:
    token = hs256(claims(padding="p" * 5_000))
    assert 5_000 < len(token) <= 8192
    assert TOKENS.verify(token, "access").user_id == USER


def test_whitespace_around_a_valid_token_is_refused() -> None:
    token = FACTORY.valid(str(USER))
    for variant in (f" {token}", f"{token}\n", f"Bearer {token}"):
        with pytest.raises(TokenError):
            TOKENS.verify(variant, "access")


# --- properties -----------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_verify_raises_only_token_error_for_arbitrary_text(text: str) -> None:
    for expected in ("access", "refresh"):
        with pytest.raises(TokenError):
            TOKENS.verify(text, expected)  # type: ignore[arg-type]


@given(st.lists(st.text(alphabet=B64URL + "=.", max_size=60), min_size=1, max_size=5).map(".".join))
def test_verify_raises_only_token_error_for_jwt_shaped_text(text: str) -> None:
    with pytest.raises(TokenError):
        TOKENS.verify(text, "access")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.integers(min_value=0, max_value=2**40).map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@given(claim=st.sampled_from([*REQUIRED_CLAIMS, "fam", "nbf"]), value=JSON_VALUES)
@example(claim="iat", value=str(int(time.time())))  # a numeric string passes pyjwt's iat check
def test_a_signed_token_with_any_one_claim_value_is_accepted_or_refused_cleanly(
    claim: str, value: Any
) -> None:
    """Even a correctly signed token (a leaked key, another service's bug) never crashes verify."""
    token = hs256(claims(**{claim: value}))
    try:
        verified = TOKENS.verify(token, "access")
    except TokenError:
        return
    assert isinstance(verified, Claims)
    assert isinstance(verified.issued_at, int)
    assert isinstance(verified.expires_at, int)
    assert isinstance(verified.user_id, UserID)


_SIGNED = FACTORY.valid(str(USER))


@given(position=st.integers(min_value=0, max_value=42), replacement=st.sampled_from(B64URL))
def test_any_single_changed_signature_character_is_refused(position: int, replacement: str) -> None:
    head, body, signature = _SIGNED.split(".")
    assert len(signature) == 43
    if signature[position] == replacement:
        replacement = B64URL[(B64URL.index(replacement) + 1) % len(B64URL)]
    changed = signature[:position] + replacement + signature[position + 1 :]
    with pytest.raises(TokenError):
        TOKENS.verify(f"{head}.{body}.{changed}", "access")


@given(position=st.integers(min_value=0), replacement=st.sampled_from(B64URL))
def test_any_single_changed_payload_character_is_refused(position: int, replacement: str) -> None:
    head, body, signature = _SIGNED.split(".")
    position %= len(body)
    if body[position] == replacement:
        replacement = B64URL[(B64URL.index(replacement) + 1) % len(B64URL)]
    changed = body[:position] + replacement + body[position + 1 :]
    if _b64decode(changed) == _b64decode(body):  # only unused trailing bits changed
        return
    with pytest.raises(TokenError):
        TOKENS.verify(f"{head}.{changed}.{signature}", "access")


# --- asymmetric configurations --------------------------------------------------------------


def _pem_pair(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    return _pem_pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ed_keys() -> tuple[str, str]:
    return _pem_pair(ed25519.Ed25519PrivateKey.generate())


@pytest.fixture(params=["RS256", "EdDSA"])
def asymmetric(
    request: pytest.FixtureRequest, rsa_keys: tuple[str, str], ed_keys: tuple[str, str]
) -> tuple[Tokens, str, str]:
    algorithm = request.param
    private, public = rsa_keys if algorithm == "RS256" else ed_keys
    settings = Settings(
        jwt_algorithm=algorithm, jwt_private_key=private, jwt_public_key=public
    ).validated()
    return Tokens(settings), private, public


def test_asymmetric_issue_and_verify(asymmetric: tuple[Tokens, str, str]) -> None:
    tokens, _, public = asymmetric
    pair = tokens.issue_pair(USER, Tier.MID)
    assert tokens.verify(pair.access_token, "access") == pair.access_claims
    assert tokens.verify(pair.refresh_token, "refresh") == pair.refresh_claims
    algorithm = jwt.get_unverified_header(pair.access_token)["alg"]
    payload = jwt.decode(
        pair.access_token,
        public,
        algorithms=[algorithm],
        audience="golden-path-api",
        issuer="golden-path",
    )
    assert payload["sub"] == str(USER)
    with pytest.raises(TokenError):
        tokens.verify(pair.access_token, "refresh")


def test_asymmetric_refuses_hs256_tokens(asymmetric: tuple[Tokens, str, str]) -> None:
    tokens, _, _ = asymmetric
    with pytest.raises(TokenError):
        tokens.verify(FACTORY.valid(str(USER)), "access")
    with pytest.raises(TokenError):
        tokens.verify(TOKENS.issue_pair(USER, Tier.FREE).access_token, "access")


def test_asymmetric_refuses_hmac_signed_with_its_public_key(
    asymmetric: tuple[Tokens, str, str],
) -> None:
    """The classic algorithm confusion: the public key used as an HMAC secret."""
    tokens, _, public = asymmetric
    for alg in (
        "HS256",
        jwt.get_unverified_header(tokens.issue_pair(USER, Tier.FREE).access_token)["alg"],
    ):
        forged = hs256(claims(), key=public, header={"alg": alg, "typ": "JWT"})
        with pytest.raises(TokenError):
            tokens.verify(forged, "access")


def test_asymmetric_refuses_alg_none(asymmetric: tuple[Tokens, str, str]) -> None:
    tokens, _, _ = asymmetric
    with pytest.raises(TokenError):
        tokens.verify(FACTORY.alg_none(str(USER)), "access")


def test_asymmetric_refuses_a_tampered_payload(asymmetric: tuple[Tokens, str, str]) -> None:
    tokens, _, _ = asymmetric
    token = tokens.issue_pair(USER, Tier.FREE).access_token
    with pytest.raises(TokenError):
        tokens.verify(FACTORY.tampered_tier(token), "access")


def test_rs256_and_eddsa_refuse_each_others_tokens(
    rsa_keys: tuple[str, str], ed_keys: tuple[str, str]
) -> None:
    rs = Tokens(
        Settings(
            jwt_algorithm="RS256", jwt_private_key=rsa_keys[0], jwt_public_key=rsa_keys[1]
        ).validated()
    )
    ed = Tokens(
        Settings(
            jwt_algorithm="EdDSA", jwt_private_key=ed_keys[0], jwt_public_key=ed_keys[1]
        ).validated()
    )
    with pytest.raises(TokenError):
        rs.verify(ed.issue_pair(USER, Tier.FREE).access_token, "access")
    with pytest.raises(TokenError):
        ed.verify(rs.issue_pair(USER, Tier.FREE).access_token, "access")


def test_rs256_refuses_a_token_signed_by_another_rsa_key(rsa_keys: tuple[str, str]) -> None:
    rs = Tokens(
        Settings(
            jwt_algorithm="RS256", jwt_private_key=rsa_keys[0], jwt_public_key=rsa_keys[1]
        ).validated()
    )
    with pytest.raises(TokenError):
        rs.verify(_rsa_signed_token(), "access")
