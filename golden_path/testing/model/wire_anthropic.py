"""Anthropic Messages, ``POST /v1/messages``: the request read, the answer written.

Plain: one ``message`` with ``thinking``, ``text`` and ``tool_use`` content blocks
and its ``stop_reason``. Streamed: ``message_start``, per block
``content_block_start`` / ``content_block_delta`` (``thinking_delta`` then
``signature_delta``, ``text_delta``, ``input_json_delta``) / ``content_block_stop``,
``message_delta`` (stop reason, usage) and ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any

from golden_path.testing.model.conversation import (
    BadRequest,
    Conversation,
    ConversationBuilder,
    require,
    text_of,
)
from golden_path.testing.model.reply import (
    Output,
    Reply,
    json_pieces,
    pieces,
    stable_id,
    usage_numbers,
)

WIRE = "anthropic"
Event = tuple[str | None, Any]


def parse(body: dict[str, Any]) -> Conversation:
    model = require(body, "model", str)
    require(body, "max_tokens", int)
    messages = require(body, "messages", list)
    build = ConversationBuilder(WIRE, model, bool(body.get("stream")))
    system = body.get("system")
    if system:
        build.system(text_of(system))
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise BadRequest("every message needs a role: user or assistant")
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            raise BadRequest("message content must be a string or a list of blocks")
        if message["role"] == "assistant":
            _assistant(build, blocks)
        else:
            _user(build, blocks)
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and "input_schema" in tool:
            build.tool(tool.get("name"), tool.get("description"), tool.get("input_schema"))
    return build.build()


def _assistant(build: ConversationBuilder, blocks: list[Any]) -> None:
    build.assistant(text_of(blocks))
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_use":
            build.tool_call(
                str(block.get("id", "")), str(block.get("name", "")), json.dumps(block.get("input"))
            )


def _user(build: ConversationBuilder, blocks: list[Any]) -> None:
    results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
    for block in results:
        build.tool_result(str(block.get("tool_use_id", "")), text_of(block.get("content")))
    text = text_of(blocks)
    if text or not results:
        build.user(text)


def _signature(text: str) -> str:
    return stable_id("sig_", text)


def _blocks(reply: Reply) -> list[tuple[Output, dict[str, Any]]]:
    blocks: list[tuple[Output, dict[str, Any]]] = []
    for output in reply.outputs:
        if output.kind == "thinking":
            block = {
                "type": "thinking",
                "thinking": output.text,
                "signature": _signature(output.text),
            }
        elif output.kind == "text":
            block = {"type": "text", "text": output.text}
        else:
            block = {
                "type": "tool_use",
                "id": output.call_id.replace("call_", "toolu_", 1),
                "name": output.name,
                "input": json.loads(output.text or "{}"),
            }
        blocks.append((output, block))
    return blocks


def _message(conv: Conversation, reply: Reply, seed: str, content: list[Any], done: bool) -> Any:
    prompt, completion = usage_numbers(conv.words, reply)
    return {
        "id": stable_id("msg_", seed),
        "type": "message",
        "role": "assistant",
        "model": conv.model,
        "content": content,
        "stop_reason": ("tool_use" if reply.tool_calls else "end_turn") if done else None,
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": completion if done else 1},
    }


def plain(conv: Conversation, reply: Reply, seed: str) -> dict[str, Any]:
    return dict(_message(conv, reply, seed, [b for _, b in _blocks(reply)], done=True))


def events(conv: Conversation, reply: Reply, seed: str) -> list[Event]:
    out: list[Event] = []

    def emit(kind: str, **fields: Any) -> None:
        out.append((kind, {"type": kind, **fields}))

    emit("message_start", message=_message(conv, reply, seed, [], done=False))
    for index, (output, block) in enumerate(_blocks(reply)):
        if block["type"] == "thinking":
            emit(
                "content_block_start",
                index=index,
                content_block={**block, "thinking": "", "signature": ""},
            )
            for piece in pieces(output.text):
                emit(
                    "content_block_delta",
                    index=index,
                    delta={"type": "thinking_delta", "thinking": piece},
                )
            emit(
                "content_block_delta",
                index=index,
                delta={"type": "signature_delta", "signature": block["signature"]},
            )
        elif block["type"] == "text":
            emit("content_block_start", index=index, content_block={**block, "text": ""})
            for piece in pieces(output.text):
                emit(
                    "content_block_delta", index=index, delta={"type": "text_delta", "text": piece}
                )
        else:
            emit("content_block_start", index=index, content_block={**block, "input": {}})
            for piece in json_pieces(output.text):
                emit(
                    "content_block_delta",
                    index=index,
                    delta={"type": "input_json_delta", "partial_json": piece},
                )
        emit("content_block_stop", index=index)
    final = _message(conv, reply, seed, [], done=True)
    emit(
        "message_delta",
        delta={"stop_reason": final["stop_reason"], "stop_sequence": None},
        usage={"output_tokens": final["usage"]["output_tokens"]},
    )
    emit("message_stop")
    return out


ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_body(status: int, message: str, kind: str | None = None, code: str | None = None) -> Any:
    """Anthropic's error shape."""
    kind = kind or ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
