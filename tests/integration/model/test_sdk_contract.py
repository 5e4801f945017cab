"""The official ``openai`` and ``anthropic`` SDKs against a real running model server.

Each test scripts ``gp_model`` and drives the SDK over HTTP (no mock anywhere): plain
and streamed answers, tool round trips, and every fault a team proves its retries,
timeouts and error handling with. Warnings are errors here: an SDK that warned about
an answer would fail the test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from golden_path.testing.model import (
    cut_after,
    error,
    hang,
    malformed_at,
    pace,
    text,
    thinking,
    tool_call,
)
from golden_path.testing.model.handle import ModelHandle

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's own server calls its model through these SDKs; the golden "
        "path is only tested end to end if the SDKs take the scripted model for the real one",
        revenue_impact="without a model at the wire teams mock their model client or pay a "
        "nondeterministic API in CI, and neither tests the product's core",
    ),
    pytest.mark.filterwarnings("error"),
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "the weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
ANTHROPIC_TOOLS = [
    {
        "name": "get_weather",
        "description": "weather",
        "input_schema": TOOLS[0]["function"]["parameters"],
    }  # type: ignore[index]
]


@pytest.fixture
def oai(gp_model: ModelHandle) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(
        base_url=gp_model.openai_base_url, api_key=gp_model.api_key, max_retries=0, timeout=30
    )
    with client:
        yield client


@pytest.fixture
def claude(gp_model: ModelHandle) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(
        base_url=gp_model.anthropic_base_url, api_key=gp_model.api_key, max_retries=0, timeout=30
    )
    with client:
        yield client


def test_chat_tool_round_trip_plain_then_streamed(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    gp_model.script(
        user="weather",
        turn=1,
        steps=[tool_call("get_weather", city="Paris"), tool_call("get_weather", city="Rome")],
    )
    gp_model.script(tool_result="get_weather", steps=[text("Sunny in Paris, rain in Rome.")])
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather in Paris and Rome?"}]
    first = oai.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    calls = first.choices[0].message.tool_calls or []
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]  # type: ignore[union-attr]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    for call in calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
    stream = oai.chat.completions.create(
        model="gpt-test",
        messages=messages,
        tools=TOOLS,
        stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert answer == "Sunny in Paris, rain in Rome."
    assert chunks[-1].usage is not None
    assert [e.script for e in gp_model.journal] == ["script #1", "script #2"]
    assert gp_model.requests[1]["messages"][-1]["content"] == "sunny"  # the result went back


def test_chat_stream_helper_accumulates_tool_calls_and_reasoning(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    gp_model.script(steps=[thinking("Look it up."), tool_call("get_weather", city="Oslo")])
    with oai.chat.completions.stream(
        model="gpt-test",
        messages=[{"role": "user", "content": "Oslo?"}],
        tools=TOOLS,  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_completion()
    call = (final.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    assert final.choices[0].finish_reason == "tool_calls"


def test_responses_tool_round_trip_plain_and_streamed(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": TOOLS[0]["function"]["parameters"],
        }
    ]  # type: ignore[index]
    gp_model.script(turn=1, steps=[thinking("hmm"), tool_call("get_weather", city="Paris")])
    gp_model.script(tool_result="get_weather", steps=[text("It is sunny.")])
    first = oai.responses.create(model="gpt-test", input="weather?", tools=tools)  # type: ignore[arg-type]
    call = next(o for o in first.output if o.type == "function_call")
    follow_up = [
        {"role": "user", "content": "weather?"},
        {
            "type": "function_call",
            "call_id": call.call_id,
            "name": call.name,
            "arguments": call.arguments,
        },
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    with oai.responses.stream(model="gpt-test", input=follow_up, tools=tools) as stream:  # type: ignore[arg-type]
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "It is sunny."


def test_anthropic_tool_round_trip_plain_and_streamed(
    gp_model: ModelHandle, claude: anthropic.Anthropic
) -> None:
    gp_model.script(
        turn=1, steps=[thinking("Let me check."), tool_call("get_weather", city="Paris")]
    )
    gp_model.script(tool_result="get_weather", steps=[text("Sunny.")])
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather?"}]
    first = claude.messages.create(
        model="claude-test",
        max_tokens=100,
        messages=messages,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
    )
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    use = first.content[1]
    assert use.type == "tool_use"
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}],
        },
    ]
    with claude.messages.stream(
        model="claude-test",
        max_tokens=100,
        messages=messages,
        tools=ANTHROPIC_TOOLS,  # type: ignore[arg-type]
    ) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == "Sunny."
    assert final.stop_reason == "end_turn"


def test_models_list_answers_in_both_shapes(
    gp_model: ModelHandle, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    assert [m.id for m in oai.models.list()] == ["gp-model"]
    assert [m.id for m in claude.models.list()] == ["gp-model"]


def test_429_with_retry_after_then_success_through_the_sdks_own_retry(
    gp_model: ModelHandle,
) -> None:
    gp_model.script(times=1, steps=[error(429, "slow down", retry_after=0.05)])
    gp_model.script(steps=[text("done")])
    with openai.OpenAI(
        base_url=gp_model.openai_base_url, api_key=gp_model.api_key, max_retries=1
    ) as client:
        answer = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
    assert answer.choices[0].message.content == "done"
    assert [e.status for e in gp_model.journal] == [429, 200]


@pytest.mark.parametrize(
    ("status", "openai_error", "anthropic_error"),
    [
        (400, openai.BadRequestError, anthropic.BadRequestError),
        (500, openai.InternalServerError, anthropic.InternalServerError),
        (503, openai.InternalServerError, anthropic.InternalServerError),
        (429, openai.RateLimitError, anthropic.RateLimitError),
    ],
)
def test_scripted_errors_reach_each_sdk_as_its_own_error(
    gp_model: ModelHandle,
    oai: openai.OpenAI,
    claude: anthropic.Anthropic,
    status: int,
    openai_error: type[Exception],
    anthropic_error: type[Exception],
) -> None:
    gp_model.script(steps=[error(status, "scripted trouble", retry_after=1)])
    with pytest.raises(openai_error, match="scripted trouble") as raised:
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    with pytest.raises(anthropic_error, match="scripted trouble"):
        claude.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        )
    if status == 429:
        assert raised.value.response.headers["retry-after"] == "1"  # type: ignore[attr-defined]


def test_a_hang_before_the_first_byte_trips_the_client_timeout(gp_model: ModelHandle) -> None:
    gp_model.script(steps=[hang(5), text("too late")])
    with (
        openai.OpenAI(
            base_url=gp_model.openai_base_url, api_key=gp_model.api_key, max_retries=0, timeout=0.3
        ) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_a_stream_cut_mid_way_surfaces_as_a_broken_stream(
    gp_model: ModelHandle, oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    gp_model.script(steps=[text("one two three four five six"), cut_after(3)])
    received: list[str] = []

    def read() -> None:
        for chunk in oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises((httpx.RemoteProtocolError, openai.APIError)):
        read()
    assert "".join(received) == "one two"  # the role chunk, then two words, then the cut
    with (
        pytest.raises((httpx.RemoteProtocolError, anthropic.APIError)),
        claude.messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        stream.get_final_message()


def test_a_malformed_chunk_is_an_sdk_decode_error(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    gp_model.script(steps=[text("one two three"), malformed_at(2)])
    with pytest.raises(json.JSONDecodeError):
        list(
            oai.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )


def test_pacing_sets_time_to_first_token_and_rate(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    gp_model.script(steps=[text("a b c d e f g h"), pace(ttft=0.3, tps=50)])
    start = time.monotonic()
    stream = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    first = next(iter(stream))
    first_at = time.monotonic() - start
    rest = list(stream)
    total = time.monotonic() - start
    assert first.choices[0].delta.role == "assistant"
    assert first_at >= 0.3
    assert total >= 0.3 + (len(rest) - 1) / 50  # each later event waits 1/tps


def test_bad_input_gets_the_providers_400_and_413(
    gp_model: ModelHandle, oai: openai.OpenAI
) -> None:
    url = gp_model.openai_base_url + "/chat/completions"
    auth = {"authorization": f"Bearer {gp_model.api_key}"}
    with httpx.Client(timeout=10) as http:
        broken = http.post(url, content=b"{not json", headers=auth)
        missing = http.post(url, json={"model": "m"}, headers=auth)
        anthropic_missing = http.post(
            gp_model.anthropic_base_url + "/v1/messages",
            json={"model": "m", "messages": []},
            headers={"x-api-key": gp_model.api_key},
        )
        huge = http.post(url, content=b"x" * (9 * 1024 * 1024), headers=auth)
        wrong_key = http.post(url, json={}, headers={"authorization": "Bearer nope"})
    assert broken.status_code == 400
    assert broken.json()["error"]["type"] == "invalid_request_error"
    assert "messages" in missing.json()["error"]["message"]
    assert anthropic_missing.status_code == 400
    assert anthropic_missing.json()["type"] == "error"
    assert "max_tokens" in anthropic_missing.json()["error"]["message"]
    assert huge.status_code == 413
    assert wrong_key.status_code == 401
