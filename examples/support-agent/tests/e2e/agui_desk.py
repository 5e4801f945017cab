"""The customer's side of the desk: an AG-UI client of our server, over real HTTP."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx


class Run(list[dict[str, Any]]):
    """The AG-UI events of one run of the agent, in order."""

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self]

    @property
    def answer(self) -> str:
        return "".join(e["delta"] for e in self if e["type"] == "TEXT_MESSAGE_CONTENT")

    def first(self, kind: str) -> dict[str, Any]:
        return next(e for e in self if e["type"] == kind)


class Desk:
    """What a customer's browser does: runs of the agent on a thread, and its history."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def chat(self, token: str, thread: str, *said: str) -> Run:
        """One run on ``thread`` with the customer's messages so far (AG-UI clients send
        the history); the events it streamed."""
        body = {
            "threadId": thread,
            "runId": f"run-{uuid.uuid4().hex}",
            "state": {},
            "messages": [{"id": f"m{i}", "role": "user", "content": t} for i, t in enumerate(said)],
            "tools": [],
            "context": [],
            "forwardedProps": {},
        }
        headers = {**auth(token), "Accept": "text/event-stream"}
        run = Run()
        async with self.client.stream("POST", "/agui", json=body, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    run.append(json.loads(line.removeprefix("data:")))
        return run

    async def history(self, token: str, thread: str) -> dict[str, Any]:
        response = await self.client.get(f"/conversations/{thread}", headers=auth(token))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
