"""The floor for ``bench.model``: a bare Starlette SSE endpoint streaming the same chunks.

``python -m bench.model_floor --port P``: ``POST /v1/chat/completions`` answers with the
chat chunks golden-path's model server sends for the bench's text of that size (the
last message names it: ``tiny``, ``medium`` or ``huge``), precomputed; no parsing, no
scripts, no journal: what serving SSE from Python costs at all.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from golden_path.testing.model import wire_openai_chat
from golden_path.testing.model.conversation import Conversation
from golden_path.testing.model.faults import encode
from golden_path.testing.model.reply import Output, Reply

SIZES = {"tiny": 1, "medium": 100, "huge": 10_000}


def text_of(size: str) -> str:
    return " ".join(f"w{i % 1000:03d}" for i in range(SIZES[size]))


def chunks(size: str) -> list[bytes]:
    text = text_of(size)
    conv = Conversation(wire="openai_chat", model="bench", stream=True)
    events = wire_openai_chat.events(conv, Reply([Output("text", text)]), "floor")
    return [encode(name, data) for name, data in events]


CACHE: dict[str, list[bytes]] = {}


async def completions(request: Request) -> Response:
    body = json.loads(await request.body())
    size = body["messages"][-1]["content"]
    found = CACHE.get(size) or CACHE.setdefault(size, chunks(size))

    async def stream() -> AsyncIterator[bytes]:
        for chunk in found:
            yield chunk

    return StreamingResponse(stream(), media_type="text/event-stream")


app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
