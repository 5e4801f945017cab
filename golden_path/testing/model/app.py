"""The model at the wire's ASGI app: routes each request to its wire, script and journal.

``/v1/chat/completions``, ``/v1/responses``, ``/v1/messages`` and ``/v1/models``,
either bare (the *current* namespace: the running test's, which the team's server
reaches through ``{openai_base_url}``) or under ``/t/<namespace>`` (a namespace by
name: tests that hand the base URL to their client directly never see each other's
scripts, even on one server). A namespace that is gone answers 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from golden_path.testing.model import (
    wire_anthropic,
    wire_openai_chat,
    wire_openai_responses,
)
from golden_path.testing.model.autopilot import autopilot
from golden_path.testing.model.conversation import BadRequest, Conversation
from golden_path.testing.model.faults import LastBatch, plain_body, quiet_scripted_cuts, stream
from golden_path.testing.model.journal import (
    MAX_BODY_CHARS,
    JournalEntry,
    Namespace,
    clip_body,
    redact,
)
from golden_path.testing.model.reply import Reply, reply_from_steps
from golden_path.testing.model.script import choose, closest

MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_NAMESPACE = "default"
MODEL_ID = "gp-model"
WIRES: dict[str, Any] = {
    "chat/completions": wire_openai_chat,
    "responses": wire_openai_responses,
    "messages": wire_anthropic,
}


class ModelState:
    """Namespaces (scripts and journals), which one bare paths reach, and the API key."""

    def __init__(self, api_key: str | None = None, max_body: int = MAX_BODY_BYTES) -> None:
        self.api_key = api_key
        self.max_body = max_body
        self._lock = threading.Lock()
        self.namespaces: dict[str, Namespace] = {DEFAULT_NAMESPACE: Namespace(DEFAULT_NAMESPACE)}
        self.current: Namespace = self.namespaces[DEFAULT_NAMESPACE]

    def open(self, name: str | None = None) -> Namespace:
        with self._lock:
            name = name or secrets.token_hex(8)
            namespace = self.namespaces[name] = Namespace(name)
            return namespace

    def close(self, namespace: Namespace) -> None:
        with self._lock:
            self.namespaces.pop(namespace.name, None)
            if self.current is namespace:
                self.current = self.namespaces[DEFAULT_NAMESPACE]

    def find(self, name: str | None) -> Namespace | None:
        with self._lock:
            return self.current if name is None else self.namespaces.get(name)


def _error(
    module: Any, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(module.error_body(status, message), status, headers=headers)


def _key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is over ``limit`` bytes (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(state: ModelState) -> Starlette:
    quiet_scripted_cuts()

    async def completion(request: Request) -> Response:
        path = request.scope["path"]
        module = WIRES[path.split("/v1/", 1)[1]]
        namespace = state.find(request.path_params.get("namespace"))
        entry = JournalEntry(request.method, path, module.WIRE, redact(request.headers), None)
        response = await _answer(state, request, module, namespace, entry)
        entry.status = response.status_code
        if namespace is not None:
            namespace.record(entry)
        return response

    async def models(request: Request) -> Response:
        if request.headers.get("anthropic-version"):
            model = {
                "type": "model",
                "id": MODEL_ID,
                "display_name": "golden-path model",
                "created_at": "2026-01-01T00:00:00Z",
            }
            return JSONResponse(
                {"data": [model], "has_more": False, "first_id": MODEL_ID, "last_id": MODEL_ID}
            )
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "golden-path"}
                ],
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes = [Route("/health", health, methods=["GET"])]
    for prefix in ("", "/t/{namespace}"):
        routes.append(Route(f"{prefix}/v1/models", models, methods=["GET"]))
        routes.extend(Route(f"{prefix}/v1/{path}", completion, methods=["POST"]) for path in WIRES)
    return Starlette(routes=routes)


async def _answer(
    state: ModelState,
    request: Request,
    module: Any,
    namespace: Namespace | None,
    entry: JournalEntry,
) -> Response:
    if namespace is None:
        return _error(module, 404, "this namespace is gone (its test has ended) or never was")
    if state.api_key is not None and _key(request) != state.api_key:
        return _error(module, 401, "invalid API key (the model's key is {model_api_key})")
    raw = await read_body(request, state.max_body)
    if raw is None:
        entry.body = f"(over {state.max_body} bytes: not read)"
        return _error(module, 413, f"request body over {state.max_body} bytes")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        entry.body = clip_body(raw)
        return _error(module, 400, f"invalid request: {exc}")
    entry.body = body if len(raw) <= MAX_BODY_CHARS else clip_body(raw)  # parsed once
    try:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        conv: Conversation = module.parse(body)
    except (ValueError, BadRequest) as exc:
        return _error(module, 400, f"invalid request: {exc}")
    # Ids (of the response, its messages and tool calls) are unique per response, as a
    # provider's are: two identical requests at once must not share a tool call id.
    seed = hashlib.sha256(module.WIRE.encode() + raw + secrets.token_bytes(16)).hexdigest()
    reply = _reply(namespace, conv, seed, entry)
    if reply is None:
        return _error(module, 400, f"golden-path model: {entry.problem}")
    if reply.hang:
        await asyncio.sleep(reply.hang)
    if reply.error is not None:
        headers = {}
        if reply.error.retry_after is not None:
            headers["retry-after"] = str(max(int(-(-reply.error.retry_after // 1)), 0))
            headers["retry-after-ms"] = str(int(reply.error.retry_after * 1000))
        body_out = module.error_body(reply.error.status, reply.error.message, reply.error.type)
        return JSONResponse(body_out, reply.error.status, headers=headers)
    return _deliver(module, conv, reply, seed)


def _reply(
    namespace: Namespace, conv: Conversation, seed: str, entry: JournalEntry
) -> Reply | None:
    with namespace.lock:
        scripts = list(namespace.scripts)
        chosen = choose(scripts, conv)
        if chosen is not None:
            chosen.used += 1
    if chosen is None and scripts:
        entry.problem = f"no script matched this request; {closest(scripts, conv)}"
        return None
    if chosen is None:
        entry.script = "autopilot"
        return autopilot(conv, seed)
    entry.script = f"script {chosen.label}"
    reply = reply_from_steps(chosen.script.steps, seed)
    unoffered = [c.name for c in reply.tool_calls if c.name not in conv.tool_names]
    if unoffered:
        entry.problem = (
            f"script {chosen.label} calls {unoffered}, which the request did not offer "
            f"(offered: {conv.tool_names})"
        )
    return reply


def _deliver(module: Any, conv: Conversation, reply: Reply, seed: str) -> Response:
    headers = {"x-request-id": seed[:24], "request-id": f"req_{seed[:24]}"}
    if conv.stream:
        events = module.events(conv, reply, seed)
        headers["cache-control"] = "no-cache"
        kind = StreamingResponse if reply.pace is not None else UnpacedResponse
        return kind(stream(events, reply), media_type="text/event-stream", headers=headers)
    body = json.dumps(module.plain(conv, reply, seed)).encode()
    if reply.cut_after is None and reply.malformed_at is None and reply.pace is None:
        return Response(body, media_type="application/json", headers=headers)
    if reply.cut_after is not None:
        headers["content-length"] = str(len(body))
    return StreamingResponse(
        plain_body(body, reply), media_type="application/json", headers=headers
    )


class UnpacedResponse(StreamingResponse):
    """A stream that never waits: its chunks are sent as they are made, without
    Starlette's disconnect watcher (a task group per response; nothing here can wait
    on a client that left, so there is nothing to cancel). Its last chunk ends the
    response in the same write (a short stream: the headers, then one write)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        more = True
        async for chunk in self.body_iterator:
            more = not isinstance(chunk, LastBatch)
            data = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": data, "more_body": more})
        if more:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
