"""``golden-path model record``: a proxy to a real provider that writes a replaying script file.

Every request is forwarded as it came (its API key too: the provider needs it) and
the answer relayed as it arrives; then the exchange becomes a script: a match on
the conversation (the last user message, the turn, the tool whose result came
back) and the steps the provider answered with (thinking, text, tool calls, or its
error). The file is rewritten (atomically) after each exchange, so an interrupted
recording loses nothing. Only the conversation's text and the answers reach it:
no header, so no credential.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from golden_path.testing.model.app import MAX_BODY_BYTES, WIRES, read_body
from golden_path.testing.model.conversation import BadRequest
from golden_path.testing.model.files import dump_scripts
from golden_path.testing.model.script import ErrorStep, Match, Script, Step, ToolCallStep
from golden_path.testing.model.serve import run_app

MAX_CAPTURE_BYTES = 16 * 1024 * 1024
# Headers not forwarded either way: hop-by-hop ones, and those httpx sets itself.
DROPPED = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "accept-encoding",
        "content-encoding",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        "proxy-connection",
    }
)


class Recording:
    """The scripts recorded so far, written to ``out`` after each one."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.scripts: list[Script] = []
        self._lock = threading.Lock()

    def add(self, script: Script) -> None:
        with self._lock:
            self.scripts.append(script)
            text = dump_scripts(self.scripts)
            fd, tmp = tempfile.mkstemp(dir=self.out.parent, prefix=f".{self.out.name}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, self.out)


def recorded_script(
    wire_path: str, request_body: bytes, status: int, answer: bytes, index: int
) -> Script | None:
    """The script replaying one exchange (None when the request is not one to replay)."""
    module = WIRES[wire_path]
    try:
        conv = module.parse(json.loads(request_body))
    except (ValueError, BadRequest):
        return None
    match = Match(
        user=conv.last_user or None,
        turn=conv.turn,
        tool_result=conv.tool_results[-1].name if conv.tool_results else None,
    )
    if status >= 400:
        steps = [Step(error=ErrorStep(status=status, message=_error_message(answer)))]
    else:
        steps = answer_steps(module.WIRE, answer)
    if not steps:
        return None
    return Script(name=f"recorded {index}", match=match, steps=steps)


def _error_message(answer: bytes) -> str:
    try:
        body = json.loads(answer)
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return answer[:500].decode("utf-8", "replace") or "upstream error"


def _sse_data(answer: bytes) -> list[Any]:
    events = []
    for line in answer.decode("utf-8", "replace").splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                try:
                    events.append(json.loads(payload))
                except ValueError:
                    continue
    return events


def answer_steps(wire: str, answer: bytes) -> list[Step]:
    """The steps that reproduce a provider's answer (plain JSON or an SSE stream)."""
    text = answer.lstrip()
    streamed = not text.startswith(b"{")
    if wire == "openai_chat":
        return _chat_steps(_sse_data(answer)) if streamed else _chat_plain(json.loads(answer))
    if wire == "openai_responses":
        if streamed:
            done = [e for e in _sse_data(answer) if e.get("type") == "response.completed"]
            return _responses_plain(done[-1]["response"]) if done else []
        return _responses_plain(json.loads(answer))
    if streamed:
        return _anthropic_stream(_sse_data(answer))
    return _anthropic_blocks(json.loads(answer).get("content") or [])


def _steps(thinking: str, text: str, calls: list[tuple[str, str]]) -> list[Step]:
    steps = []
    if thinking:
        steps.append(Step(thinking=thinking))
    if text:
        steps.append(Step(text=text))
    for name, arguments in calls:
        try:
            args = json.loads(arguments or "{}")
        except ValueError:
            args = {}
        steps.append(
            Step(
                tool_call=ToolCallStep(name=name, arguments=args if isinstance(args, dict) else {})
            )
        )
    return steps


def _chat_plain(body: Any) -> list[Step]:
    message = (body.get("choices") or [{}])[0].get("message") or {}
    calls = [
        (c["function"]["name"], c["function"].get("arguments", ""))
        for c in message.get("tool_calls") or []
    ]
    return _steps(message.get("reasoning_content") or "", message.get("content") or "", calls)


def _chat_steps(chunks: list[Any]) -> list[Step]:
    thinking: list[str] = []
    text: list[str] = []
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            thinking.append(delta.get("reasoning_content") or "")
            text.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call.get("index", 0), ["", ""])
                function = call.get("function") or {}
                slot[0] += function.get("name") or ""
                slot[1] += function.get("arguments") or ""
    return _steps("".join(thinking), "".join(text), [(n, a) for n, a in calls.values()])


def _responses_plain(body: Any) -> list[Step]:
    thinking: list[str] = []
    text: list[str] = []
    calls: list[tuple[str, str]] = []
    for item in body.get("output") or []:
        if item.get("type") == "reasoning":
            thinking.extend(s.get("text", "") for s in item.get("summary") or [])
        elif item.get("type") == "message":
            text.extend(c.get("text", "") for c in item.get("content") or [])
        elif item.get("type") == "function_call":
            calls.append((item.get("name", ""), item.get("arguments", "")))
    return _steps("".join(thinking), "".join(text), calls)


def _anthropic_blocks(blocks: list[Any]) -> list[Step]:
    thinking = "".join(b.get("thinking", "") for b in blocks if b.get("type") == "thinking")
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    calls = [
        (b.get("name", ""), json.dumps(b.get("input") or {}))
        for b in blocks
        if b.get("type") == "tool_use"
    ]
    return _steps(thinking, text, calls)


def _anthropic_stream(events: list[Any]) -> list[Step]:
    blocks: dict[int, dict[str, Any]] = {}
    for event in events:
        index = event.get("index", 0)
        if event.get("type") == "content_block_start":
            blocks[index] = {**event.get("content_block", {}), "partial": ""}
        elif event.get("type") == "content_block_delta" and index in blocks:
            delta, block = event.get("delta") or {}, blocks[index]
            kind = delta.get("type")
            if kind == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif kind == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif kind == "input_json_delta":
                block["partial"] += delta.get("partial_json", "")
    for block in blocks.values():
        if block.get("type") == "tool_use" and block["partial"]:
            block["input"] = json.loads(block["partial"])
    return _anthropic_blocks([blocks[i] for i in sorted(blocks)])


def build_recorder(upstream: str, recording: Recording) -> Starlette:
    client = httpx.AsyncClient(
        base_url=upstream.rstrip("/"), timeout=httpx.Timeout(600, connect=10)
    )

    async def proxy(request: Request) -> Response:
        wire_path = request.url.path.split("/v1/", 1)[-1]
        raw = await read_body(request, MAX_BODY_BYTES)
        if raw is None:
            return JSONResponse({"error": {"message": "request body too large"}}, 413)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in DROPPED}
        sent = client.build_request(
            request.method,
            request.url.path,
            content=raw,
            headers=headers,
            params=request.query_params,
        )
        try:
            answer = await client.send(sent, stream=True)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": {"message": f"upstream unreachable: {exc}"}}, 502)
        captured = bytearray()

        async def relay() -> Any:
            try:
                async for chunk in answer.aiter_bytes():
                    if len(captured) < MAX_CAPTURE_BYTES:
                        captured.extend(chunk)
                    yield chunk
            finally:
                await answer.aclose()
            if request.method == "POST" and wire_path in WIRES:
                script = recorded_script(
                    wire_path, raw, answer.status_code, bytes(captured), len(recording.scripts) + 1
                )
                if script is not None:
                    recording.add(script)

        kept = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED}
        return StreamingResponse(relay(), status_code=answer.status_code, headers=kept)

    return Starlette(routes=[Route("/{path:path}", proxy, methods=["GET", "POST"])])


def record(upstream: str, out: str, host: str, port: int, as_json: bool) -> int:
    path = Path(out)
    if not path.parent.is_dir():
        print(f"golden-path model record: {path.parent} is not a folder", file=sys.stderr)
        return 2
    recording = Recording(path)
    return run_app(build_recorder(upstream, recording), host, port, as_json, "record")
