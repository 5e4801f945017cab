"""The JSON WebSocket client behind gp_ws, against a websockets server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from golden_path.testing.ws.client import WSClient, WSRefused, WSTimeout
from golden_path.testing.ws.contract import WSContract

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every gp_ws test sends, waits and reads through this client: a wait that "
        "hides what arrived, or a token sent the wrong way, misleads a team",
        revenue_impact="Indirect: a team's own protocol tested without its own socket helper",
    ),
]

CONTRACT = WSContract(first="run.started", terminal=("run.done",), stages={"run.done": "answer"})


async def echo_auth(ws: ServerConnection) -> None:
    """Greets with what authenticated the socket, then answers each ask with a short run
    (to "bye", a run cut by the server's close)."""
    assert ws.request is not None
    await ws.send(
        json.dumps(
            {
                "type": "hello",
                "authorization": ws.request.headers.get("authorization"),
                "path": ws.request.path,
                "subprotocol": ws.subprotocol,
            }
        )
    )
    async for ask in ws:
        await ws.send(json.dumps({"type": "run.started"}))
        if ask == "bye":
            await ws.close()
            return
        await ws.send("not json")
        await ws.send(json.dumps({"type": "run.done"}))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    def refuse_path(connection: ServerConnection, request: object) -> object:
        if getattr(request, "path", "").startswith("/forbidden"):
            return connection.respond(403, "no\n")
        return None

    def first_offered(connection: ServerConnection, offered: Sequence[Subprotocol]) -> Any:
        return offered[0] if offered else None

    async with serve(
        echo_auth,
        "127.0.0.1",
        0,
        process_request=refuse_path,
        select_subprotocol=first_offered,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_frames_are_read_until_an_event_and_the_stages_and_contract_follow(url: str) -> None:
    async with await WSClient.connect(url + "/s", token="tok-1", contract=CONTRACT) as sock:
        hello = await sock.recv()
        assert hello["authorization"] == "Bearer tok-1"
        await sock.send({"ask": 1})
        frames = await sock.receive_until("run.done")
        assert frames == [{"type": "run.started"}, "not json", {"type": "run.done"}]
        assert sock.stages == ("answer",)
        assert [v.rule for v in sock.violations()] == ["not_an_object"]
    assert sock.close_code == 1000
    assert '-> {"ask": 1}' in sock.format_transcript()


@pytest.mark.parametrize(
    ("auth", "field", "value"),
    [("query", "path", "/s?token=tok-1"), ("subprotocol", "subprotocol", "tok-1")],
)
async def test_the_token_goes_the_way_the_test_says(
    url: str, auth: str, field: str, value: str
) -> None:
    async with await WSClient.connect(url + "/s", token="tok-1", auth=auth) as sock:  # type: ignore[arg-type]
        assert (await sock.recv())[field] == value


async def test_a_wait_the_socket_ends_names_what_did_arrive_and_consumes_nothing(
    url: str,
) -> None:
    async with await WSClient.connect(url + "/s", contract=CONTRACT) as sock:
        await sock.send("bye")
        expected = r"waiting for run\.done: the socket closed; received \['hello', 'run\.started'\]"
        with pytest.raises(WSTimeout, match=expected):
            await sock.receive_until("run.done", timeout=30)
        assert (await sock.recv())["type"] == "hello"
        assert [v.rule for v in sock.violations()] == ["no_terminal"]


async def test_a_refused_handshake_names_the_status(url: str) -> None:
    with pytest.raises(WSRefused, match="HTTP 403") as refused:
        await WSClient.connect(url + "/forbidden")
    assert refused.value.status == 403
