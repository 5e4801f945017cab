"""The chat page's origin: what ``golden-path serve`` adds to its own allow-list, exactly."""

from __future__ import annotations

import pytest

from golden_path.server.config import Settings
from golden_path.server.web import page_origin, with_page_origin

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="free",
        goal="conversion",
        value_impact="the chat page a server serves can open its socket with no setting, "
        "while no other site's page can",
        revenue_impact="a first-run chat page that refuses its own socket loses the trial "
        "user in the first minute",
    ),
]


@pytest.mark.parametrize(
    ("host", "port", "origin"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("localhost", 8080, "http://localhost:8080"),
        ("::1", 8000, "http://[::1]:8000"),
        ("0.0.0.0", 8000, None),  # noqa: S104 - a wildcard names no origin a browser uses
        ("::", 8000, None),
        ("127.0.0.1", 0, None),  # the port is not known yet
    ],
)
def test_the_page_origin_of_a_bind_address(host: str, port: int, origin: str | None) -> None:
    assert page_origin(host, port) == origin


def test_the_origin_joins_the_allow_list_once() -> None:
    listed = Settings(allowed_origins=("https://app.example.com",))
    added = with_page_origin(listed, "127.0.0.1", 8000)
    assert added.allowed_origins == ("https://app.example.com", "http://127.0.0.1:8000")
    assert with_page_origin(added, "127.0.0.1", 8000) is added
    assert with_page_origin(listed, "0.0.0.0", 8000) is listed  # noqa: S104
