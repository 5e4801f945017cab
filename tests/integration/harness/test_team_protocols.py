"""A team's own protocols on its own server: its WebSocket events and its AG-UI endpoint.

The team's app (a trip planner) streams its own events on ``/stream``
(``run.started``, ``tool.call``, ``token``, ``run.done``, each with a ``seq``) and
answers AG-UI at ``POST /agent``; both want a bearer token of one of its users.
Its ``pytest.ini`` describes the events in a few ``gp_ws_*`` lines and names the
AG-UI path (``gp_agui_path``); its tests use ``gp_ws`` and ``gp_agui`` and read the
stages of its own ``gp_stages``. Run with ``--gp-protocol=ag-ui``, a test on
``gp_base_url`` runs: only a test that speaks protocol v1 (``gp_api``) is skipped.
"""

from __future__ import annotations

import pytest

from tests.integration.harness.test_team_project import project, run, write

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team tests its own WebSocket events and its own AG-UI endpoint with the "
        "harness's sockets, transcripts and stage checks, configured in a few ini lines",
        revenue_impact="a harness that speaks only its reference protocol leaves a team to write "
        "its own socket helper (and hit the 10 s close hang) or to skip its AG-UI checks",
    ),
]
__all__ = ["project"]

APP = """
import json
import threading
import uuid

from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

FLOODED = threading.Event()  # the server has sent a whole flood


def user_of(headers):
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.removeprefix("trip-") if token.startswith("trip-") else None


async def health(request):
    return JSONResponse({"ok": True})


async def stream(ws):
    user = user_of(ws.headers)
    if user is None:
        await ws.close(code=4401)
        return
    await ws.accept()
    await ws.send_json({"type": "hello", "user": user})
    seq = 0

    async def emit(kind, **fields):
        nonlocal seq
        seq += 1
        await ws.send_json({"type": kind, "seq": seq, **fields})

    try:
        while True:
            ask = await ws.receive_json()
            if "flood" in ask:
                for n in range(ask["flood"]):
                    await emit("token", text=str(n))
                FLOODED.set()
                continue
            await emit("run.started", user=user)
            if ask.get("broken"):
                seq += 1  # a gap, and no tool call
            else:
                await emit("tool.call", name="flights")
            await emit("token", text="Rome")
            await emit("run.done")
    except WebSocketDisconnect:
        pass


async def agent(request):
    user = user_of(request.headers)
    if user is None:
        return JSONResponse({"detail": "no token"}, status_code=401)
    body = await request.json()
    ids = {"threadId": body["threadId"], "runId": body["runId"]}
    message = f"msg-{uuid.uuid4()}"
    events = [
        {"type": "RUN_STARTED", **ids},
        {"type": "TEXT_MESSAGE_START", "messageId": message, "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": message, "delta": f"hello {user}"},
        {"type": "TEXT_MESSAGE_END", "messageId": message},
        {"type": "RUN_FINISHED", **ids},
    ]

    async def sse():
        for event in events:
            yield f"data: {json.dumps(event)}\\n\\n"

    return StreamingResponse(sse(), media_type="text/event-stream")


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/agent", agent, methods=["POST"]),
        WebSocketRoute("/stream", stream),
    ]
)
"""
USERS = """
import itertools

_ids = itertools.count(1)


async def make_user(base_url, plan):
    user_id = f"{plan}-{next(_ids)}"
    return {"user_id": user_id, "access_token": f"trip-{user_id}"}
"""
INI = """
gp_app = trip_app:app
gp_segments = free pro team
gp_stages = plan tools answer
gp_user_factory = trip_users:make_user
gp_agui_path = /agent
gp_ws_path = /stream
gp_ws_first_event = run.started
gp_ws_terminal_events = run.done run.failed
gp_ws_seq_field = seq
gp_ws_stages =
    run.started = plan
    tool.call = tools
    run.done = answer
"""
TESTS = """
import asyncio

import httpx
import pytest

from golden_path.testing import AGUIClient


async def test_a_run_on_the_teams_socket_shows_its_stages(gp_ws, gp_user):
    sock = await gp_ws(user=await gp_user("pro"))
    await sock.send({"ask": "a weekend in Rome"})
    frames = await sock.receive_run()
    assert [f["type"] for f in frames] == ["hello", "run.started", "tool.call", "token", "run.done"]
    assert sock.stages == ("plan", "tools", "answer")
    sock.assert_contract(stages=["tools", "answer"])


async def test_the_teams_contract_names_what_a_broken_run_breaks(gp_ws, gp_user):
    sock = await gp_ws("/stream", user=await gp_user())
    await sock.send({"broken": True})
    await sock.receive_until("run.done")
    assert [v.rule for v in sock.violations(stages=["tools"])] == ["seq_gap", "missing_stage"]


async def test_a_flood_the_test_never_reads_still_closes_cleanly(gp_ws, gp_user):
    import trip_app  # served in this process (gp_app)

    sock = await gp_ws(user=await gp_user())
    await sock.send({"flood": 2000})
    assert await asyncio.to_thread(trip_app.FLOODED.wait, 30)
    await sock.close()
    # The closing handshake completed (a client whose receive queue filled up would wait
    # close_timeout, 10 s, and drop the connection: 1006).
    assert sock.close_code == 1000
    assert len(sock.frames) == 2001  # the greeting and the whole flood, kept


async def test_agui_on_the_teams_endpoint_with_a_users_token(gp_agui):
    run = await gp_agui.run("Where to?")
    run.assert_contract()
    assert run.text.startswith("hello free-")  # a gp_user of the first plan: its token


async def test_plain_http_on_the_base_url(gp_base_url):
    async with httpx.AsyncClient(base_url=gp_base_url) as client:
        assert (await client.get("/health")).json() == {"ok": True}


async def test_speaks_protocol_v1(gp_api):
    pass


async def test_a_failure_shows_every_clients_transcript(gp_ws, gp_user, gp_base_url):
    user = await gp_user("team")
    sock = await gp_ws(user=user)
    await sock.send({"ask": "Lisbon"})
    await sock.receive_run()
    by_hand = AGUIClient(gp_base_url + "/agent", token=user["access_token"])
    await by_hand.run("Lisbon?")
    await by_hand.aclose()
    assert sock.stages == (), "fails on purpose"
"""


def test_a_teams_websocket_events_and_agui_endpoint_are_tested_on_its_own_app(
    project: pytest.Pytester,
) -> None:
    """gp_ws with the team's contract and gp_agui at gp_agui_path pass on the team's app,
    under --gp-protocol=ag-ui a test of gp_base_url runs and one of gp_api is skipped, and
    the failing test's report holds the socket's and the hand-made AG-UI client's
    transcripts (today: no gp_ws, gp_agui needs --gp-url, gp_base_url is 'protocol v1')."""
    write(
        project.path,
        {"trip_app.py": APP, "trip_users.py": USERS, "tests/e2e/test_trip.py": TESTS},
    )
    result = run(project, INI, "-rs", "--gp-protocol=ag-ui")
    result.assert_outcomes(passed=5, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*SKIPPED [[]1[]]*speaks golden-path protocol v1; the server under test speaks AG-UI*"]
    )
    result.stdout.fnmatch_lines(
        [
            "*golden-path WebSocket client 0 transcript (ws://127.0.0.1:*/stream)*",
            '*-> {"ask": "Lisbon"}*',
            '*<- {"type": "run.done", "seq": 4}*',
            "*golden-path AG-UI client 0 transcript (http://127.0.0.1:*/agent)*",
            '*<- {"type": "RUN_FINISHED"*',
        ]
    )


def test_with_gp_agui_path_the_agui_tests_run_under_the_default_protocol(
    project: pytest.Pytester,
) -> None:
    """The server's own AG-UI endpoint needs no --gp-protocol=ag-ui nor --gp-url (today the
    test is skipped, 'needs an AG-UI endpoint')."""
    write(
        project.path,
        {"trip_app.py": APP, "trip_users.py": USERS, "tests/e2e/test_trip.py": TESTS},
    )
    result = run(project, INI, "-k", "agui_on_the_teams_endpoint or speaks_protocol_v1")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "gp_ws_stages =\n    run.done = finish\n",
            "*gp_ws_stages line 'run.done = finish': 'finish' is not one of gp_stages "
            "(plan, tools, answer)*",
        ),
        ("gp_ws_stages =\n    run.done\n", "*gp_ws_stages line 'run.done': expected event=stage*"),
        ("gp_agui_path = agent\n", "*gp_agui_path = 'agent': start it with /*"),
    ],
)
def test_a_misconfigured_protocol_stops_the_run_naming_the_option(
    pytester: pytest.Pytester, line: str, message: str
) -> None:
    result = run(pytester, "gp_stages = plan tools answer\n" + line)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_a_protocol_marker_naming_no_protocol_stops_the_run(pytester: pytest.Pytester) -> None:
    test = "import pytest\n\n@pytest.mark.protocol('grpc')\ndef test_x():\n    pass\n"
    write(pytester.path, {"tests/test_grpc.py": test})
    result = run(pytester, "")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*@pytest.mark.protocol('grpc'): expected one of v1, ag-ui*"])
