"""A run against a throttled deployment stops at its first 429, with one message.

The e2e suite signs a user up (and logs them in) for each test that needs one, all
from the machine it runs on. A deployment with production throttles refuses that
address after a handful; every later test would fail with the same 429. Instead the
first one stops the run (``session.shouldstop``; under xdist each worker stops after
the test it was running) and says what to do: exempt the runner's address on the
server with ``GOLDEN_PATH_THROTTLE_EXEMPT``.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

from golden_path.client.http import ApiError

# The reference server's variable (golden_path.server.config.THROTTLE_EXEMPT_ENV, which a
# unit test keeps equal): the harness names it without importing the server.
THROTTLE_EXEMPT_ENV = "GOLDEN_PATH_THROTTLE_EXEMPT"

THROTTLED = 429


def is_throttled(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.status == THROTTLED


def throttled_message(exc: BaseException, base_url: str) -> str:
    return (
        f"the server under test throttled this run ({exc}): it signs up and logs in a user "
        f"per test from this machine. Exempt this machine's address on {base_url} with "
        f"{THROTTLE_EXEMPT_ENV}=<its CIDR block> (comma-separated, empty by default; the "
        "server logs it at start), or wait for the window to end. The run stops here "
        "instead of failing every later test the same way."
    )


def stop_throttled_run(
    request: pytest.FixtureRequest, exc: BaseException, base_url: str
) -> NoReturn:
    """Fail this test and stop the run, naming the variable that lets it through."""
    message = throttled_message(exc, base_url)
    request.session.shouldstop = message
    raise pytest.fail.Exception(message, pytrace=False) from None
