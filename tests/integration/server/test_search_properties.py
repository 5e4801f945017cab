"""Properties of full-text search over generated corpora, on real PostgreSQL.

Every example writes a small corpus of its own (fresh users, their threads, messages
whose content is drawn from a vocabulary of English words with distinct stems, dated
on a coarse grid so timestamps collide and filter bounds land exactly on them) and
checks ``search()`` against a Python model of that corpus: a message matches a word
iff its content contains the word. Nothing is cleaned: other examples' and other
tests' rows stay in the database, so isolation is checked against real neighbours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_path.db import messages, search, threads, users
from golden_path.db.search import SearchFilters
from golden_path.ids import MessageID, ThreadID, UserID
from tests.integration.server.conftest import PASSWORD_HASH, unique_email

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="search over a user's own history finds exactly the messages that match "
        "the words and filters asked for, in a stable ranked order that pages without gaps, "
        "and never surfaces another customer's messages",
        revenue_impact="a search that leaks another tenant's text is a privacy incident; one "
        "that drops, repeats or misfilters matches makes saved history untrustworthy and "
        "erodes the reason users return to past answers",
    ),
]

# Each word has its own English stem (checked against PostgreSQL once per test below),
# and none is a stop word, so "content contains the word" is exactly "search matches".
VOCABULARY = (
    "optimize",
    "costs",
    "tokens",
    "model",
    "report",
    "forecast",
    "budget",
    "savings",
    "invoice",
    "latency",
)
ROLES = ("user", "assistant")
BASE = datetime(2025, 3, 1, tzinfo=UTC)
HOURS = (0, 6, 12)
BIG_LIMIT = 1000  # far above the largest corpus (3 users x 3 threads x 8 messages)

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# -- the corpus and its model --------------------------------------------------------------


def _moment(day: int, hour: int) -> datetime:
    return BASE + timedelta(days=day, hours=hour)


moments = st.builds(_moment, st.integers(0, 5), st.sampled_from(HOURS))
bounds = st.builds(_moment, st.integers(-1, 6), st.sampled_from(HOURS))


@dataclass(frozen=True)
class MessageSpec:
    role: str
    words: tuple[str, ...]
    created_at: datetime


message_specs = st.builds(
    MessageSpec,
    role=st.sampled_from(ROLES),
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5).map(tuple),
    created_at=moments,
)
# users -> threads -> messages
corpora = st.lists(
    st.lists(st.lists(message_specs, min_size=1, max_size=8), min_size=1, max_size=3),
    min_size=1,
    max_size=3,
)


@dataclass(frozen=True)
class Stored:
    id: MessageID
    user_id: UserID
    thread_id: ThreadID
    role: str
    content: str
    words: frozenset[str]
    created_at: datetime


@dataclass(frozen=True)
class Corpus:
    user_ids: list[UserID]
    thread_ids: dict[UserID, list[ThreadID]]
    messages: dict[MessageID, Stored]

    def owned_by(self, user_id: UserID) -> set[MessageID]:
        return {m.id for m in self.messages.values() if m.user_id == user_id}


async def _store(conn: asyncpg.Connection, spec: list[list[list[MessageSpec]]]) -> Corpus:
    """Write the corpus for fresh users, then backdate every message in one statement."""
    user_ids: list[UserID] = []
    thread_ids: dict[UserID, list[ThreadID]] = {}
    stored: dict[MessageID, Stored] = {}
    async with conn.transaction():
        for user_threads in spec:
            user = await users.create(conn, unique_email("search"), PASSWORD_HASH)
            user_ids.append(user.id)
            thread_ids[user.id] = []
            for thread_messages in user_threads:
                thread = await threads.create(conn, user.id, f"t-{uuid.uuid4().hex[:6]}")
                thread_ids[user.id].append(thread.id)
                for m in thread_messages:
                    content = " ".join(m.words)
                    message_id = await messages.insert(
                        conn,
                        user_id=user.id,
                        thread_id=thread.id,
                        role=m.role,  # type: ignore[arg-type]
                        content=content,
                    )
                    stored[message_id] = Stored(
                        message_id,
                        user.id,
                        thread.id,
                        m.role,
                        content,
                        frozenset(m.words),
                        m.created_at,
                    )
        await conn.execute(
            "UPDATE messages m SET created_at = v.at "
            "FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at) WHERE m.id = v.id",
            list(stored),
            [m.created_at for m in stored.values()],
        )
    return Corpus(user_ids, thread_ids, stored)


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]
    any_of: bool  # "a or b" rather than "a b" (websearch_to_tsquery: | rather than &)

    @property
    def text(self) -> str:
        return (" or " if self.any_of else " ").join(self.words)

    def matches(self, words: frozenset[str]) -> bool:
        hits = (w in words for w in self.words)
        return any(hits) if self.any_of else all(hits)


queries = st.builds(
    Query,
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=2, unique=True).map(tuple),
    any_of=st.booleans(),
)


def _satisfies(m: Stored, f: SearchFilters) -> bool:
    return (
        (f.thread_id is None or m.thread_id == f.thread_id)
        and (f.role is None or m.role == f.role)
        and (f.since is None or m.created_at >= f.since)
        and (f.until is None or m.created_at < f.until)
    )


def _expected(corpus: Corpus, user_id: UserID, query: Query, f: SearchFilters) -> set[MessageID]:
    return {
        m.id
        for m in corpus.messages.values()
        if m.user_id == user_id and query.matches(m.words) and _satisfies(m, f)
    }


@st.composite
def filters_for(draw: st.DrawFn, corpus: Corpus, text: str) -> SearchFilters:
    """Filters whose thread may be the searcher's, another user's, or absent."""
    all_threads = [t for ts in corpus.thread_ids.values() for t in ts]
    # Bounds land on stored timestamps half the time, so inclusive/exclusive is exercised.
    stored_moments = sorted({m.created_at for m in corpus.messages.values()})
    moment_or_grid = st.sampled_from(stored_moments) | bounds
    return SearchFilters(
        text,
        thread_id=draw(st.none() | st.sampled_from(all_threads)),
        role=draw(st.none() | st.sampled_from(ROLES)),
        since=draw(st.none() | moment_or_grid),
        until=draw(st.none() | moment_or_grid),
    )


async def _search(
    conn: asyncpg.Connection,
    user_id: UserID,
    f: SearchFilters,
    limit: int = BIG_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    return await search.search(conn, user_id, f, limit=limit, offset=offset)


async def _assert_vocabulary_stems_distinct(conn: asyncpg.Connection) -> None:
    """The model's premise: one lexeme per word, all different (no stop words)."""
    lexemes = await conn.fetch(
        "SELECT w, tsvector_to_array(to_tsvector('english', w)) AS lex FROM unnest($1::text[]) w",
        list(VOCABULARY),
    )
    found = {r["w"]: tuple(r["lex"]) for r in lexemes}
    assert all(len(lex) == 1 for lex in found.values()), found
    assert len({lex for lex in found.values()}) == len(VOCABULARY), found


# -- properties ----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_results_are_only_the_searchers_own_messages(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        corpus = await _store(conn, spec)
        for user_id in corpus.user_ids:
            query = data.draw(queries, label="query")
            f = data.draw(filters_for(corpus, query.text), label="filters")
            found = await _search(conn, user_id, f)
            ids = {m["message_id"] for m in found}
            others = set(corpus.messages) - corpus.owned_by(user_id)
            assert ids <= corpus.owned_by(user_id), (user_id, f, found)
            assert not ids & others
            # Every returned row carries its own content, unchanged.
            for m in found:
                assert m["content"] == corpus.messages[m["message_id"]].content


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_results_are_exactly_the_matches_that_satisfy_every_filter(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        await _assert_vocabulary_stems_distinct(conn)
        corpus = await _store(conn, spec)
        searcher = data.draw(st.sampled_from(corpus.user_ids), label="searcher")
        for _ in range(6):
            query = data.draw(queries, label="query")
            f = data.draw(filters_for(corpus, query.text), label="filters")
            found = await _search(conn, searcher, f)
            for m in found:
                stored = corpus.messages[m["message_id"]]
                assert query.matches(stored.words), (query, stored)
                assert _satisfies(stored, f), (f, stored)
                # What is returned agrees with what was stored.
                assert m["thread_id"] == stored.thread_id
                assert m["role"] == stored.role
                assert datetime.fromisoformat(m["created_at"]) == stored.created_at
                assert m["rank"] > 0
            ids = [m["message_id"] for m in found]
            assert len(ids) == len(set(ids)), found
            assert set(ids) == _expected(corpus, searcher, query, f), (query.text, f)


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_offset_pages_reassemble_the_full_result_list(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        corpus = await _store(conn, spec)
        searcher = data.draw(st.sampled_from(corpus.user_ids), label="searcher")
        query = data.draw(queries, label="query")
        # Few filters, so the full list is usually long enough to span several pages.
        f = SearchFilters(
            query.text, role=data.draw(st.none() | st.sampled_from(ROLES), label="role")
        )
        size = data.draw(st.integers(1, 3), label="page size")
        full = await _search(conn, searcher, f)
        walked: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await _search(conn, searcher, f, limit=size, offset=offset)
            assert len(page) <= size
            walked.extend(page)
            if len(page) < size:
                break
            offset += size
        assert [m["message_id"] for m in walked] == [m["message_id"] for m in full]
        assert walked == full
        # One page past the end is empty, not a repeat of the last.
        assert await _search(conn, searcher, f, limit=size, offset=len(full)) == []


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_results_are_ranked_then_newest_then_highest_id(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        corpus = await _store(conn, spec)
        searcher = data.draw(st.sampled_from(corpus.user_ids), label="searcher")
        for _ in range(3):
            query = data.draw(queries, label="query")
            # Few filters, so many results share a rank and the tie-breaks decide.
            f = SearchFilters(query.text, role=data.draw(st.none() | st.sampled_from(ROLES)))
            found = await _search(conn, searcher, f)
            # The unrounded rank, as PostgreSQL computes it, of every message of the corpus.
            raw = {
                r["id"]: r["rank"]
                for r in await conn.fetch(
                    "SELECT id, ts_rank(search, websearch_to_tsquery('english', $2)) AS rank "
                    "FROM messages WHERE id = ANY($1::text[])",
                    list(corpus.messages),
                    query.text,
                )
            }
            ranks = [m["rank"] for m in found]
            assert ranks == sorted(ranks, reverse=True), found
            for m in found:
                assert m["rank"] == round(float(raw[m["message_id"]]), 6)
            # Ties in rank are broken by created_at, newest first, then by id, highest first.
            keys = [
                (raw[m["message_id"]], corpus.messages[m["message_id"]].created_at, m["message_id"])
                for m in found
            ]
            assert keys == sorted(keys, reverse=True), (query.text, keys)


FILTER_FIELDS = ("thread_id", "role", "since", "until")


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_adding_a_filter_never_adds_results(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        corpus = await _store(conn, spec)
        searcher = data.draw(st.sampled_from(corpus.user_ids), label="searcher")
        query = data.draw(queries, label="query")
        base = data.draw(filters_for(corpus, query.text), label="base filters")
        unset = [name for name in FILTER_FIELDS if getattr(base, name) is None]
        richer = data.draw(filters_for(corpus, query.text), label="extra values")
        if unset:
            name = data.draw(st.sampled_from(unset), label="added filter")
            value = getattr(richer, name)
            if value is None:  # the draw left it unset too: pick a concrete value
                value = {
                    "thread_id": corpus.thread_ids[searcher][0],
                    "role": ROLES[0],
                    "since": BASE + timedelta(days=2),
                    "until": BASE + timedelta(days=3),
                }[name]
            narrower = replace(base, **{name: value})
        else:
            narrower = base
        # A word ANDed into an all-of query narrows it too ("a or b c" would not: it
        # parses as a | (b & c)).
        extra_word = data.draw(st.sampled_from(VOCABULARY), label="extra word")
        stricter_query = base if query.any_of else replace(base, query=f"{base.query} {extra_word}")

        wide = {m["message_id"] for m in await _search(conn, searcher, base)}
        narrow = {m["message_id"] for m in await _search(conn, searcher, narrower)}
        stricter = {m["message_id"] for m in await _search(conn, searcher, stricter_query)}
    assert narrow <= wide, (base, narrower)
    assert stricter <= wide, (base, stricter_query)


# Anything a client may type (the API refuses NUL, which PostgreSQL cannot take as text).
free_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
) | st.lists(
    st.sampled_from([*VOCABULARY, "or", "-", '"', "/", "\\", "&", "|", "!", ":*", "(", ")", " "]),
    max_size=6,
).map("".join)


@PROPERTY_SETTINGS
@given(spec=corpora, data=st.data())
async def test_any_query_text_stays_within_the_users_messages_and_filters(
    pool: asyncpg.Pool, spec: list[list[list[MessageSpec]]], data: st.DataObject
) -> None:
    async with pool.acquire() as conn:
        corpus = await _store(conn, spec)
        searcher = data.draw(st.sampled_from(corpus.user_ids), label="searcher")
        for _ in range(3):
            text = data.draw(free_text, label="query text")
            f = data.draw(filters_for(corpus, text), label="filters")
            found = await _search(conn, searcher, f)
            assert {m["message_id"] for m in found} <= corpus.owned_by(searcher), (text, f)
            for m in found:
                assert _satisfies(corpus.messages[m["message_id"]], f), (text, f, m)
            ranks = [m["rank"] for m in found]
            assert ranks == sorted(ranks, reverse=True), (text, found)
