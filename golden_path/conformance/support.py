"""Small helpers the end-to-end modules share: answers to frames, refusals, bad tokens, bursts."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest

from golden_path.client import ConnectionRefused, GoldenPathHTTP, GoldenPathSocket
from golden_path.protocol import EventType, ServerFrame
from golden_path.testing.identity.jwt_factory import JWTFactory
from golden_path.testing.identity.users import EMAIL_DOMAIN, GoldenPathUser
from golden_path.tiers import TIER_ORDER

Frame = dict[str, Any]
ANY_STATUS = tuple(range(100, 600))
# The slow node's agent waits this long before each step: a run of the shortest plan (five
# steps) lasts about 1.5 s, long enough to send more frames while it runs, short enough for
# a server's teardown to let it finish.
SLOW_STEP_DELAY_MS = 300
ALLOWED_ORIGIN = "https://app.example"
WAIT_S = 10.0
# What a test asks when the question does not matter, only that it starts a run.
QUESTION = "We use gpt-4o at 2M tokens/day. How can we save?"
# Every tier by name, cheapest first: a test run once a tier.
TIERS = [t.value for t in TIER_ORDER]

# The claims every protocol v1 token must carry (§3); a token lacking any one is refused.
REQUIRED_CLAIMS = ("iss", "aud", "sub", "tier", "typ", "iat", "exp", "jti")

# Every kind of token a strict server refuses, each made by one call of ``gp_jwt``
# (``tampered_tier`` edits the user's real token and keeps its signature).
_FORGERIES: dict[str, Callable[[JWTFactory, GoldenPathUser], str]] = {
    "expired": lambda jwt, user: jwt.expired(user.user_id, user.tier),
    "not_yet_valid": lambda jwt, user: jwt.not_yet_valid(user.user_id, user.tier),
    "wrong_audience": lambda jwt, user: jwt.wrong_audience(user.user_id, user.tier),
    "wrong_issuer": lambda jwt, user: jwt.wrong_issuer(user.user_id, user.tier),
    "wrong_type": lambda jwt, user: jwt.wrong_type(user.user_id, user.tier),
    "other_key": lambda jwt, user: jwt.other_key(user.user_id, user.tier),
    "alg_none": lambda jwt, user: jwt.alg_none(user.user_id, user.tier),
    "tampered_tier": lambda jwt, user: jwt.tampered_tier(user.access_token),
    "not_a_jwt": lambda jwt, user: "not-a-jwt",
    **{
        f"missing_{claim}": (
            lambda jwt, user, claim=claim: jwt.missing_claim(  # type: ignore[misc]
                user.user_id, claim, user.tier
            )
        )
        for claim in REQUIRED_CLAIMS
    },
}
BAD_TOKEN_KINDS: tuple[str, ...] = tuple(_FORGERIES)


def forge(jwt: JWTFactory, kind: str, user: GoldenPathUser) -> str:
    """A token of ``kind`` (one of ``BAD_TOKEN_KINDS``) naming ``user``."""
    return _FORGERIES[kind](jwt, user)


def family_of(user: GoldenPathUser) -> str:
    """The refresh family of ``user``'s tokens: a token minted for a test must name a family
    the server knows (one it has no record of is revoked, §3.7)."""
    return str(jwt.decode(user.access_token, options={"verify_signature": False})["fam"])


def new_email(label: str = "e2e") -> str:
    return f"{label}-{uuid.uuid4().hex}@{EMAIL_DOMAIN}"


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def message(content: str = QUESTION, **extra: Any) -> Frame:
    """A ``user_message`` frame of ``content`` with a new ``request_id``."""
    return {"type": "user_message", "content": content, "request_id": new_request_id(), **extra}


async def http(api: GoldenPathHTTP, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The server's answer whatever its status (the test asserts the status it expects)."""
    return await api.request(method, path, expect=ANY_STATUS, **kwargs)


async def refusal(ws_url: str, token: str | None = None, **kwargs: Any) -> int | None:
    """The close code of a handshake the server must refuse (fails if it accepts it)."""
    try:
        sock = await GoldenPathSocket.connect(ws_url, token, **kwargs)
    except ConnectionRefused as refused:
        return refused.code
    await sock.close()
    raise AssertionError(f"the server accepted the handshake: {sock.established}")


async def send_expecting_error(sock: GoldenPathSocket, frame: Frame | str | bytes) -> Frame:
    """Send ``frame``; the first ``error`` frame that follows it."""
    since = len(sock.received())
    await sock.send(frame)
    return await sock.wait_for(
        lambda f: f.get("type") == ServerFrame.ERROR.value,
        WAIT_S,
        what=f"an error answering {str(frame)[:80]}",
        since=since,
    )


def is_answer_to(frame: Frame, request_id: str) -> bool:
    """An error for ``request_id`` or an event of its run."""
    if frame.get("request_id") != request_id:
        return False
    return frame.get("type") == ServerFrame.ERROR.value or "seq" in frame


async def answer_to(sock: GoldenPathSocket, request_id: str, since: int = 0) -> Frame:
    return await sock.wait_for(
        lambda f: is_answer_to(f, request_id),
        WAIT_S,
        what=f"an answer to {request_id}",
        since=since,
    )


async def terminal_of(sock: GoldenPathSocket, request_id: str, since: int = 0) -> Frame:
    """The terminal event of the run of ``request_id`` received from index ``since``."""
    return await sock.wait_for(
        lambda f: (
            f.get("request_id") == request_id and "seq" in f and EventType(f["type"]).is_terminal
        ),
        WAIT_S,
        what=f"the terminal event of {request_id}",
        since=since,
        error_for=request_id,
    )


async def burst(
    sock: GoldenPathSocket, count: int, content: str = "How can we cut our LLM spend?", **extra: Any
) -> list[Frame]:
    """Send ``count`` user messages back to back; the first answer to each, in sending order.

    (A refusal is sent by the connection as it reads the message, an acceptance by the run
    that starts: answers need not arrive in sending order.)
    """
    request_ids = [new_request_id() for _ in range(count)]
    since = len(sock.received())
    for request_id in request_ids:
        await sock.send(
            {"type": "user_message", "content": content, "request_id": request_id, **extra}
        )
    return [await answer_to(sock, request_id, since) for request_id in request_ids]


def within_one_minute_window(began: float, ended: float, margin_s: float) -> bool:
    """Whether [began, ended] (widened by ``margin_s``) lies inside one UTC clock minute.

    Per-minute message limits count in fixed clock minutes; a burst that spans a
    minute boundary is split between two counters and proves nothing.
    """
    return (began - margin_s) // 60 == (ended + margin_s) // 60


# The rate limit counts user messages in fixed clock minutes. A burst that spans a minute
# boundary is split between two counters and proves nothing, so each burst is timed and, in
# the rare case it straddled a boundary, repeated with a fresh user until one fits (soon
# after the boundary there is almost a minute to spare). The in-process reference server
# shares our clock; a deployment's clock may be off a little, hence the margin.
BURST_DEADLINE_S = 20.0


async def burst_in_one_minute(
    new_socket: Callable[[], Awaitable[GoldenPathSocket]],
    count: int,
    margin_s: float,
    **frame_fields: Any,
) -> tuple[GoldenPathSocket, list[Frame]]:
    """A socket of a fresh user (``new_socket()``) and its ``burst`` of ``count`` messages,
    sent within one clock minute (widened by ``margin_s``)."""
    # Retried (each time with a fresh user) until one lies in a single minute: with a
    # margin, the bursts of the last seconds of a minute all straddle, so a fixed number of
    # attempts can run out before the boundary passes; a deadline cannot.
    deadline = time.monotonic() + BURST_DEADLINE_S
    while True:
        sock = await new_socket()
        began = time.time()
        answers = await burst(sock, count, **frame_fields)
        if within_one_minute_window(began, time.time(), margin_s):
            return sock, answers
        if time.monotonic() > deadline:
            pytest.fail(f"no burst fitted in one clock minute in {BURST_DEADLINE_S:.0f} s")


async def assert_open(sock: GoldenPathSocket) -> None:
    """The socket still answers a ping and the server has not closed it."""
    await sock.ping(WAIT_S)
    assert sock.close_code is None, f"closed {sock.close_code} {sock.close_reason!r}"


# --- the in-process reference server, seen from the test ---------------------------------


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a condition of the in-process server (another thread's loop) to hold."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def server_connection(endpoint: Any, user: GoldenPathUser) -> Any:
    """The server's own ``Connection`` object for ``user``'s one open socket."""
    state = endpoint.thread.app_state
    mine = [c for c in state.sockets if str(c.principal.user_id) == user.user_id]
    return mine[0] if len(mine) == 1 else None
