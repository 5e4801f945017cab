"""The pytest plugin ``golden-path conformance`` loads: a run the server's limits refuse
stops at the first refusal, with one message, instead of failing every later test.

``golden_path.testing.identity.throttle_stop`` already stops a run whose user signups
are throttled (``gp_user``); this covers what the suites do after that: an HTTP 429 from
the v1 API or the AG-UI endpoint, and a WebSocket handshake refused with close code
4429 (too many sockets), raised anywhere in a test.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from golden_path.client.http import ApiError
from golden_path.client.socket import ConnectionRefused
from golden_path.testing.agui.client import AGUIHTTPError

THROTTLED_STATUS = 429
THROTTLED_CLOSE = 4429


def refused_by_limits(exc: BaseException) -> bool:
    """Whether ``exc`` is the server refusing work because of its limits."""
    if isinstance(exc, ApiError | AGUIHTTPError):
        return exc.status == THROTTLED_STATUS
    return isinstance(exc, ConnectionRefused) and exc.code == THROTTLED_CLOSE


def stop_message(exc: BaseException) -> str:
    return (
        f"golden-path conformance: the server's limits refused this run ({exc}). The suite "
        "needs the runs a minute it named at the start; exempt this machine or use a user "
        "(or token) whose plan allows them. The run stops here instead of failing every "
        "later test the same way."
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and call.excinfo is not None and refused_by_limits(call.excinfo.value):
        message = stop_message(call.excinfo.value)
        item.session.shouldstop = message
        report.longrepr = message
    return report
