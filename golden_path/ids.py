"""Typed identifiers of protocol v1 (one type per kind, checked where a value enters).

Every server-minted identifier is a prefix, an underscore and 32 lowercase hex
digits (a UUID4 without dashes). Each kind is its own ``str`` subclass, so a
type checker tells a ``UserID`` from a ``ThreadID`` while the value still
serialises as a plain string. Constructing one validates the format and raises
``ValueError`` naming the kind and the bad value.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar, Self

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_HEX32 = r"[0-9a-f]{32}"


class _Identifier(str):
    """Base of the typed identifiers: validates on construction, mints with ``new()``."""

    kind: ClassVar[str]
    prefix: ClassVar[str]
    pattern: ClassVar[re.Pattern[str]]

    __slots__ = ()

    def __init_subclass__(cls, *, kind: str, prefix: str, pattern: str | None = None) -> None:
        super().__init_subclass__()
        cls.kind = kind
        cls.prefix = prefix
        cls.pattern = re.compile(pattern if pattern is not None else re.escape(prefix) + _HEX32)

    def __new__(cls, value: object) -> Self:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str) or cls.pattern.fullmatch(value) is None:
            raise ValueError(f"invalid {cls.kind}: {value!r} (expected {cls.describe()})")
        return super().__new__(cls, value)

    @classmethod
    def describe(cls) -> str:
        return f"'{cls.prefix}' followed by 32 lowercase hex digits"

    @classmethod
    def new(cls) -> Self:
        """Mint a fresh identifier of this kind."""
        return cls(f"{cls.prefix}{uuid.uuid4().hex}")

    @classmethod
    def is_valid(cls, value: object) -> bool:
        return isinstance(value, str) and cls.pattern.fullmatch(value) is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )


class UserID(_Identifier, kind="UserID", prefix="usr_"):
    __slots__ = ()


class ThreadID(_Identifier, kind="ThreadID", prefix="thr_"):
    __slots__ = ()


class RunID(_Identifier, kind="RunID", prefix="run_"):
    __slots__ = ()


class MessageID(_Identifier, kind="MessageID", prefix="msg_"):
    __slots__ = ()


class EventID(_Identifier, kind="EventID", prefix="evt_"):
    __slots__ = ()


class ConnectionID(_Identifier, kind="ConnectionID", prefix="conn_"):
    __slots__ = ()


class ToolCallID(_Identifier, kind="ToolCallID", prefix="tc_"):
    __slots__ = ()


class InterruptID(_Identifier, kind="InterruptID", prefix="int_"):
    """An AG-UI run paused for the user's approval (protocol §12.1)."""

    __slots__ = ()


class RequestID(_Identifier, kind="RequestID", prefix="req_", pattern=r"[A-Za-z0-9_-]{1,64}"):
    """The client's idempotency key: 1-64 of ``[A-Za-z0-9_-]``; the server mints ``req_...``."""

    __slots__ = ()

    @classmethod
    def describe(cls) -> str:
        return "1 to 64 characters of [A-Za-z0-9_-]"


ALL_ID_TYPES: tuple[type[_Identifier], ...] = (
    UserID,
    ThreadID,
    RunID,
    MessageID,
    EventID,
    ConnectionID,
    ToolCallID,
    RequestID,
)
