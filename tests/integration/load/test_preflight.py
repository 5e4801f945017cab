"""Before Locust starts: a server of another protocol is named after its first answer.

Run in this process (the preflight is plain blocking code, no gevent): a web server that is
not golden-path's, and the contract-breaking one asked for AG-UI, which it does not speak.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from golden_path.load.preflight import PreflightError, preflight
from golden_path.server.runner import ServerThread
from golden_path.testing.server.endpoint import ServerEndpoint

pytestmark = [
    pytest.mark.integration,
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team pointing the load at the wrong port or the wrong service learns "
        "it in one line, before a single user is spawned",
        revenue_impact="a load run that reports 100% failures of a server that was never the "
        "product wastes the team's afternoon and its trust in the tool",
    ),
]


async def _page(request: object) -> HTMLResponse:
    return HTMLResponse("<html><body>Welcome to nginx!</body></html>")


@pytest.fixture
def web_page() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/{path:path}", _page, methods=["GET", "POST"])])
    with ServerThread(app=app) as server:
        yield server


def test_a_web_server_is_named_as_not_speaking_protocol_v1(web_page: ServerThread) -> None:
    with pytest.raises(PreflightError) as caught:
        preflight(web_page.base_url, "v1", "enterprise", None)
    message = str(caught.value)
    assert message.startswith(f"the server at {web_page.base_url} does not speak golden-path.v1")
    assert "POST /auth/signup answered 200 with no JSON" in message


def test_a_v1_only_server_is_named_as_not_speaking_agui(broken: ServerThread) -> None:
    with pytest.raises(PreflightError) as caught:
        preflight(broken.base_url, "ag-ui", "enterprise", None)
    assert str(caught.value) == (
        f"the server at {broken.base_url} does not speak AG-UI: POST /agui answered HTTP 404: "
        "'Not Found'"
    )


@pytest.mark.parametrize("protocol", ["v1", "ag-ui"])
def test_the_reference_server_passes_the_preflight(
    reference: ServerEndpoint, protocol: str
) -> None:
    preflight(reference.base_url, protocol, "enterprise", None)
