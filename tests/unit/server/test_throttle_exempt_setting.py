"""``GOLDEN_PATH_THROTTLE_EXEMPT`` is read as CIDR blocks, refused clearly when it is not one,
and said loudly when a node starts with it."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from golden_path.server.auth.throttle import AuthThrottle
from golden_path.server.config import ConfigError, Settings
from golden_path.server.redis_keys import RedisKeys

pytestmark = [
    pytest.mark.unit,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="an operator exempts exactly the CI runners they name, and sees it",
        revenue_impact="a mistyped exemption that silently exempts nobody (or everybody) "
        "either blocks the team's CI or reopens password guessing",
    ),
]
VARIABLE = "GOLDEN_PATH_THROTTLE_EXEMPT"


def test_it_is_empty_by_default() -> None:
    assert Settings.from_env({}).throttle_exempt == ()


def test_blocks_and_addresses_are_read_and_normalised() -> None:
    settings = Settings.from_env({VARIABLE: " 10.0.0.0/8, 203.0.113.7 ,::1"})
    assert settings.throttle_exempt == ("10.0.0.0/8", "203.0.113.7/32", "::1/128")
    assert settings.to_env()[VARIABLE] == "10.0.0.0/8,203.0.113.7/32,::1/128"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "runner.ci.example", "*", "10.0.0.0/8;1.2.3.4"])
def test_anything_else_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=VARIABLE):
        Settings.from_env({VARIABLE: value})
    with pytest.raises(ConfigError, match=VARIABLE):
        Settings(throttle_exempt=(value,)).validated()


def throttle(*blocks: str) -> AuthThrottle:
    client = aioredis.Redis()  # never connected: only the exemption is asked
    return AuthThrottle(client, RedisKeys(), Settings(throttle_exempt=blocks))


def test_a_node_with_an_exemption_says_so_at_start(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="golden_path.server.auth.throttle"):
        throttle("10.1.0.0/16")
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert VARIABLE in record.getMessage()
    assert "10.1.0.0/16" in record.getMessage()


def test_without_one_it_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="golden_path.server.auth.throttle"):
        throttle()
    assert caplog.records == []


@pytest.mark.parametrize(
    ("address", "exempt"),
    [("10.1.2.3", True), ("10.2.0.1", False), ("::1", True), ("unknown", False), ("", False)],
)
def test_only_addresses_inside_a_block_are_exempt(address: str, exempt: bool) -> None:
    assert throttle("10.1.0.0/16", "::1/128").exempt(address) is exempt


def test_the_harness_names_the_servers_exemption_variable_exactly() -> None:
    from golden_path.server.config import THROTTLE_EXEMPT_ENV as SERVERS
    from golden_path.testing.identity.throttle_stop import THROTTLE_EXEMPT_ENV as HARNESS

    assert HARNESS == SERVERS
