"""Typed identifiers: each kind accepts its own values and refuses everything else, loudly."""

from __future__ import annotations

import json
import re
import string
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from golden_path.ids import (
    ALL_ID_TYPES,
    ConnectionID,
    EventID,
    MessageID,
    RequestID,
    RunID,
    ThreadID,
    ToolCallID,
    UserID,
)
from golden_path.testing.v1 import strategies as gps

if TYPE_CHECKING:
    from golden_path.ids import _Identifier

pytestmark = [
    pytest.mark.stage("auth"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a malformed or mixed-up id is refused where it enters, so one customer's "
        "thread or run can never be addressed with another kind's id",
        revenue_impact="prevents cross-account data mix-ups that would cost trust and accounts",
    ),
]

IdKind: TypeAlias = "type[_Identifier]"
PREFIXED: tuple[IdKind, ...] = tuple(kind for kind in ALL_ID_TYPES if kind is not RequestID)
EXPECTED_PREFIXES = {
    UserID: "usr_",
    ThreadID: "thr_",
    RunID: "run_",
    MessageID: "msg_",
    EventID: "evt_",
    ConnectionID: "conn_",
    ToolCallID: "tc_",
    RequestID: "req_",
}
HEX32 = "0123456789abcdef" * 2
_CLIENT_ALPHABET = string.ascii_letters + string.digits + "_-"


def _assert_refused(kind: IdKind, value: object) -> None:
    """``kind(value)`` raises a ValueError that names the kind and shows the bad value."""
    with pytest.raises(ValueError, match=re.escape(f"invalid {kind.__name__}: {value!r}")):
        kind(value)


def test_every_identifier_type_is_listed_with_its_protocol_prefix() -> None:
    assert {t: t.prefix for t in ALL_ID_TYPES} == EXPECTED_PREFIXES


@pytest.mark.parametrize("kind", ALL_ID_TYPES, ids=lambda t: t.__name__)
def test_minted_value_is_accepted_by_its_own_kind(kind: IdKind) -> None:
    minted = kind.new()
    assert type(minted) is kind
    assert re.fullmatch(re.escape(kind.prefix) + "[0-9a-f]{32}", minted)
    assert kind(str(minted)) == minted
    assert kind.is_valid(str(minted))
    assert kind(minted) is minted  # an already-typed value is passed through unchanged
    assert json.dumps(minted) == json.dumps(str(minted))  # serialises as a plain string
    assert repr(minted) == f"{kind.__name__}('{minted}')"
    assert kind.new() != minted  # each mint is fresh


@pytest.mark.parametrize("kind", PREFIXED, ids=lambda t: t.__name__)
def test_prefixed_kind_rejects_every_other_kinds_minted_values(kind: IdKind) -> None:
    for other in ALL_ID_TYPES:
        if other is kind:
            continue
        value = str(other.new())
        assert not kind.is_valid(value)
        _assert_refused(kind, value)


def test_request_id_accepts_any_kinds_value_as_a_client_key() -> None:
    # A RequestID is the client's idempotency key: any 1-64 of [A-Za-z0-9_-] is fine,
    # which includes every server-minted identifier shape.
    for other in ALL_ID_TYPES:
        value = str(other.new())
        assert RequestID(value) == value


MALFORMED_CASES: dict[str, Callable[[str], str]] = {
    "uppercase hex": lambda p: p + "ABCDEF0123456789" * 2,
    "one uppercase digit": lambda p: p + "A" + HEX32[1:],
    "31 hex digits": lambda p: p + HEX32[:31],
    "33 hex digits": lambda p: p + HEX32 + "0",
    "missing prefix": lambda p: HEX32,
    "prefix without underscore": lambda p: p.rstrip("_") + HEX32,
    "uppercase prefix": lambda p: p.upper() + HEX32,
    "prefix only": lambda p: p,
    "empty": lambda p: "",
    "dashed uuid": lambda p: p + "01234567-89ab-cdef-0123-456789abcdef",
    "non-hex letter": lambda p: p + "g" + HEX32[1:],
    "trailing newline": lambda p: p + HEX32 + "\n",
    "leading space": lambda p: " " + p + HEX32,
}


@pytest.mark.parametrize("case", sorted(MALFORMED_CASES))
def test_prefixed_kinds_reject_malformed_values(case: str) -> None:
    for kind in PREFIXED:
        value = MALFORMED_CASES[case](kind.prefix)
        assert not kind.is_valid(value)
        _assert_refused(kind, value)


@pytest.mark.parametrize("value", [None, 42, 3.5, b"usr_" + HEX32.encode(), ["usr_" + HEX32]])
def test_non_strings_are_a_value_error_for_every_kind(value: object) -> None:
    for kind in ALL_ID_TYPES:
        assert not kind.is_valid(value)
        _assert_refused(kind, value)


def test_error_message_says_what_was_expected() -> None:
    with pytest.raises(ValueError, match="'usr_' followed by 32 lowercase hex digits"):
        UserID("usr_nope")
    with pytest.raises(ValueError, match=re.escape("1 to 64 characters of [A-Za-z0-9_-]")):
        RequestID("")


@pytest.mark.parametrize(
    "value",
    ["a", "-", "x" * 64, "Client-Key_01", "req_" + HEX32],
)
def test_request_id_accepts_client_keys_of_1_to_64_allowed_chars(value: str) -> None:
    assert RequestID(value) == value
    assert RequestID.is_valid(value)


@pytest.mark.parametrize(
    "value",
    ["", "x" * 65, "has space", "dot.ted", "é", "new\nline"],
)
def test_request_id_rejects_bad_client_keys(value: str) -> None:
    assert not RequestID.is_valid(value)
    _assert_refused(RequestID, value)


def test_request_id_length_boundary_is_64() -> None:
    RequestID("k" * 64)
    _assert_refused(RequestID, "k" * 65)


def test_server_minted_request_id_is_req_and_32_hex() -> None:
    minted = RequestID.new()
    assert re.fullmatch(r"req_[0-9a-f]{32}", minted)


class _Envelope(BaseModel):
    user_id: UserID
    thread_id: ThreadID | None = None
    request_id: RequestID


def test_pydantic_fields_validate_and_give_typed_values() -> None:
    user, thread = UserID.new(), ThreadID.new()
    model = _Envelope.model_validate(
        {"user_id": str(user), "thread_id": str(thread), "request_id": "abc"}
    )
    assert type(model.user_id) is UserID
    assert model.user_id == user
    assert type(model.thread_id) is ThreadID
    assert model.thread_id == thread
    assert type(model.request_id) is RequestID
    assert model.model_dump() == {"user_id": user, "thread_id": thread, "request_id": "abc"}
    assert json.loads(model.model_dump_json()) == {
        "user_id": str(user),
        "thread_id": str(thread),
        "request_id": "abc",
    }


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("user_id", "usr_" + "A" * 32, "UserID"),
        ("user_id", "thr_" + HEX32, "UserID"),
        ("thread_id", "usr_" + HEX32, "ThreadID"),
        ("request_id", "x" * 65, "RequestID"),
    ],
)
def test_pydantic_field_rejects_the_wrong_value_naming_the_kind(
    field: str, value: str, kind: str
) -> None:
    payload = {"user_id": str(UserID.new()), "request_id": "ok", field: value}
    with pytest.raises(ValidationError) as caught:
        _Envelope.model_validate(payload)
    errors = caught.value.errors()
    assert [e["loc"][0] for e in errors] == [field]
    assert f"invalid {kind}" in str(caught.value)


def test_pydantic_field_rejects_non_string_input() -> None:
    with pytest.raises(ValidationError):
        _Envelope.model_validate({"user_id": 12345, "request_id": "ok"})


@given(st.uuids(version=4))
def test_any_uuid4_hex_with_the_prefix_is_accepted_by_each_kind(value: uuid.UUID) -> None:
    for kind in PREFIXED:
        text = kind.prefix + value.hex
        assert kind(text) == text
        assert str(kind(text)) == text


@given(st.uuids())
def test_uppercased_uuid_hex_is_refused(value: uuid.UUID) -> None:
    upper = value.hex.upper()
    for kind in PREFIXED:
        text = kind.prefix + upper
        assert kind.is_valid(text) == (upper == value.hex)


@given(st.text(alphabet=_CLIENT_ALPHABET, min_size=1, max_size=64))
def test_any_short_key_of_the_allowed_alphabet_is_a_request_id(value: str) -> None:
    assert RequestID(value) == value


@given(st.text(min_size=1, max_size=80))
def test_request_id_accepts_exactly_the_documented_keys(value: str) -> None:
    allowed = len(value) <= 64 and all(c in _CLIENT_ALPHABET for c in value)
    assert RequestID.is_valid(value) == allowed
    if not allowed:
        with pytest.raises(ValueError, match="invalid RequestID"):
            RequestID(value)


@given(
    st.one_of(
        gps.user_ids(),
        gps.thread_ids(),
        gps.run_ids(),
        gps.message_ids(),
        gps.event_ids(),
        gps.connection_ids(),
        gps.tool_call_ids(),
    )
)
def test_strategy_values_belong_to_exactly_one_prefixed_kind(value: str) -> None:
    owners = [kind for kind in PREFIXED if kind.is_valid(value)]
    assert owners == [type(value)]


@given(gps.request_ids())
def test_request_id_strategy_yields_valid_request_ids(value: RequestID) -> None:
    assert type(value) is RequestID
    assert RequestID.is_valid(str(value))
