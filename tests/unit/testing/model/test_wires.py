"""The three wire formats, rendered and parsed back, judged by the official SDKs' own types.

Every plain answer validates as the SDK's response model and every streamed event as
its stream-event model (unknown fields would be kept silently, so the tests compare
what matters too); a request in each provider's shape reads into the same
conversation, and a recorded answer turns back into the steps that made it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from golden_path.testing.model import text, thinking, tool_call
from golden_path.testing.model import wire_anthropic as anthropic_wire
from golden_path.testing.model import wire_openai_chat as chat_wire
from golden_path.testing.model import wire_openai_responses as responses_wire
from golden_path.testing.model.conversation import BadRequest
from golden_path.testing.model.faults import encode
from golden_path.testing.model.record import answer_steps
from golden_path.testing.model.reply import reply_from_steps

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's HTTP client, streaming parser and tool loop run against the "
        "model at the wire only if every answer is what the real provider's SDK accepts",
        revenue_impact="an answer the SDK misreads would fail a correct agent (or pass a "
        "broken one), and teams would go back to mocking the model",
    ),
]

STEPS = [
    thinking("Let me look that up."),
    text("Checking the weather in two cities."),
    tool_call("get_weather", city="Paris"),
    tool_call("get_weather", {"city": "Rome", "days": 2}),
]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CHAT_REQUEST = {
    "model": "gpt-x",
    "messages": [
        {"role": "system", "content": "You help free-tier users."},
        {"role": "user", "content": [{"type": "text", "text": "weather in Paris?"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}],
}
RESPONSES_REQUEST = {
    "model": "gpt-x",
    "instructions": "You help free-tier users.",
    "input": [
        {"role": "user", "content": "weather in Paris?"},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
    ],
    "tools": [{"type": "function", "name": "get_weather", "parameters": SCHEMA}],
}
ANTHROPIC_REQUEST = {
    "model": "claude-x",
    "max_tokens": 100,
    "system": [{"type": "text", "text": "You help free-tier users."}],
    "messages": [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "c1", "name": "get_weather", "input": {}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}],
        },
    ],
    "tools": [{"name": "get_weather", "input_schema": SCHEMA}],
}
WIRES: list[tuple[Any, dict[str, Any]]] = [
    (chat_wire, CHAT_REQUEST),
    (responses_wire, RESPONSES_REQUEST),
    (anthropic_wire, ANTHROPIC_REQUEST),
]


@pytest.mark.parametrize(("wire", "request_body"), WIRES, ids=lambda w: getattr(w, "WIRE", ""))
def test_each_wire_reads_the_same_conversation(wire: Any, request_body: dict[str, Any]) -> None:
    conv = wire.parse(request_body)
    assert conv.system == "You help free-tier users."
    assert conv.last_user == "weather in Paris?"
    assert conv.tool_names == ["get_weather"]
    assert [(r.name, r.content) for r in conv.tool_results] == [("get_weather", "sunny")]
    assert conv.turn == 2  # one assistant turn came before


@pytest.mark.parametrize(("wire", "request_body"), WIRES, ids=lambda w: getattr(w, "WIRE", ""))
@pytest.mark.parametrize("missing", ["model", "messages"])
def test_a_missing_field_is_a_bad_request(
    wire: Any, request_body: dict[str, Any], missing: str
) -> None:
    body = dict(request_body)
    body.pop("input" if missing == "messages" and "input" in body else missing)
    with pytest.raises(BadRequest, match="missing required field"):
        wire.parse(body)


def _conv(wire: Any, stream: bool, include_usage: bool = False) -> Any:
    body = {**dict(WIRES[[w for w, _ in WIRES].index(wire)][1]), "stream": stream}
    conv = wire.parse(body)
    conv.include_usage = include_usage
    return conv


def test_chat_completion_plain_and_streamed_parse_as_the_sdk_types() -> None:
    reply = reply_from_steps(STEPS, "seed")
    plain = ChatCompletion.model_validate(chat_wire.plain(_conv(chat_wire, False), reply, "seed"))
    message = plain.choices[0].message
    assert message.content == "Checking the weather in two cities."
    assert [json.loads(c.function.arguments) for c in message.tool_calls or []] == [
        {"city": "Paris"},
        {"city": "Rome", "days": 2},
    ]
    assert plain.choices[0].finish_reason == "tool_calls"
    events = list(chat_wire.events(_conv(chat_wire, True, include_usage=True), reply, "seed"))
    assert events[-1] == (None, "[DONE]")
    chunks = [ChatCompletionChunk.model_validate_json(data) for _, data in events[:-1]]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    pieces = [
        c.choices[0].delta.tool_calls[0].function.arguments
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    assert len(pieces) > 4  # the arguments arrive in several pieces
    assert answer_steps("openai_chat", b"".join(encode(n, d) for n, d in events)) == [
        s for s in STEPS
    ]


def test_responses_plain_and_streamed_parse_as_the_sdk_types() -> None:
    reply = reply_from_steps(STEPS, "seed")
    plain = Response.model_validate(responses_wire.plain(_conv(responses_wire, False), reply, "s"))
    assert plain.output_text == "Checking the weather in two cities."
    assert [o.type for o in plain.output] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    events = responses_wire.events(_conv(responses_wire, True), reply, "s")
    parsed = [adapter.validate_python(data) for _, data in events]
    assert [e.sequence_number for e in parsed] == list(range(len(parsed)))
    assert parsed[0].type == "response.created"
    assert parsed[-1].type == "response.completed"
    assert all(name == data["type"] for name, data in events)
    assert answer_steps("openai_responses", b"".join(encode(n, d) for n, d in events)) == STEPS


def test_anthropic_plain_and_streamed_parse_as_the_sdk_types() -> None:
    reply = reply_from_steps(STEPS, "seed")
    plain = Message.model_validate(anthropic_wire.plain(_conv(anthropic_wire, False), reply, "s"))
    assert [b.type for b in plain.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert plain.stop_reason == "tool_use"
    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    events = anthropic_wire.events(_conv(anthropic_wire, True), reply, "s")
    parsed = [adapter.validate_python(data) for _, data in events]
    kinds = {e.delta.type for e in parsed if e.type == "content_block_delta"}
    assert kinds == {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"}
    assert parsed[0].type == "message_start"
    assert parsed[-1].type == "message_stop"
    assert answer_steps("anthropic", b"".join(encode(n, d) for n, d in events)) == STEPS
    assert answer_steps("anthropic", json.dumps(plain.model_dump()).encode()) == STEPS


def test_error_bodies_have_each_providers_shape() -> None:
    assert chat_wire.error_body(429, "slow down") == {
        "error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": None}
    }
    assert anthropic_wire.error_body(529, "busy") == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }
