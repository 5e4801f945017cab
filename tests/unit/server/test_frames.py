"""Client frames of protocol v1: each valid frame typed, each invalid one turned into its error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golden_path.ids import RequestID, RunID, ThreadID
from golden_path.protocol import MAX_FRAME_BYTES, ClientFrame, ErrorCode
from golden_path.server.refusal import Refusal
from golden_path.server.ws.frames import (
    Authenticate,
    Cancel,
    Ping,
    Resume,
    UserMessage,
    parse_frame,
)

pytestmark = [
    pytest.mark.security,
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="every frame a client can send is either understood with typed ids or "
        "answered with an error that names the field, and the connection stays open",
        revenue_impact="a malformed frame that crashes the socket drops a paying user's "
        "in-flight answer; a loosely parsed id is an isolation hole",
    ),
]

THREAD = str(ThreadID.new())
RUN = str(RunID.new())
FRAME_TYPES = (UserMessage, Resume, Cancel, Authenticate, Ping)


def parse(data: Any) -> Any:
    return parse_frame(json.dumps(data))


def error(data: Any) -> Refusal:
    result = parse(data) if not isinstance(data, str) else parse_frame(data)
    assert isinstance(result, Refusal), result
    return result


def fields(result: Refusal) -> list[str]:
    return [d["field"] for d in result.details or []]


# --- valid frames ---------------------------------------------------------------------------


def test_user_message_minimal() -> None:
    frame = parse({"type": "user_message", "content": "hello"})
    assert isinstance(frame, UserMessage)
    assert frame.content == "hello"
    assert frame.thread_id is None
    assert frame.request_id is None


def test_user_message_with_ids_is_typed() -> None:
    frame = parse(
        {"type": "user_message", "content": "hi", "thread_id": THREAD, "request_id": "req-1_A"}
    )
    assert isinstance(frame, UserMessage)
    assert isinstance(frame.thread_id, ThreadID)
    assert frame.thread_id == THREAD
    assert isinstance(frame.request_id, RequestID)
    assert frame.request_id == "req-1_A"


def test_user_message_with_explicit_nulls() -> None:
    frame = parse({"type": "user_message", "content": "x", "thread_id": None, "request_id": None})
    assert isinstance(frame, UserMessage)
    assert frame.thread_id is None
    assert frame.request_id is None


@pytest.mark.parametrize("request_id", ["a", "A" * 64, "req_" + "f" * 32, "-_-", "0"])
def test_user_message_accepts_every_valid_request_id(request_id: str) -> None:
    frame = parse({"type": "user_message", "content": "x", "request_id": request_id})
    assert isinstance(frame, UserMessage)
    assert frame.request_id == request_id


@pytest.mark.parametrize("content", [" ", "😀", "x" * 100_000, "line\nbreak", "<script>"])
def test_user_message_keeps_content_verbatim(content: str) -> None:
    frame = parse({"type": "user_message", "content": content})
    assert isinstance(frame, UserMessage)
    assert frame.content == content


@pytest.mark.parametrize("after_seq", [0, 1, 42, 2**53])
def test_resume(after_seq: int) -> None:
    frame = parse({"type": "resume", "after_seq": after_seq})
    assert isinstance(frame, Resume)
    assert frame.after_seq == after_seq
    assert type(frame.after_seq) is int


def test_cancel_is_typed() -> None:
    frame = parse({"type": "cancel", "run_id": RUN})
    assert isinstance(frame, Cancel)
    assert isinstance(frame.run_id, RunID)
    assert frame.run_id == RUN


@pytest.mark.parametrize("token", ["t", "x.y.z", "t" * 8192])
def test_authenticate(token: str) -> None:
    frame = parse({"type": "authenticate", "token": token})
    assert isinstance(frame, Authenticate)
    assert frame.token == token


def test_ping() -> None:
    assert isinstance(parse({"type": "ping"}), Ping)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"type": "ping", "extra": 1, "nested": {"a": [1]}}, Ping),
        ({"type": "user_message", "content": "x", "priority": "high", "seq": 9}, UserMessage),
        ({"type": "resume", "after_seq": 3, "run_id": "ignored"}, Resume),
        ({"type": "cancel", "run_id": RUN, "reason": "bored"}, Cancel),
        ({"type": "authenticate", "token": "t", "refresh_token": "r"}, Authenticate),
    ],
)
def test_extra_fields_are_ignored(data: dict[str, Any], kind: type) -> None:
    frame = parse(data)
    assert isinstance(frame, kind)
    assert not hasattr(frame, "extra")
    assert not hasattr(frame, "priority")


def test_every_client_frame_type_has_a_model() -> None:
    minimal = {
        ClientFrame.USER_MESSAGE: {"content": "x"},
        ClientFrame.RESUME: {"after_seq": 0},
        ClientFrame.CANCEL: {"run_id": RUN},
        ClientFrame.AUTHENTICATE: {"token": "t"},
        ClientFrame.PING: {},
    }
    assert set(minimal) == set(ClientFrame)
    for kind, body in minimal.items():
        frame = parse({"type": kind.value, **body})
        assert isinstance(frame, FRAME_TYPES)
        assert frame.type == kind.value


def test_frames_are_immutable() -> None:
    frame = parse({"type": "user_message", "content": "x"})
    with pytest.raises(ValueError, match="frozen"):
        frame.content = "y"


# --- invalid JSON and shapes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "{",
        "}",
        "{'type': 'ping'}",
        '{"type": "ping",}',
        "ping",
        "{type: ping}",
        '{"type": "ping"} trailing',
        "\x00",
        "[1, 2",
        '"unterminated',
    ],
)
def test_invalid_json(text: str) -> None:
    result = error(text)
    assert result.code is ErrorCode.INVALID_JSON
    assert result.message.startswith("the frame is not JSON")


@pytest.mark.parametrize(
    "text", ["[]", '[{"type": "ping"}]', "1", "-3.5", '"ping"', "null", "true", "false"]
)
def test_non_object_json_is_an_invalid_message(text: str) -> None:
    result = error(text)
    assert result.code is ErrorCode.INVALID_MESSAGE
    assert result.message == "a frame must be a JSON object"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"type": None},
        {"type": 1},
        {"type": ["ping"]},
        {"type": {"v": "ping"}},
        {"kind": "ping"},
        {"type": True},
    ],
)
def test_missing_or_non_string_type(data: dict[str, Any]) -> None:
    result = error(data)
    assert result.code is ErrorCode.INVALID_MESSAGE
    assert fields(result) == ["type"]


@pytest.mark.parametrize(
    "kind", ["", "PING", "Ping", "pong", "error", "user-message", "subscribe", " ping"]
)
def test_unknown_type(kind: str) -> None:
    result = error({"type": kind})
    assert result.code is ErrorCode.UNKNOWN_TYPE
    for known in ClientFrame:
        assert known.value in result.message


def test_a_long_unknown_type_is_not_echoed_in_full() -> None:
    result = error({"type": "z" * 10_000})
    assert result.code is ErrorCode.UNKNOWN_TYPE
    assert "z" * 64 in result.message
    assert "z" * 65 not in result.message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "user_message"}, "content"),
        ({"type": "user_message", "content": ""}, "content"),
        ({"type": "user_message", "content": 5}, "content"),
        ({"type": "user_message", "content": None}, "content"),
        ({"type": "user_message", "content": ["hi"]}, "content"),
        ({"type": "user_message", "content": {"text": "hi"}}, "content"),
        ({"type": "user_message", "content": "x", "thread_id": "thr_bad"}, "thread_id"),
        ({"type": "user_message", "content": "x", "thread_id": RUN}, "thread_id"),
        ({"type": "user_message", "content": "x", "thread_id": THREAD.upper()}, "thread_id"),
        ({"type": "user_message", "content": "x", "thread_id": 5}, "thread_id"),
        ({"type": "user_message", "content": "x", "request_id": ""}, "request_id"),
        ({"type": "user_message", "content": "x", "request_id": "has space"}, "request_id"),
        ({"type": "user_message", "content": "x", "request_id": "r" * 65}, "request_id"),
        ({"type": "user_message", "content": "x", "request_id": "ünï"}, "request_id"),
        ({"type": "user_message", "content": "x", "request_id": 7}, "request_id"),
        ({"type": "resume"}, "after_seq"),
        ({"type": "resume", "after_seq": -1}, "after_seq"),
        ({"type": "resume", "after_seq": 1.0}, "after_seq"),
        ({"type": "resume", "after_seq": 1.5}, "after_seq"),
        ({"type": "resume", "after_seq": True}, "after_seq"),
        ({"type": "resume", "after_seq": False}, "after_seq"),
        ({"type": "resume", "after_seq": "3"}, "after_seq"),
        ({"type": "resume", "after_seq": None}, "after_seq"),
        ({"type": "cancel"}, "run_id"),
        ({"type": "cancel", "run_id": "run_x"}, "run_id"),
        ({"type": "cancel", "run_id": THREAD}, "run_id"),
        ({"type": "cancel", "run_id": 1}, "run_id"),
        ({"type": "authenticate"}, "token"),
        ({"type": "authenticate", "token": ""}, "token"),
        ({"type": "authenticate", "token": "t" * 8193}, "token"),
        ({"type": "authenticate", "token": 1}, "token"),
    ],
)
def test_invalid_fields_are_named(data: dict[str, Any], field: str) -> None:
    result = error(data)
    assert result.code is ErrorCode.INVALID_MESSAGE
    assert result.message == f"invalid {data['type']} frame"
    assert field in fields(result)
    assert all(d["problem"] for d in result.details or [])


def test_every_invalid_field_is_reported() -> None:
    result = error({"type": "user_message", "content": "", "thread_id": "x", "request_id": "?"})
    assert sorted(fields(result)) == ["content", "request_id", "thread_id"]


@pytest.mark.parametrize(
    "data",
    [
        {"type": "user_message", "content": "", "request_id": "req-7"},
        {"type": "user_message", "content": 3, "thread_id": "bad", "request_id": "req-7"},
        {"type": "resume", "after_seq": -1, "request_id": "req-7"},
    ],
)
def test_a_valid_request_id_is_echoed_on_error(data: dict[str, Any]) -> None:
    result = error(data)
    assert result.request_id == "req-7"
    assert result.to_frame()["request_id"] == "req-7"


@pytest.mark.parametrize("request_id", ["has space", "", "r" * 65, 7, None, ["req-7"], "<x>"])
def test_an_invalid_request_id_is_not_echoed(request_id: Any) -> None:
    result = error({"type": "user_message", "content": "", "request_id": request_id})
    assert result.request_id is None
    assert "request_id" not in result.to_frame()


# --- Refusal.to_frame --------------------------------------------------------------------


def test_to_frame_minimal() -> None:
    assert Refusal(ErrorCode.INVALID_JSON, "bad").to_frame() == {
        "type": "error",
        "code": "invalid_json",
        "message": "bad",
    }


def test_to_frame_full() -> None:
    details = [{"field": "content", "problem": "required"}]
    frame = Refusal(ErrorCode.INVALID_MESSAGE, "m", details, "req-1").to_frame()
    assert frame == {
        "type": "error",
        "code": "invalid_message",
        "message": "m",
        "details": details,
        "request_id": "req-1",
    }
    json.dumps(frame)  # sendable as is


def test_to_frame_omits_empty_details() -> None:
    assert "details" not in Refusal(ErrorCode.UNKNOWN_TYPE, "m", []).to_frame()


def test_every_parse_error_serialises_as_json() -> None:
    for text in ("{", "[]", "{}", '{"type":"x"}', '{"type":"resume","after_seq":-1}'):
        result = parse_frame(text)
        assert isinstance(result, Refusal)
        assert json.loads(json.dumps(result.to_frame()))["type"] == "error"


# --- never raises ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 20_000 + "]" * 20_000, id="nested-arrays"),
        pytest.param(
            '{"type": "ping", "x": ' + "[" * 20_000 + "]" * 20_000 + "}", id="nested-field"
        ),
        pytest.param('{"a":' * 10_000 + "1" + "}" * 10_000, id="nested-objects"),
    ],
)
def test_deeply_nested_json_within_the_frame_limit_is_an_error_not_a_crash(text: str) -> None:
    assert len(text.encode()) <= MAX_FRAME_BYTES
    result = parse_frame(text)
    assert isinstance(result, Refusal)
    assert result.code in (ErrorCode.INVALID_JSON, ErrorCode.INVALID_MESSAGE)


@pytest.mark.parametrize(
    "data",
    [{"type": "user_message", "content": "\ud800"}, {"type": "authenticate", "token": "\udfff"}],
)
def test_lone_surrogates_are_an_invalid_message(data: dict[str, Any]) -> None:
    result = error(data)
    assert result.code is ErrorCode.INVALID_MESSAGE


@given(st.text(max_size=500))
def test_parse_frame_never_raises_for_arbitrary_text(text: str) -> None:
    result = parse_frame(text)
    assert isinstance(result, (*FRAME_TYPES, Refusal))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
FIELD_VALUES = {
    "type": st.sampled_from([k.value for k in ClientFrame]) | JSON,
    "content": st.text(max_size=20) | JSON,
    "thread_id": st.just(THREAD) | st.none() | JSON,
    "request_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | JSON,
    "after_seq": st.integers(min_value=-5) | JSON,
    "run_id": st.just(RUN) | JSON,
    "token": st.text(max_size=20) | JSON,
}


@given(
    st.fixed_dictionaries({}, optional=FIELD_VALUES),
    st.dictionaries(st.text(max_size=8), JSON, max_size=3),
)
def test_parse_frame_answers_a_frame_or_an_error_for_any_object(
    known: dict[str, Any], extra: dict[str, Any]
) -> None:
    data = {**extra, **known}
    result = parse(data)
    assert isinstance(result, (*FRAME_TYPES, Refusal))
    if isinstance(result, Refusal):
        frame = result.to_frame()
        assert frame["type"] == "error"
        assert frame["code"] in {e.value for e in ErrorCode}
        if "request_id" in frame:
            assert RequestID.is_valid(frame["request_id"])
    else:
        assert result.type == data["type"]
