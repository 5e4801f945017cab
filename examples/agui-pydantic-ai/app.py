"""An AG-UI server no one on golden-path wrote: a pydantic-ai agent behind pydantic-ai's adapter.

The model is pydantic-ai's ``FunctionModel`` with a ``stream_function``: deterministic, no
network, no weights. What it does depends only on the conversation so far:

* a user message that mentions the weather: the model thinks (a thinking part), then calls
  the ``get_weather`` tool with the city it names; once the tool has returned, it streams an
  answer quoting the tool's result;
* a user message containing ``ERROR_TRIGGER``: the model raises, so the adapter ends the run
  with ``RUN_ERROR``;
* a user message that asks for a story: the model streams 40 deltas 25 ms apart (a run
  that lasts a second, for a client that disconnects mid-run);
* a user message that asks for a transfer: the model calls ``transfer_funds``, a tool that
  needs a human's approval (``requires_approval``), so the run pauses: ``RUN_FINISHED``
  with an interrupt outcome. The next run on the thread answers it in ``resume[]``
  (``payload: {"approved": true}`` or ``false``): approved, the tool runs and the model
  reports its result; denied, the model says the transfer was not made;
* any other user message: the model streams a short answer in a few text deltas.

Serve it as its own process (the AG-UI endpoint is ``POST /agui``)::

    python examples/agui-pydantic-ai/app.py --port 8765 [--token SECRET]

With ``--token`` (or ``$AGUI_EXAMPLE_TOKEN``) every request must carry
``Authorization: Bearer SECRET``; others get 401.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import re
from collections.abc import AsyncIterator

import uvicorn
from pydantic_ai import Agent, DeferredToolRequests, Tool
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import (
    AgentInfo,
    DeltaThinkingCalls,
    DeltaThinkingPart,
    DeltaToolCall,
    DeltaToolCalls,
    FunctionModel,
)
from pydantic_ai.ui.ag_ui import AGUIAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ERROR_TRIGGER = "please fail"
STORY_DELTAS, STORY_DELAY_S = 40, 0.025
WEATHER = {"paris": "sunny, 21 °C", "london": "drizzle, 14 °C", "tokyo": "clear, 25 °C"}


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return WEATHER.get(city.strip().lower(), "unknown")


def transfer_funds(amount_usd: int, to: str) -> str:
    """Send money: a costly action a human approves first."""
    return f"sent {amount_usd} USD to {to}"


def _last_request(messages: list[ModelMessage]) -> ModelRequest:
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    return last


async def respond(
    messages: list[ModelMessage], info: AgentInfo
) -> AsyncIterator[str | DeltaToolCalls | DeltaThinkingCalls]:
    """The deterministic model: a pure function of the conversation so far."""
    request = _last_request(messages)
    returned = [p for p in request.parts if isinstance(p, ToolReturnPart)]
    if returned:
        intro = "Transfer: " if returned[0].tool_name == "transfer_funds" else "The weather there: "
        for chunk in (intro, str(returned[0].content), "."):
            yield chunk
        return
    prompts = [p for p in request.parts if isinstance(p, UserPromptPart)]
    text = " ".join(str(p.content) for p in prompts)
    if ERROR_TRIGGER in text.lower():
        raise RuntimeError("the example model was asked to fail")
    if "weather" in text.lower():
        match = re.search(r"\bin ([A-Za-z]+)", text)
        city = match.group(1) if match else "Paris"
        yield {0: DeltaThinkingPart(content=f"The user asks about the weather in {city}; ")}
        yield {0: DeltaThinkingPart(content="the get_weather tool knows it.")}
        args = json.dumps({"city": city})
        yield {1: DeltaToolCall(name="get_weather", json_args=args[:5])}
        yield {1: DeltaToolCall(json_args=args[5:])}
        return
    if "transfer" in text.lower():
        args = json.dumps({"amount_usd": 500, "to": "Alice"})
        yield {0: DeltaToolCall(name="transfer_funds", json_args=args)}
        return
    if "story" in text.lower():
        for number in range(STORY_DELTAS):
            await asyncio.sleep(STORY_DELAY_S)  # the model is slow on purpose
            yield f"Once upon a time ({number}). "
        return
    for chunk in ("Hello", "! I am a ", "deterministic ", "example agent."):
        yield chunk


agent = Agent(
    FunctionModel(stream_function=respond),
    tools=[get_weather, Tool(transfer_funds, requires_approval=True)],
    output_type=[str, DeferredToolRequests],
)


def make_app(token: str | None = None) -> Starlette:
    async def run(request: Request) -> Response:
        if token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return JSONResponse({"error": "a bearer token is required"}, status_code=401)
        return await AGUIAdapter.dispatch_request(request, agent=agent)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/agui", run, methods=["POST"]), Route("/healthz", healthz)])


def main() -> None:
    parser = argparse.ArgumentParser(description="the pydantic-ai AG-UI example server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default=os.environ.get("AGUI_EXAMPLE_TOKEN") or None)
    args = parser.parse_args()
    uvicorn.run(make_app(args.token), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
