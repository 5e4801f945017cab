"""The exact error frames a client gets for an unreadable or untyped frame.

Written from mutation testing (see docs/testing.md): the frame tests elsewhere check
error codes, so the message and the ``details`` a client shows its developer were
not pinned.
"""

from __future__ import annotations

import pytest

from golden_path.server.refusal import Refusal
from golden_path.server.ws.frames import parse_frame

pytestmark = [
    pytest.mark.stage("websocket"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="Client developers debug their integration from the error frame alone; "
        "a message that names the problem and a details list with fixed keys is what they read.",
        revenue_impact="Integrations that fail with clear errors get fixed instead of "
        "abandoned; every working integration is a paying seat.",
    ),
]


def _error(text: str) -> dict[str, object]:
    result = parse_frame(text)
    assert isinstance(result, Refusal), result
    return result.to_frame()


def test_a_too_deeply_nested_frame_is_named_as_such() -> None:
    assert _error("[" * 100_000) == {
        "type": "error",
        "code": "invalid_json",
        "message": "the frame is nested too deeply",
    }


@pytest.mark.parametrize("text", ['{"type": 5}', "{}", '{"type": null, "content": "hi"}'])
def test_a_frame_without_a_string_type_names_the_type_field(text: str) -> None:
    assert _error(text) == {
        "type": "error",
        "code": "invalid_message",
        "message": "the frame has no string 'type'",
        "details": [{"field": "type", "problem": "required string"}],
    }


def test_an_unknown_type_lists_the_known_types() -> None:
    assert _error('{"type": "subscribe"}') == {
        "type": "error",
        "code": "unknown_type",
        "message": "unknown type 'subscribe'; known: "
        "user_message, resume, cancel, authenticate, ping",
    }


def test_an_invalid_frame_lists_each_field_and_its_problem() -> None:
    assert _error('{"type": "resume", "after_seq": -1, "request_id": "req_1"}') == {
        "type": "error",
        "code": "invalid_message",
        "message": "invalid resume frame",
        "details": [
            {"field": "after_seq", "problem": "Input should be greater than or equal to 0"}
        ],
        "request_id": "req_1",
    }
