"""``Refusal``: the one "no" of the socket, and the ``error`` frame it becomes (protocol §6)."""

from __future__ import annotations

import pytest

from golden_path.protocol import RETRYABLE_REPORTED, ErrorCode, ServerFrame
from golden_path.server.refusal import Refusal, unavailable

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="every refusal (quota, limit, outage, bad frame) reaches the client as one "
        "well-formed error frame that says whether to retry and what to upgrade to",
        revenue_impact="a client that cannot tell 'retry' from 'upgrade' loses the user at "
        "exactly the moment the product asks them to pay",
    ),
]


@pytest.mark.parametrize("code", sorted(RETRYABLE_REPORTED))
def test_the_codes_that_report_retryable_always_carry_it(code: ErrorCode) -> None:
    assert Refusal(code, "m").to_frame()["retryable"] is False
    assert Refusal(code, "m", retryable=True).to_frame()["retryable"] is True


@pytest.mark.parametrize("code", sorted(set(ErrorCode) - RETRYABLE_REPORTED))
def test_other_codes_never_carry_retryable(code: ErrorCode) -> None:
    assert "retryable" not in Refusal(code, "m", retryable=True).to_frame()


def test_a_quota_refusal_carries_its_upgrade_and_request() -> None:
    upgrade = {"required_tier": "early", "feature": "runs_per_day", "message": "Upgrade"}
    refusal = Refusal(ErrorCode.QUOTA_EXCEEDED, "all used", upgrade=upgrade).for_request("r1")
    assert refusal.to_frame() == {
        "type": ServerFrame.ERROR.value,
        "code": "quota_exceeded",
        "message": "all used",
        "request_id": "r1",
        "upgrade": upgrade,
    }


def test_rate_limited_says_when_to_retry() -> None:
    frame = Refusal(ErrorCode.RATE_LIMITED, "slow down", retry_after_ms=1500, retryable=True)
    assert frame.to_frame()["retry_after_ms"] == 1500


def test_for_request_keeps_a_request_id_already_set_and_ignores_none() -> None:
    refusal = Refusal(ErrorCode.INVALID_MESSAGE, "m", request_id="first")
    assert refusal.for_request("second").request_id == "first"
    assert Refusal(ErrorCode.INVALID_MESSAGE, "m").for_request(None).request_id is None


def test_unavailable_is_retryable_unless_said_otherwise() -> None:
    assert unavailable("the database is unavailable").to_frame()["retryable"] is True
    assert unavailable("gone", retryable=False).to_frame()["retryable"] is False
