"""An AG-UI server no one on golden-path wrote: a pydantic-ai agent behind pydantic-ai's adapter.

The agent is pydantic-ai's ``AnthropicModel`` with a ``get_weather`` tool; its model is
reached over HTTP (the Anthropic Messages API, streamed) at ``--model-url`` (or
``$AGUI_EXAMPLE_MODEL_URL``): in this repository, golden-path's model at the wire
serving ``model.yaml`` beside this file (``golden-path model serve --script ...``),
deterministic, no network beyond loopback, no weights. What it answers:

* a user message that mentions the weather: the model thinks, then calls ``get_weather``
  for Paris; once the tool has returned, it answers quoting the weather;
* a user message containing "please fail": the model answers HTTP 400, so the adapter
  ends the run with ``RUN_ERROR``;
* a user message that asks for a story: about 40 text deltas at 40 a second (a run that
  lasts a second, for a client that disconnects mid-run);
* a user message that asks for a transfer: the model calls ``transfer_funds``, a tool that
  needs a human's approval (``requires_approval``), so the run pauses: ``RUN_FINISHED``
  with an interrupt outcome. The next run on the thread answers it in ``resume[]``
  (``payload: {"approved": true}`` or ``false``): approved, the tool runs; either way the
  model then reports what the tool answered;
* any other user message: a short answer in a few text deltas.

Serve it as its own process (the AG-UI endpoint is ``POST /agui``)::

    golden-path model serve --script examples/agui-pydantic-ai/model.yaml --port 8766 &
    python examples/agui-pydantic-ai/app.py --port 8765 --model-url http://127.0.0.1:8766

With ``--token`` (or ``$AGUI_EXAMPLE_TOKEN``) every request must carry
``Authorization: Bearer SECRET``; others get 401.
"""

from __future__ import annotations

import argparse
import hmac
import os

import uvicorn
from pydantic_ai import Agent, DeferredToolRequests, Tool
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.ui.ag_ui import AGUIAdapter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WEATHER = {"paris": "sunny, 21 °C", "london": "drizzle, 14 °C", "tokyo": "clear, 25 °C"}
MODEL_URL_ENV = "AGUI_EXAMPLE_MODEL_URL"


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return WEATHER.get(city.strip().lower(), "unknown")


def transfer_funds(amount_usd: int, to: str) -> str:
    """Send money: a costly action a human approves first."""
    return f"sent {amount_usd} USD to {to}"


def make_agent(
    model_url: str, api_key: str = "example-key"
) -> Agent[None, str | DeferredToolRequests]:
    provider = AnthropicProvider(base_url=model_url, api_key=api_key)
    model = AnthropicModel("claude-example", provider=provider)
    return Agent(
        model,
        tools=[get_weather, Tool(transfer_funds, requires_approval=True)],
        output_type=[str, DeferredToolRequests],
        model_settings={"max_tokens": 1024},
    )


def make_app(model_url: str, token: str | None = None) -> Starlette:
    agent = make_agent(model_url)

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
    parser.add_argument(
        "--model-url",
        default=os.environ.get(MODEL_URL_ENV) or None,
        help=f"the model's Anthropic base URL (default ${MODEL_URL_ENV})",
    )
    args = parser.parse_args()
    if not args.model_url:
        parser.error(f"give --model-url or ${MODEL_URL_ENV}: where the agent's model answers")
    uvicorn.run(
        make_app(args.model_url, args.token), host=args.host, port=args.port, log_level="info"
    )


if __name__ == "__main__":
    main()
