"""Tests running at once against ONE model server never see each other's scripts.

Each namespace is reached by its own base URL (``/t/<namespace>/v1``); requests of
two namespaces interleaved on one server each get their own script's answer, and
once a namespace is closed (its test ended) its URL answers 404 in the provider's
shape.
"""

from __future__ import annotations

import asyncio

import openai
import pytest

from golden_path.testing.model import text
from golden_path.testing.model.handle import ModelHandle
from golden_path.testing.model.server import worker_model_server

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="concurrent tests sharing one model server (other languages, a shared "
        "CI service) each get their own scripted answers",
        revenue_impact="scripts leaking between tests make failures flaky and unexplainable, "
        "the fastest way to lose a team's trust in its suite",
    ),
]


async def test_two_namespaces_at_once_on_one_server() -> None:
    server = worker_model_server()
    handles = [ModelHandle(server, server.state.open()) for _ in range(2)]
    for index, handle in enumerate(handles):
        handle.script(steps=[text(f"answer of namespace {index}")])
    clients = [
        openai.AsyncOpenAI(base_url=h.openai_base_url, api_key=h.api_key, max_retries=0)
        for h in handles
    ]

    async def ask(index: int) -> tuple[int, str | None]:
        answer = await clients[index].chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=False
        )
        return index, answer.choices[0].message.content

    try:
        answers = await asyncio.gather(*(ask(i % 2) for i in range(40)))
        assert all(content == f"answer of namespace {i}" for i, content in answers)
        assert [len(h.journal) for h in handles] == [20, 20]
        server.state.close(handles[0].namespace)
        with pytest.raises(openai.NotFoundError, match="namespace is gone"):
            await ask(0)
        assert (await ask(1))[1] == "answer of namespace 1"
    finally:
        for handle in handles:
            server.state.close(handle.namespace)
        for client in clients:
            await client.close()
