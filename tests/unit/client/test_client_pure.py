"""The client's pure parts: token answers, API errors, and the demo's verdicts and summary."""

from __future__ import annotations

from collections import Counter

import pytest

from golden_path.client.http import ApiError, TokenSet
from golden_path.demo import Journey, summary
from golden_path.tiers import TIER_ORDER, Tier

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="the client and the demo report what the server said exactly, so a "
        "prospect or a developer sees the real status, detail and refusals",
        revenue_impact="a demo that hides a failure or misreads a token answer shows a broken "
        "golden path as working, or a working one as broken, in front of buyers",
    ),
]

# --- TokenSet -------------------------------------------------------------------------------


def test_token_set_from_answer() -> None:
    tokens = TokenSet.from_answer(
        {
            "access_token": "a.b.c",
            "refresh_token": "d.e.f",
            "token_type": "bearer",
            "expires_in": 900,
        }
    )
    assert tokens == TokenSet("a.b.c", "d.e.f", 900)


@pytest.mark.parametrize(("raw", "expected"), [(900, 900), ("900", 900), (900.0, 900), (1, 1)])
def test_token_set_expires_in_becomes_an_int(raw: object, expected: int) -> None:
    tokens = TokenSet.from_answer({"access_token": "a", "refresh_token": "r", "expires_in": raw})
    assert tokens.expires_in == expected
    assert type(tokens.expires_in) is int


def test_token_set_ignores_extra_fields() -> None:
    tokens = TokenSet.from_answer(
        {"access_token": "a", "refresh_token": "r", "expires_in": 5, "scope": "all", "tier": "mid"}
    )
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == ("a", "r", 5)


@pytest.mark.parametrize("missing", ["access_token", "refresh_token", "expires_in"])
def test_token_set_needs_every_field(missing: str) -> None:
    body = {"access_token": "a", "refresh_token": "r", "expires_in": 5}
    del body[missing]
    with pytest.raises(KeyError, match=missing):
        TokenSet.from_answer(body)


def test_token_set_refuses_a_non_numeric_expiry() -> None:
    with pytest.raises(ValueError, match="soon"):
        TokenSet.from_answer({"access_token": "a", "refresh_token": "r", "expires_in": "soon"})


def test_token_set_is_immutable() -> None:
    tokens = TokenSet("a", "r", 5)
    with pytest.raises(AttributeError):
        tokens.access_token = "b"  # type: ignore[misc]


# --- ApiError -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "detail", "message"),
    [
        (
            "POST",
            "/auth/login",
            401,
            "invalid credentials",
            "POST /auth/login answered 401: invalid credentials",
        ),
        ("GET", "/runs/run_x", 404, "not found", "GET /runs/run_x answered 404: not found"),
        (
            "POST",
            "/auth/signup",
            422,
            [{"loc": ["body", "email"], "msg": "bad"}],
            "POST /auth/signup answered 422: [{'loc': ['body', 'email'], 'msg': 'bad'}]",
        ),
        (
            "POST",
            "/billing/upgrade",
            409,
            {"code": "same_tier"},
            "POST /billing/upgrade answered 409: {'code': 'same_tier'}",
        ),
        ("GET", "/threads", 500, "", "GET /threads answered 500: "),
    ],
)
def test_api_error(method: str, path: str, status: int, detail: object, message: str) -> None:
    err = ApiError(method, path, status, detail)
    assert str(err) == message
    assert err.status == status
    assert err.detail == detail
    assert err.detail is detail
    assert isinstance(err, Exception)


def test_api_error_can_be_raised_and_caught() -> None:
    with pytest.raises(ApiError, match="answered 429") as caught:
        raise ApiError("POST", "/auth/login", 429, "slow down")
    assert caught.value.status == 429


# --- Journey.expect -------------------------------------------------------------------------


def test_expect_true_records_nothing() -> None:
    journey = Journey(Tier.FREE)
    journey.expect(True, "should not appear")
    journey.expect(1 == 1, "nor this")
    assert journey.problems == []


def test_expect_false_records_the_problem_in_order() -> None:
    journey = Journey(Tier.MID)
    journey.expect(False, "first")
    journey.expect(True, "skipped")
    journey.expect(False, "second")
    assert journey.problems == ["first", "second"]


def test_journeys_do_not_share_their_lists() -> None:
    a, b = Journey(Tier.FREE), Journey(Tier.EARLY)
    a.expect(False, "a's problem")
    a.refused["quota_exceeded"] += 1
    a.latencies_ms.append(1.0)
    assert b.problems == []
    assert b.refused == Counter()
    assert b.latencies_ms == []


# --- summary --------------------------------------------------------------------------------


def _journey(tier: Tier, **kw: object) -> Journey:
    journey = Journey(tier)
    for name, value in kw.items():
        setattr(journey, name, value)
    return journey


def test_summary_has_a_header_a_rule_and_a_row_per_journey() -> None:
    journeys = [_journey(t, runs=i + 1) for i, t in enumerate(TIER_ORDER)]
    lines = summary(journeys).splitlines()
    assert lines[0].split() == [
        "tier",
        "runs",
        "events",
        "p50",
        "ms",
        "max",
        "ms",
        "cost",
        "$",
        "refused",
    ]
    assert lines[1] == "-" * len(lines[0])
    assert len(lines) == 2 + len(TIER_ORDER)
    for line, tier in zip(lines[2:], TIER_ORDER, strict=True):
        assert line.startswith(tier.value)


def test_summary_row_values() -> None:
    journey = _journey(
        Tier.FREE,
        runs=11,
        events=57,
        latencies_ms=[30.0, 10.0, 20.0, 400.0],
        cost_usd=0.01234,
        refused=Counter({"message_too_long": 1, "quota_exceeded": 2}),
    )
    row = summary([journey]).splitlines()[2]
    cells = row.split()
    assert cells[:5] == ["free", "11", "57", "25.0", "400.0"]  # median of 4, max
    assert cells[5] == "0.0123"
    assert row.endswith("message_too_long x1, quota_exceeded x2")


def test_summary_without_latencies_or_refusals() -> None:
    row = summary([_journey(Tier.ENTERPRISE)]).splitlines()[2]
    assert row.split() == ["enterprise", "0", "0", "0.0", "0.0", "0.0000", "-"]


def test_summary_columns_line_up() -> None:
    journeys = [
        _journey(Tier.FREE, runs=10, refused=Counter({"quota_exceeded": 1})),
        _journey(Tier.ENTERPRISE, runs=2, latencies_ms=[1234.5]),
    ]
    lines = summary(journeys).splitlines()
    refused_col = lines[0].index("refused")
    assert lines[2][refused_col:] == "quota_exceeded x1"
    assert lines[3][refused_col:] == "-"


def test_summary_of_no_journeys_is_just_the_header() -> None:
    lines = summary([]).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("tier")
