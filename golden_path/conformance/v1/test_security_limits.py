"""Bodies, pages and an evicted family (security review, issue 13 §5 and §6), for real.

Shipped: what any protocol v1 server must pass; what needs golden-path's reference
server itself stays in this repository's ``tests/e2e/test_security_limits.py``.
"""

from __future__ import annotations

import pytest

from golden_path.conformance.support import http
from golden_path.conformance.v1 import bvj
from golden_path.conformance.v1.http_helpers import raw_post

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("auth"),
    pytest.mark.security,
    bvj.SECURITY_LIMITS,
]

QUESTION = "We send 2M tokens/day to gpt-4o. How can we save?"


async def test_a_body_declared_over_the_cap_is_refused_413_unread(gp_server):
    # 4 GiB announced, none sent: a server that reads before it validates waits forever.
    answer = await raw_post(gp_server.base_url, f"Content-Length: {4 * 1024**3}\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


async def test_a_thread_is_read_a_page_at_a_time(gp_user, gp_client, gp_api):
    user = await gp_user("mid")
    sock = await gp_client(user)
    first = await sock.ask(QUESTION)
    thread_id = first.events[0]["thread_id"]
    for _ in range(2):
        await sock.ask(QUESTION, thread_id=thread_id)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await http(
                gp_api, "GET", f"/threads/{thread_id}", token=user.access_token, params=params
            )
        ).json()
        assert len(page["messages"]) <= 2
        seen += [m["message_id"] for m in page["messages"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6  # 3 runs: 3 questions, 3 answers
    whole = (await http(gp_api, "GET", f"/threads/{thread_id}", token=user.access_token)).json()
    assert [m["message_id"] for m in whole["messages"]] == seen  # oldest first, same order
    bad = await http(
        gp_api,
        "GET",
        f"/threads/{thread_id}",
        token=user.access_token,
        params={"limit": 101},
    )
    assert bad.status_code == 422
