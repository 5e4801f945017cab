"""Pure helpers: cursors, Redis keys, the clock, the origin allow-list, upgrades, principals."""

from __future__ import annotations

import base64
import fnmatch
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import HTTPException
from hypothesis import given
from hypothesis import strategies as st

from golden_path.ids import UserID
from golden_path.server.api.cursors import decode_cursor, encode_cursor
from golden_path.server.auth.tokens import Claims
from golden_path.server.clock import rfc3339, start_of_utc_day, utcnow
from golden_path.server.redis_keys import RedisKeys
from golden_path.server.runs.admission import next_tier, quota_upgrade
from golden_path.server.ws.handshake import Principal, origin_allowed
from golden_path.tiers import TIER_ORDER, Tier

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="pagination, key namespacing, UTC day boundaries and upgrade offers "
        "behave the same on every node and every timezone",
        revenue_impact="a quota day that resets at the wrong hour or an upgrade prompt naming "
        "the wrong plan loses conversions; colliding Redis keys leak sessions across tenants",
    ),
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- cursors --------------------------------------------------------------------------------


@given(st.dictionaries(st.text(max_size=20), st.integers() | st.text(max_size=40), max_size=6))
def test_cursor_roundtrip(data: dict[str, Any]) -> None:
    cursor = encode_cursor(data)
    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == data


def test_a_cursor_is_compact_json() -> None:
    assert encode_cursor({"o": 5}) == _b64(b'{"o":5}')


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "é",
        "a",
        "YQ",  # "a": not JSON
        _b64(b"[]"),
        _b64(b"[1,2]"),
        _b64(b"null"),
        _b64(b"1"),
        _b64(b'"text"'),
        _b64(b"true"),
        _b64(b'{"o":'),
        _b64(b"\xff\xfe\x00"),  # not UTF-8
        encode_cursor({"o": 1}) + "x",
        "%7B%22o%22%3A1%7D",
        '{"o":1}',
    ],
)
def test_an_invalid_cursor_is_422(cursor: str) -> None:
    with pytest.raises(HTTPException) as caught:
        decode_cursor(cursor)
    assert caught.value.status_code == 422
    assert caught.value.detail == "invalid cursor"


def test_a_deeply_nested_cursor_is_422_not_a_crash() -> None:
    """A ~27 KB query parameter; on Python 3.11 about 1,000 levels (a 1.3 KB cursor) suffice."""
    cursor = _b64(b"[" * 20_000 + b"]" * 20_000)
    with pytest.raises(HTTPException) as caught:
        decode_cursor(cursor)
    assert caught.value.status_code == 422


@given(st.text(max_size=200))
def test_decoding_arbitrary_text_is_a_dict_or_422(cursor: str) -> None:
    try:
        decoded = decode_cursor(cursor)
    except HTTPException as exc:
        status = exc.status_code
    else:
        status = 200
        assert isinstance(decoded, dict)
    assert status in (200, 422)


# --- Redis keys -----------------------------------------------------------------------------

USER_A, USER_B = str(UserID.new()), str(UserID.new())


def all_keys(keys: RedisKeys, user: str) -> dict[str, str]:
    return {
        "family": keys.family("fam1"),
        "denied": keys.denied("jti1"),
        "ticket": keys.ticket("tick1"),
        "message_rate": keys.message_rate(user, 29_000_000),
        "sockets": keys.sockets(user),
        "events_channel": keys.events_channel(),
        "control_channel": keys.control_channel(),
    }


@pytest.mark.parametrize("prefix", ["gp:", "tenant-a:", "gp:test:w3:"])
def test_every_key_starts_with_the_prefix(prefix: str) -> None:
    for name, key in all_keys(RedisKeys(prefix), USER_A).items():
        assert key.startswith(prefix), name


def test_the_default_prefix() -> None:
    assert RedisKeys().control_channel() == "gp:control"


def test_every_kind_of_key_differs() -> None:
    keys = all_keys(RedisKeys(), USER_A)
    assert len(set(keys.values())) == len(keys)


def test_the_same_token_id_does_not_collide_across_kinds() -> None:
    keys = RedisKeys()
    same = "abc123"
    assert len({keys.family(same), keys.denied(same), keys.ticket(same)}) == 3


@pytest.mark.parametrize("method", ["sockets"])
def test_per_user_keys_differ_per_user(method: str) -> None:
    keys = RedisKeys()
    assert getattr(keys, method)(USER_A) != getattr(keys, method)(USER_B)


def test_rate_keys_differ_per_user_and_minute() -> None:
    keys = RedisKeys()
    assert keys.message_rate(USER_A, 1) != keys.message_rate(USER_B, 1)
    assert keys.message_rate(USER_A, 1) != keys.message_rate(USER_A, 2)


def test_prefixes_keep_deployments_apart() -> None:
    a, b = all_keys(RedisKeys("a:"), USER_A), all_keys(RedisKeys("b:"), USER_A)
    assert not set(a.values()) & set(b.values())


def test_every_channel_is_inside_the_prefix_pattern_an_acl_allows() -> None:
    # The harness's per-worker ACL allows channels `&<prefix>*` only, and a pattern
    # subscription only if it is that very pattern: every channel is a plain name under it.
    keys = RedisKeys("gp:w1:")
    for channel in (keys.events_channel(), keys.control_channel()):
        assert fnmatch.fnmatchcase(channel, "gp:w1:*")
        assert "*" not in channel
    assert not fnmatch.fnmatchcase(RedisKeys("gp:w2:").events_channel(), "gp:w1:*")


# --- clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC), "2024-05-01T12:00:00.000Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), "2024-05-01T12:00:00.123Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 999999, tzinfo=UTC), "2024-05-01T12:00:00.999Z"),
        (
            datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T12:30:00.000Z",
        ),
        (
            datetime(2024, 5, 1, 1, 0, 0, 5000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2024-04-30T19:30:00.005Z",
        ),
        (
            datetime(2023, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-8))),
            "2024-01-01T04:00:00.000Z",
        ),
    ],
)
def test_rfc3339_is_utc_with_milliseconds(moment: datetime, expected: str) -> None:
    assert rfc3339(moment) == expected


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9998, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]
        ),
    )
)
def test_rfc3339_always_ends_in_z_and_reads_back_to_the_millisecond(moment: datetime) -> None:
    text = rfc3339(moment)
    assert text.endswith("Z")
    assert "+" not in text
    assert len(text) == len("2024-05-01T12:00:00.000Z")
    back = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert timedelta(0) <= moment - back < timedelta(milliseconds=1)


def test_utcnow_is_aware_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 1, 0, 0, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)),
        (datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)),
        # 01:00 in UTC+2 is still the previous UTC day
        (
            datetime(2024, 5, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2024, 4, 30, tzinfo=UTC),
        ),
        # 20:00 in UTC-8 is already the next UTC day
        (
            datetime(2024, 5, 1, 20, 0, tzinfo=timezone(timedelta(hours=-8))),
            datetime(2024, 5, 2, tzinfo=UTC),
        ),
        (
            datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))),
            datetime(2025, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_start_of_utc_day(moment: datetime, expected: datetime) -> None:
    start = start_of_utc_day(moment)
    assert start == expected
    assert start.utcoffset() == timedelta(0)
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)))
def test_start_of_utc_day_is_within_the_last_day(moment: datetime) -> None:
    start = start_of_utc_day(moment)
    assert timedelta(0) <= moment - start < timedelta(days=1)
    assert start_of_utc_day(start) == start


# --- origin allow-list ----------------------------------------------------------------------

APP = "https://app.example.com"


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        (None, (), True),  # non-browser clients send no Origin
        (None, (APP,), True),
        (APP, (APP,), True),
        (APP, ("https://other.example", APP), True),
        (APP + "/", (APP,), True),
        (APP, (APP + "/",), True),
        (APP, ("*",), True),
        ("https://evil.example", ("*",), True),
        ("null", ("*",), True),
        (APP, (), False),
        ("https://evil.example", (APP,), False),
        ("http://app.example.com", (APP,), False),  # scheme matters
        (APP + ":8443", (APP,), False),  # port matters
        ("https://app.example.com.evil.example", (APP,), False),
        ("https://evil.app.example.com", (APP,), False),
        ("https://app.example.co", (APP,), False),
        ("null", (APP,), False),
        ("", (APP,), False),
        (APP + "/path", (APP,), False),
        ("HTTPS://APP.EXAMPLE.COM", (APP,), False),  # listed exactly: case-sensitive
        (APP, ("HTTPS://APP.EXAMPLE.COM",), False),
        ("*", (APP,), False),
    ],
)
@pytest.mark.security
def test_origin_allowed(origin: str | None, allowed: tuple[str, ...], expected: bool) -> None:
    assert origin_allowed(origin, allowed) is expected


@pytest.mark.security
@given(st.text(max_size=60).filter(lambda o: o.rstrip("/") != APP))
def test_no_other_origin_passes_a_single_entry_list(origin: str) -> None:
    assert origin_allowed(origin, (APP,)) is False


# --- upgrades -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (Tier.FREE, Tier.EARLY),
        (Tier.EARLY, Tier.MID),
        (Tier.MID, Tier.ENTERPRISE),
        (Tier.ENTERPRISE, None),
    ],
)
def test_next_tier(tier: Tier, expected: Tier | None) -> None:
    assert next_tier(tier) is expected


@pytest.mark.parametrize("tier", TIER_ORDER[:-1])
def test_quota_upgrade_offers_the_next_tier(tier: Tier) -> None:
    target = next_tier(tier)
    assert target is not None
    offer = quota_upgrade(tier)
    assert offer is not None
    assert offer["required_tier"] == target.value
    assert offer["feature"] == "runs_per_day"
    assert set(offer) == {"required_tier", "feature", "message"}
    assert f"all {tier.limits.runs_per_day} runs of the {tier.value} plan" in offer["message"]
    assert (
        f"Upgrade to {target.value} for {target.limits.runs_per_day} runs a day"
        in (offer["message"])
    )
    assert target.limits.runs_per_day > tier.limits.runs_per_day


def test_quota_upgrade_for_enterprise_is_none() -> None:
    assert quota_upgrade(Tier.ENTERPRISE) is None


def test_the_free_quota_offer_reads_as_the_protocol_says() -> None:
    assert quota_upgrade(Tier.FREE) == {
        "required_tier": "early",
        "feature": "runs_per_day",
        "message": "You have used all 10 runs of the free plan today. "
        "Upgrade to early for 100 runs a day.",
    }


# --- principals -----------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_principal_from_claims(tier: Tier) -> None:
    claims = Claims(UserID.new(), tier, "access", "j" * 32, "f" * 32, 1_700_000_000, 1_700_000_900)
    principal = Principal.from_claims(claims)
    assert principal.user_id == claims.user_id
    assert principal.tier is tier
    assert principal.jti == claims.jti
    assert principal.family == claims.family
    assert principal.expires_at == claims.expires_at


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_principal_as_claims_roundtrips(tier: Tier) -> None:
    principal = Principal(UserID.new(), tier, "j" * 32, "f" * 32, 1_700_000_900)
    claims = principal.as_claims()
    assert claims.typ == "access"
    assert claims.jti == principal.jti
    assert claims.family == principal.family
    assert claims.expires_at == principal.expires_at
    assert Principal.from_claims(claims) == principal


def test_principal_expiry_moves_on_reauthentication() -> None:
    principal = Principal(UserID.new(), Tier.FREE, "j" * 32, "f" * 32, 100)
    principal.expires_at = 200
    assert principal.as_claims().expires_at == 200
