"""OpenAI Responses, ``POST /v1/responses``: the request read, the answer written.

Plain: one ``response`` object whose ``output`` holds a ``reasoning`` item (thinking,
as a summary), a ``message`` (text) and ``function_call`` items. Streamed: the typed
events, numbered: ``response.created``, ``response.in_progress``, per item
``response.output_item.added`` ... ``response.output_item.done`` (with the text,
summary and argument deltas between), and ``response.completed``.
"""

from __future__ import annotations

import time
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
from golden_path.testing.model.wire_openai_chat import error_body

WIRE = "openai_responses"
Event = tuple[str | None, Any]
__all__ = ["error_body", "events", "parse", "plain"]


def parse(body: dict[str, Any]) -> Conversation:
    model = require(body, "model", str)
    if "input" not in body:
        raise BadRequest("missing required field 'input'")
    build = ConversationBuilder(WIRE, model, bool(body.get("stream")))
    if isinstance(body.get("instructions"), str):
        build.system(body["instructions"])
    items = body["input"]
    if isinstance(items, str):
        build.user(items)
    elif isinstance(items, list):
        for item in items:
            _item(build, item)
    else:
        raise BadRequest("field 'input' must be a string or a list of items")
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function":
            build.tool(tool.get("name"), tool.get("description"), tool.get("parameters"))
    return build.build()


def _item(build: ConversationBuilder, item: Any) -> None:
    if not isinstance(item, dict):
        raise BadRequest("every input item must be an object")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        content = text_of(item.get("content"))
        if role in ("system", "developer"):
            build.system(content)
        elif role == "user":
            build.user(content)
        elif role == "assistant":
            build.assistant(content)
        else:
            raise BadRequest(f"unknown message role {role!r}")
    elif kind == "function_call":
        build.tool_call(
            str(item.get("call_id", "")), str(item.get("name", "")), str(item.get("arguments", ""))
        )
    elif kind == "function_call_output":
        build.tool_result(str(item.get("call_id", "")), item.get("output", ""))
    elif kind == "reasoning":
        build.assistant()


def _items(reply: Reply, seed: str) -> list[tuple[Output, dict[str, Any]]]:
    """Each output as its finished ``output`` item."""
    items: list[tuple[Output, dict[str, Any]]] = []
    for index, output in enumerate(reply.outputs):
        item_id = stable_id("", [seed, index])
        if output.kind == "thinking":
            item: dict[str, Any] = {
                "id": f"rs_{item_id}",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": output.text}],
            }
        elif output.kind == "text":
            item = {
                "id": f"msg_{item_id}",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": output.text, "annotations": [], "logprobs": []}
                ],
            }
        else:
            item = {
                "id": f"fc_{item_id}",
                "type": "function_call",
                "status": "completed",
                "call_id": output.call_id,
                "name": output.name,
                "arguments": output.text,
            }
        items.append((output, item))
    return items


def _response(
    conv: Conversation, reply: Reply, seed: str, output: list[Any], done: bool
) -> dict[str, Any]:
    prompt, completion = usage_numbers(conv.words, reply)
    return {
        "id": stable_id("resp_", seed),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if done else "in_progress",
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "model": conv.model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }
        if done
        else None,
    }


def plain(conv: Conversation, reply: Reply, seed: str) -> dict[str, Any]:
    return _response(conv, reply, seed, [item for _, item in _items(reply, seed)], done=True)


def events(conv: Conversation, reply: Reply, seed: str) -> list[Event]:
    out: list[Event] = []

    def emit(kind: str, **fields: Any) -> None:
        out.append((kind, {"type": kind, "sequence_number": len(out), **fields}))

    emit("response.created", response=_response(conv, reply, seed, [], done=False))
    emit("response.in_progress", response=_response(conv, reply, seed, [], done=False))
    finished: list[Any] = []
    for index, (output, item) in enumerate(_items(reply, seed)):
        at = {"output_index": index}
        if item["type"] == "reasoning":
            emit("response.output_item.added", item={**item, "summary": []}, **at)
            ref = {"item_id": item["id"], "summary_index": 0, **at}
            emit(
                "response.reasoning_summary_part.added",
                part={"type": "summary_text", "text": ""},
                **ref,
            )
            for piece in pieces(output.text):
                emit("response.reasoning_summary_text.delta", delta=piece, **ref)
            emit("response.reasoning_summary_text.done", text=output.text, **ref)
            emit("response.reasoning_summary_part.done", part=item["summary"][0], **ref)
        elif item["type"] == "message":
            emit(
                "response.output_item.added",
                item={**item, "status": "in_progress", "content": []},
                **at,
            )
            ref = {"item_id": item["id"], "content_index": 0, **at}
            empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            emit("response.content_part.added", part=empty, **ref)
            for piece in pieces(output.text):
                emit("response.output_text.delta", delta=piece, logprobs=[], **ref)
            emit("response.output_text.done", text=output.text, logprobs=[], **ref)
            emit("response.content_part.done", part=item["content"][0], **ref)
        else:
            emit(
                "response.output_item.added",
                item={**item, "status": "in_progress", "arguments": ""},
                **at,
            )
            for piece in json_pieces(output.text):
                emit(
                    "response.function_call_arguments.delta", item_id=item["id"], delta=piece, **at
                )
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                name=output.name,
                arguments=output.text,
                **at,
            )
        emit("response.output_item.done", item=item, **at)
        finished.append(item)
    emit("response.completed", response=_response(conv, reply, seed, finished, done=True))
    return out
