"""OpenAI Chat Completions, ``POST /v1/chat/completions``: the request read, the answer written.

Plain: one ``chat.completion``. Streamed: ``chat.completion.chunk`` s (role first,
text in word pieces, each tool call opened with its id and name and its arguments
sent in pieces, the ``finish_reason`` chunk, the usage chunk when
``stream_options.include_usage``), then ``data: [DONE]``. Thinking goes out as
``reasoning_content`` (the field OpenAI-compatible reasoning models use).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from golden_path.testing.model.conversation import (
    BadRequest,
    Conversation,
    ConversationBuilder,
    require,
    text_of,
)
from golden_path.testing.model.reply import Reply, json_pieces, pieces, stable_id, usage_numbers

WIRE = "openai_chat"
Event = tuple[str | None, Any]


def parse(body: dict[str, Any]) -> Conversation:
    model = require(body, "model", str)
    messages = require(body, "messages", list)
    stream_options = body.get("stream_options") or {}
    build = ConversationBuilder(WIRE, model, bool(body.get("stream")))
    build.conversation.include_usage = bool(
        isinstance(stream_options, dict) and stream_options.get("include_usage")
    )
    for message in messages:
        if not isinstance(message, dict) or "role" not in message:
            raise BadRequest("every message needs a role")
        role = message["role"]
        content = message.get("content")
        if role in ("system", "developer"):
            build.system(text_of(content))
        elif role == "user":
            build.user(text_of(content))
        elif role == "assistant":
            build.assistant(text_of(content))
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                build.tool_call(
                    str(call.get("id", "")),
                    str(function.get("name", "")),
                    str(function.get("arguments", "")),
                )
        elif role == "tool":
            build.tool_result(str(message.get("tool_call_id", "")), text_of(content))
        elif role == "function":
            build.tool_result(str(message.get("name", "")), text_of(content))
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            raise BadRequest("every tool needs a function")
        build.tool(function.get("name"), function.get("description"), function.get("parameters"))
    return build.build()


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(conv: Conversation, reply: Reply) -> dict[str, Any]:
    prompt, completion = usage_numbers(conv.words, reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def plain(conv: Conversation, reply: Reply, seed: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if reply.thinking:
        message["reasoning_content"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.call_id, "type": "function", "function": {"name": c.name, "arguments": c.text}}
            for c in reply.tool_calls
        ]
    return {
        "id": stable_id("chatcmpl-", seed),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": conv.model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(reply)}
        ],
        "usage": _usage(conv, reply),
    }


def events(conv: Conversation, reply: Reply, seed: str) -> Iterator[Event]:
    """The stream's chunks, made one at a time as the stream is sent (a 10,000-word answer
    is never held whole), each already JSON: the fields every chunk shares are encoded
    once, and only each chunk's delta per chunk."""
    base = {
        "id": stable_id("chatcmpl-", seed),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": conv.model,
        "system_fingerprint": None,
    }
    head = _json(base)[:-1] + ',"choices":[{"index":0,"delta":'
    tail = ',"logprobs":null,"finish_reason":null}]}'

    def chunk(delta: dict[str, Any]) -> Event:
        return (None, head + _json(delta) + tail)

    yield chunk({"role": "assistant", "content": ""})
    call_index = 0
    for output in reply.outputs:
        if output.kind == "thinking":
            for piece in pieces(output.text):
                yield chunk({"reasoning_content": piece})
        elif output.kind == "text":
            for piece in pieces(output.text):
                yield chunk({"content": piece})
        else:
            opening = {
                "index": call_index,
                "id": output.call_id,
                "type": "function",
                "function": {"name": output.name, "arguments": ""},
            }
            yield chunk({"tool_calls": [opening]})
            for piece in json_pieces(output.text):
                yield chunk(
                    {"tool_calls": [{"index": call_index, "function": {"arguments": piece}}]}
                )
            call_index += 1
    finish = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": _finish(reply)}
    yield (None, _json({**base, "choices": [finish]}))
    if conv.include_usage:
        yield (None, _json({**base, "choices": [], "usage": _usage(conv, reply)}))
    yield (None, "[DONE]")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(status: int, message: str, kind: str | None = None, code: str | None = None) -> Any:
    """OpenAI's error shape (both OpenAI wires use it)."""
    kind = kind or ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
