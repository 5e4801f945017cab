"""Client frames of protocol v1: parsed and validated, or turned into the refusal they deserve."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from golden_path.ids import RequestID, RunID, ThreadID
from golden_path.protocol import ClientFrame, ErrorCode
from golden_path.server.refusal import Refusal


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UserMessage(_Frame):
    type: Literal["user_message"]
    content: Annotated[str, StringConstraints(min_length=1)]
    thread_id: ThreadID | None = None
    request_id: RequestID | None = None

    @field_validator("content")
    @classmethod
    def _storable(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("content must not contain NUL characters")
        return value


class Resume(_Frame):
    type: Literal["resume"]
    after_seq: Annotated[int, Field(ge=0, strict=True)]


class Cancel(_Frame):
    type: Literal["cancel"]
    run_id: RunID


class Authenticate(_Frame):
    type: Literal["authenticate"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class Ping(_Frame):
    type: Literal["ping"]


Frame = UserMessage | Resume | Cancel | Authenticate | Ping
_MODELS: dict[str, type[_Frame]] = {
    ClientFrame.USER_MESSAGE: UserMessage,
    ClientFrame.RESUME: Resume,
    ClientFrame.CANCEL: Cancel,
    ClientFrame.AUTHENTICATE: Authenticate,
    ClientFrame.PING: Ping,
}


def parse_frame(text: str) -> Frame | Refusal:
    """The frame ``text`` encodes, or the error to answer it with (the connection stays open)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Refusal(ErrorCode.INVALID_JSON, f"the frame is not JSON: {exc.msg}")
    except RecursionError:
        return Refusal(ErrorCode.INVALID_JSON, "the frame is nested too deeply")
    if not isinstance(data, dict):
        return Refusal(ErrorCode.INVALID_MESSAGE, "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        return Refusal(
            ErrorCode.INVALID_MESSAGE,
            "the frame has no string 'type'",
            [{"field": "type", "problem": "required string"}],
        )
    model = _MODELS.get(kind)
    if model is None:
        known = ", ".join(_MODELS)
        return Refusal(ErrorCode.UNKNOWN_TYPE, f"unknown type {kind[:64]!r}; known: {known}")
    try:
        frame = model.model_validate(data)
    except ValidationError as exc:
        request_id = data.get("request_id")
        return Refusal(
            ErrorCode.INVALID_MESSAGE,
            f"invalid {kind} frame",
            [
                {"field": ".".join(str(p) for p in err["loc"]) or "type", "problem": err["msg"]}
                for err in exc.errors()
            ],
            request_id=str(request_id) if RequestID.is_valid(request_id) else None,
        )
    assert isinstance(frame, UserMessage | Resume | Cancel | Authenticate | Ping)
    return frame
