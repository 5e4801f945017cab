"""How an unpaced stream is cut into writes (golden_path/testing/model/faults.py): a short
answer in one write that also ends the response, a long one starting after a few events
and then in batches, its chunks made as they are sent, never all at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from golden_path.testing.model import text
from golden_path.testing.model import wire_openai_chat as chat_wire
from golden_path.testing.model.conversation import Conversation
from golden_path.testing.model.faults import (
    BATCH_BYTES,
    FIRST_EVENTS,
    LastBatch,
    StreamCut,
    encode,
    stream,
)
from golden_path.testing.model.reply import Reply, reply_from_steps

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a scripted model answers at the speed of a real provider or faster, so "
        "a team's streaming path is tested without the model being the slow part",
        revenue_impact="a slow or memory-hungry scripted model makes the team's suite slow "
        "and flaky, and they stop running it",
    ),
]

CONV = Conversation(wire="openai_chat", model="m", stream=True)


async def writes(events: Iterator[tuple[str | None, object]], reply: Reply) -> list[bytes]:
    return [chunk async for chunk in stream(events, reply)]


async def test_a_short_stream_goes_out_in_one_write_marked_last() -> None:
    reply = reply_from_steps([text("Sunny in Paris.")], "s")
    events = list(chat_wire.events(CONV, reply, "s"))

    out = await writes(iter(events), reply)

    assert len(events) < FIRST_EVENTS
    assert len(out) == 1
    assert isinstance(out[0], LastBatch)
    assert out[0] == b"".join(encode(n, d) for n, d in events)


async def test_a_long_stream_starts_after_a_few_events_then_goes_in_batches() -> None:
    reply = reply_from_steps([text(" ".join(f"w{i}" for i in range(5000)))], "s")
    events = list(chat_wire.events(CONV, reply, "s"))

    out = await writes(iter(events), reply)

    assert out[0] == b"".join(encode(n, d) for n, d in events[:FIRST_EVENTS])
    assert all(len(chunk) < BATCH_BYTES + 1024 for chunk in out)
    assert [isinstance(chunk, LastBatch) for chunk in out] == [False] * (len(out) - 1) + [True]
    assert b"".join(out) == b"".join(encode(n, d) for n, d in events)


async def test_a_stream_is_made_as_it_is_sent_not_before() -> None:
    reply = reply_from_steps([text(" ".join(f"w{i}" for i in range(5000)))], "s")
    assert not isinstance(chat_wire.events(CONV, reply, "s"), Sequence)  # made lazily
    made = 0

    def counted() -> Iterator[tuple[str | None, object]]:
        nonlocal made
        for event in chat_wire.events(CONV, reply, "s"):
            made += 1
            yield event

    first = await anext(stream(counted(), reply))

    assert first.count(b"data: ") == FIRST_EVENTS
    assert made == FIRST_EVENTS  # the other 4,993 chunks do not exist yet


async def test_a_cut_stream_sends_what_came_before_and_no_last_batch() -> None:
    reply = reply_from_steps([text("one two three four five six")], "s")
    reply.cut_after = 3
    out: list[bytes] = []

    async def send_all() -> None:
        async for chunk in stream(chat_wire.events(CONV, reply, "s"), reply):
            out.append(chunk)

    with pytest.raises(StreamCut):
        await send_all()
    assert b"".join(out).count(b"data: ") == 3
    assert not any(isinstance(chunk, LastBatch) for chunk in out)
