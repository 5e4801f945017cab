"""Threads, runs, events, search and usage: always the bearer's own, another's answers 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status

from golden_path.db import events, messages, runs, search, threads, usage
from golden_path.ids import MessageID, RunID, ThreadID
from golden_path.server.api.cursors import decode_cursor, encode_cursor
from golden_path.server.api.deps import Bearer, State, own_rows

router = APIRouter()
NOT_FOUND = "not found"
Limit = Annotated[int, Query(ge=1, le=100)]
MESSAGES_PAGE = 100  # a thread's messages per page by default (and at most)


def _not_found(kind: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{kind} {NOT_FOUND}")


INVALID_CURSOR = HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid cursor")
MAX_OFFSET = 10_000  # search pages beyond this are not served: refine the query instead


def _keyset(data: dict[str, Any], id_is_valid: Callable[[object], bool]) -> tuple[datetime, str]:
    """The keyset (moment, id) a page cursor names; 422 for anything that is not one we issued."""
    moment, identifier = data.get("t"), data.get("id")
    if not isinstance(moment, str) or not id_is_valid(identifier):
        raise INVALID_CURSOR
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        raise INVALID_CURSOR from None
    if parsed.tzinfo is None:
        raise INVALID_CURSOR
    return parsed, str(identifier)


def _thread_cursor(data: dict[str, Any]) -> tuple[datetime, str]:
    return _keyset(data, ThreadID.is_valid)


@router.get("/threads", tags=["threads"])
async def list_threads(
    claims: Bearer,
    state: State,
    archived: bool = False,
    limit: Limit = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The user's threads, newest activity first (archived ones only with ``archived=true``)."""
    after = None
    if cursor:
        after = _thread_cursor(decode_cursor(cursor))
    async with own_rows(state, claims) as conn:
        page = await threads.page(
            conn, claims.user_id, archived=archived, limit=limit + 1, after=after
        )
    items, more = page[:limit], len(page) > limit
    next_cursor = (
        encode_cursor({"t": items[-1].last_activity_at.isoformat(), "id": str(items[-1].id)})
        if more
        else None
    )
    return {"threads": [t.to_dict() for t in items], "next_cursor": next_cursor}


def _message_cursor(data: dict[str, Any]) -> tuple[datetime, str]:
    return _keyset(data, MessageID.is_valid)


@router.get("/threads/{thread_id}", tags=["threads"])
async def get_thread(
    thread_id: str,
    claims: Bearer,
    state: State,
    limit: Limit = MESSAGES_PAGE,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The thread and a page of its messages, oldest first (``next_cursor`` for the rest)."""
    after = _message_cursor(decode_cursor(cursor)) if cursor else None
    if not ThreadID.is_valid(thread_id):
        raise _not_found("thread")
    async with own_rows(state, claims) as conn:
        thread = await threads.get(conn, claims.user_id, thread_id)
        if thread is None:
            raise _not_found("thread")
        page = await messages.page_for_thread(
            conn, claims.user_id, ThreadID(thread.id), limit=limit + 1, after=after
        )
    items, more = page[:limit], len(page) > limit
    next_cursor = None
    if more:
        moment, message_id = items[-1][1]
        next_cursor = encode_cursor({"t": moment.isoformat(), "id": message_id})
    return {
        **thread.to_dict(),
        "messages": [message for message, _ in items],
        "next_cursor": next_cursor,
    }


@router.post("/threads/{thread_id}/archive", tags=["threads"])
async def archive_thread(thread_id: str, claims: Bearer, state: State) -> dict[str, Any]:
    if not ThreadID.is_valid(thread_id):
        raise _not_found("thread")
    async with own_rows(state, claims) as conn:
        thread = await threads.archive(conn, claims.user_id, thread_id)
    if thread is None:
        raise _not_found("thread")
    return thread.to_dict()


@router.get("/runs/{run_id}", tags=["runs"])
async def get_run(run_id: str, claims: Bearer, state: State) -> dict[str, Any]:
    if not RunID.is_valid(run_id):
        raise _not_found("run")
    async with own_rows(state, claims) as conn:
        run = await runs.get(conn, claims.user_id, run_id)
        if run is None:
            raise _not_found("run")
        run_events = await events.for_run(conn, claims.user_id, run_id)
    return {**run.to_dict(), "events": run_events}


@router.get("/events", tags=["events"])
async def get_events(
    claims: Bearer,
    state: State,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """The same stream as ``resume``: the user's events with ``seq > after_seq``, in order."""
    async with own_rows(state, claims) as conn:
        page = await events.after(conn, claims.user_id, after_seq, limit=limit)
    last = page[-1]["seq"] if page else after_seq
    return {"events": page, "last_seq": last, "more": len(page) == limit}


@router.get("/search", tags=["search"])
async def search_messages(
    claims: Bearer,
    state: State,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    thread_id: str | None = None,
    role: Literal["user", "assistant"] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Full-text search over the user's own messages, best match first."""
    offset = 0
    if cursor:
        value = decode_cursor(cursor).get("o")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_OFFSET:
            raise INVALID_CURSOR
        offset = value
    if "\x00" in q:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "q contains a NUL character")
    if thread_id is not None and not ThreadID.is_valid(thread_id):
        return {"results": [], "next_cursor": None}  # no thread by that id: nothing matches
    # A date-time without an offset is UTC, like every time the protocol writes.
    since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
    until = until.replace(tzinfo=UTC) if until is not None and until.tzinfo is None else until
    filters = search.SearchFilters(q, thread_id, role, since, until)
    async with own_rows(state, claims) as conn:
        hits = await search.search(conn, claims.user_id, filters, limit=limit + 1, offset=offset)
    more = len(hits) > limit
    return {
        "results": hits[:limit],
        "next_cursor": encode_cursor({"o": offset + limit}) if more else None,
    }


@router.get("/usage", tags=["usage"])
async def get_usage(
    claims: Bearer, state: State, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """Runs, tokens and cost by UTC day; each run is billed exactly once."""
    async with own_rows(state, claims) as conn:
        days = await usage.by_day(conn, claims.user_id, since, until)
    totals = {
        "runs": sum(d["runs"] for d in days),
        "input_tokens": sum(d["input_tokens"] for d in days),
        "output_tokens": sum(d["output_tokens"] for d in days),
        "cost_usd": round(sum(d["cost_usd"] for d in days), 6),
    }
    return {"days": days, "totals": totals}
