"""Token rules at their exact limits, and the reason each refusal gives to the logs.

Written from mutation testing (see docs/testing.md): the token tests elsewhere check
that a bad token raises ``TokenError``, so a limit moved by one (size, ``jti`` length,
the clock-skew edge) or a reason that no longer says what failed went unnoticed.
The reason never reaches the client, but it is what an operator reads when users
report being logged out.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from golden_path.ids import UserID
from golden_path.server.auth import tokens as tokens_module
from golden_path.server.auth.tokens import TokenError, Tokens
from golden_path.server.config import Settings
from golden_path.testing.server.reference import reference_jwt
from golden_path.tiers import Tier

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="A limit off by one either logs out users whose tokens are valid or "
        "lets through a token that should be refused; a vague reason hides which it was.",
        revenue_impact="Spurious logouts are the complaint that churns paying users fastest; "
        "an accepted bad token is a breach that ends enterprise deals.",
    ),
]

SECRET = "k" * 48
SETTINGS = Settings(jwt_secret=SECRET).validated()
TOKENS = Tokens(SETTINGS)
FACTORY = reference_jwt(SETTINGS)
USER = UserID.new()
SKEW = SETTINGS.clock_skew_s
MAX_TOKEN_CHARS = 8192


def claims(**overrides: Any) -> dict[str, Any]:
    return FACTORY.claims(str(USER), **overrides)


def signed(payload: dict[str, Any], algorithm: str = "HS256") -> str:
    return jwt.encode(payload, SECRET, algorithm=algorithm)


def signed_of_length(length: int) -> str:
    """A valid access token exactly ``length`` characters long (padded with extra claims)."""
    base = claims()
    for pad in range(length):
        for header_pad in range(3):
            headers = {"x": "h" * header_pad} if header_pad else None
            token = jwt.encode({**base, "pad": "p" * pad}, SECRET, headers=headers)
            if len(token) == length:
                return token
            if len(token) > length + 8:
                break
    raise AssertionError(f"no token of length {length}")  # pragma: no cover


def reason(token: Any, expected: str = "access") -> str:
    with pytest.raises(TokenError) as raised:
        TOKENS.verify(token, expected)  # type: ignore[arg-type]
    return str(raised.value)


# --- exact limits


def test_a_token_of_exactly_the_size_limit_is_accepted() -> None:
    token = signed_of_length(MAX_TOKEN_CHARS)
    assert TOKENS.verify(token, "access").user_id == USER


def test_a_token_one_character_over_the_size_limit_is_refused() -> None:
    token = signed_of_length(MAX_TOKEN_CHARS + 1)
    assert reason(token) == "no token, or not a compact JWT"


@pytest.mark.parametrize("length", [8, 128])
def test_a_jti_at_either_length_bound_is_accepted(length: int) -> None:
    token = signed(claims(jti="j" * length))
    assert TOKENS.verify(token, "access").jti == "j" * length


@pytest.mark.parametrize("length", [7, 129])
def test_a_jti_just_outside_the_length_bounds_is_refused(length: int) -> None:
    assert reason(signed(claims(jti="j" * length))) == "bad jti"


def _server_clock(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    """The server's own clock (``time.time`` in the tokens module) reads ``now``."""
    monkeypatch.setattr(tokens_module, "time", SimpleNamespace(time=lambda: now))


def test_iat_exactly_at_the_skew_edge_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    iat = int(time.time())
    token = signed(claims(iat=iat, exp=iat + 900))
    _server_clock(monkeypatch, iat - SKEW)
    assert TOKENS.verify(token, "access").issued_at == iat


def test_iat_one_second_past_the_skew_edge_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    iat = int(time.time())
    token = signed(claims(iat=iat, exp=iat + 900))
    _server_clock(monkeypatch, iat - SKEW - 1)
    assert reason(token) == "issued in the future"


# --- the reason of each refusal


@pytest.mark.parametrize("token", ["", None, 42, "é.é.é"])
def test_a_missing_or_non_compact_token_says_so(token: Any) -> None:
    assert reason(token) == "no token, or not a compact JWT"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_another_algorithm_is_named() -> None:
    assert reason(signed(claims(), algorithm="HS512")) == "algorithm 'HS512' is not allowed"


def test_a_library_refusal_keeps_the_library_reason() -> None:
    assert reason(FACTORY.expired(str(USER))) == "Signature has expired"


def test_a_token_of_the_other_type_names_both_types() -> None:
    pair = TOKENS.issue_pair(USER, Tier.FREE)
    assert reason(pair.refresh_token, "access") == "a 'refresh' token where 'access' is due"
    assert reason(pair.access_token, "refresh") == "a 'access' token where 'refresh' is due"


@pytest.mark.parametrize("name", ["iat", "exp"])
def test_a_non_integer_time_claim_is_named(name: str) -> None:
    now = int(time.time())
    times = {"iat": now, "exp": now + 900}
    times[name] = times[name] + 0.5
    assert reason(signed(claims(**times))) == f"claim {name} is not an integer"


def test_a_non_string_family_is_named() -> None:
    assert reason(signed(claims(fam=123))) == "bad family"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"sub": "alice"},
            "invalid UserID: 'alice' (expected 'usr_' followed by 32 lowercase hex digits)",
        ),
        (
            {"tier": "platinum"},
            "unknown tier 'platinum' (expected one of: free, early, mid, enterprise)",
        ),
    ],
)
def test_an_unparseable_subject_or_tier_gives_the_parse_error(
    overrides: dict[str, Any], message: str
) -> None:
    assert reason(signed(claims(**overrides))) == message
