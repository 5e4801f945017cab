"""§9 over real runs: threads, thread detail, archive, runs, search, events and usage over HTTP.

Every read is made after real runs over the socket, so what the HTTP API answers
is compared with what the customer was actually streamed. Every route shows only
the caller's own data; another user's ids answer exactly like missing ones.
"""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any

import pytest

from golden_path.client import GoldenPathSocket, RunHandle
from golden_path.conformance.support import assert_open, http
from golden_path.ids import RunID, ThreadID
from golden_path.protocol import ErrorCode, EventType
from golden_path.testing.identity.users import GoldenPathUser
from golden_path.testing.v1.contract import assert_events

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Customers find their past conversations, answers, events and spend "
        "again, in order and complete, and never see anyone else's",
        revenue_impact="History and usage are what customers come back to and what they are "
        "billed by; a lost, mixed-up or leaked history costs renewals and trust",
    ),
]

Frame = dict[str, Any]
SPEND = "What do we spend on gpt-4o at {n}M tokens/day?"


def thread_of(run: RunHandle) -> str:
    return str(run.events[0]["thread_id"])


def completed(run: RunHandle) -> Frame:
    terminal = run.terminal
    assert terminal["type"] == EventType.AGENT_COMPLETED.value, terminal
    return terminal


def ids(items: list[Frame], key: str) -> list[str]:
    return [item[key] for item in items]


def cursor_of(data: Any) -> str:
    """A cursor in the reference server's encoding, for forging tampered ones."""
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def new_threads(
    gp_user, gp_client, count: int, tier: str = "early"
) -> tuple[GoldenPathUser, GoldenPathSocket, list[RunHandle]]:
    """A fresh user with ``count`` threads, one run each, made one after another."""
    user = await gp_user(tier)
    sock = await gp_client(user)
    runs = [await sock.ask(SPEND.format(n=n)) for n in range(1, count + 1)]
    for run in runs:
        completed(run)
    return user, sock, runs


async def all_threads(gp_api, token: str, **params: Any) -> list[Frame]:
    page = await gp_api.threads(token, limit=100, **params)
    assert page["next_cursor"] is None
    threads: list[Frame] = page["threads"]
    return threads


# --- GET /threads -------------------------------------------------------------------------


async def test_threads_are_listed_newest_activity_first(gp_user, gp_client, gp_api):
    user, sock, runs = await new_threads(gp_user, gp_client, 5)
    threads = [thread_of(run) for run in runs]
    listed = await all_threads(gp_api, user.access_token)
    assert ids(listed, "thread_id") == threads[::-1]
    assert [t["title"] for t in listed] == [SPEND.format(n=n) for n in range(5, 0, -1)]
    assert all(t["archived"] is False for t in listed)
    stamps = [t["last_activity_at"] for t in listed]
    assert stamps == sorted(stamps, reverse=True)

    # A new message in the oldest thread brings it to the top.
    completed(await sock.ask("And at 9M tokens/day?", thread_id=threads[0]))
    listed = await all_threads(gp_api, user.access_token)
    assert ids(listed, "thread_id") == [threads[0], *threads[:0:-1]]


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
async def test_cursor_pagination_walks_every_thread_exactly_once(gp_user, gp_client, gp_api, limit):
    user, _, runs = await new_threads(gp_user, gp_client, 5)
    expected = [thread_of(run) for run in runs][::-1]
    walked: list[str] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(len(expected) + 1):
        page = await gp_api.threads(user.access_token, limit=limit, cursor=cursor)
        walked += ids(page["threads"], "thread_id")
        sizes.append(len(page["threads"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None, "pagination did not end"
    assert walked == expected
    assert len(set(walked)) == len(walked)
    full, rest = divmod(len(expected), limit)
    assert sizes == [limit] * full + ([rest] if rest else [])


async def test_archived_threads_are_listed_only_with_archived_true(gp_user, gp_client, gp_api):
    user, _, runs = await new_threads(gp_user, gp_client, 4)
    threads = [thread_of(run) for run in runs]
    assert await all_threads(gp_api, user.access_token, archived=True) == []

    for thread_id in (threads[1], threads[2]):
        answer = await gp_api.archive(user.access_token, thread_id)
        assert answer["thread_id"] == thread_id
        assert answer["archived"] is True

    active = await all_threads(gp_api, user.access_token)
    assert ids(active, "thread_id") == [threads[3], threads[0]]
    archived = await all_threads(gp_api, user.access_token, archived=True)
    assert ids(archived, "thread_id") == [threads[2], threads[1]]
    assert all(t["archived"] is True for t in archived)
    page = await gp_api.threads(user.access_token, archived=True, limit=1)
    assert ids(page["threads"], "thread_id") == [threads[2]]
    page = await gp_api.threads(
        user.access_token, archived=True, limit=1, cursor=page["next_cursor"]
    )
    assert ids(page["threads"], "thread_id") == [threads[1]]
    assert page["next_cursor"] is None


@pytest.mark.stage("websocket")
async def test_an_archived_thread_refuses_new_messages_but_stays_readable(
    gp_user, gp_client, gp_api
):
    user, sock, runs = await new_threads(gp_user, gp_client, 2)
    thread_id = thread_of(runs[0])
    before = await gp_api.thread(user.access_token, thread_id)

    archived = await gp_api.archive(user.access_token, thread_id)
    assert archived["archived"] is True
    again = await gp_api.archive(user.access_token, thread_id)  # idempotent
    assert again["archived"] is True
    assert ids(await all_threads(gp_api, user.access_token), "thread_id") == [thread_of(runs[1])]

    refused = await sock.send_message("And at 7M tokens/day?", thread_id=thread_id)
    error = await sock.error_for(refused.request_id)
    assert error["code"] == ErrorCode.THREAD_ARCHIVED.value
    assert error["request_id"] == refused.request_id
    await assert_open(sock)
    assert not [e for e in sock.events() if e["request_id"] == refused.request_id]

    after = await gp_api.thread(user.access_token, thread_id)
    assert after["archived"] is True
    assert after["messages"] == before["messages"]
    assert (await gp_api.usage(user.access_token))["totals"]["runs"] == len(runs)

    # The rest of the account keeps working.
    completed(await sock.ask("And at 8M tokens/day?", thread_id=thread_of(runs[1])))


# --- GET /threads/{id} ----------------------------------------------------------------------


async def test_thread_detail_returns_the_user_and_assistant_messages_in_order(
    gp_user, gp_client, gp_api
):
    user = await gp_user("early")
    sock = await gp_client(user)
    questions = [SPEND.format(n=2), "And what if we moved half of it to gpt-4o-mini?"]
    first = await sock.ask(questions[0])
    thread_id = thread_of(first)
    second = await sock.ask(questions[1], thread_id=thread_id)
    runs = [first, second]

    detail = await gp_api.thread(user.access_token, thread_id)
    assert detail["thread_id"] == thread_id
    assert detail["title"] == questions[0]
    assert detail["archived"] is False
    messages = detail["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert {m["thread_id"] for m in messages} == {thread_id}
    for index, (question, run) in enumerate(zip(questions, runs, strict=True)):
        asked, answered = messages[2 * index], messages[2 * index + 1]
        assert asked["content"] == question
        assert asked["message_id"] == run.events[0]["message_id"]
        assert answered["content"] == completed(run)["final_response"]
        assert asked["run_id"] == answered["run_id"] == run.run_id
    stamps = [m["created_at"] for m in messages]
    assert stamps == sorted(stamps)
    assert len({m["message_id"] for m in messages}) == len(messages)


# --- another user's data ------------------------------------------------------------------


@pytest.mark.security
@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/threads/{}", "thread"),
        ("POST", "/threads/{}/archive", "thread"),
        ("GET", "/runs/{}", "run"),
    ],
    ids=["thread", "archive", "run"],
)
async def test_another_users_thread_or_run_answers_exactly_like_a_missing_one(
    gp_user, gp_client, gp_api, method, path, kind
):
    owner = await gp_user("free")
    intruder = await gp_user("free")
    run = await (await gp_client(owner)).ask(SPEND.format(n=2))
    theirs = thread_of(run) if kind == "thread" else run.run_id
    missing = ThreadID.new() if kind == "thread" else RunID.new()

    answers = [
        await http(gp_api, method, path.format(target), token=intruder.access_token)
        for target in (theirs, missing, f"{kind}-nope")
    ]
    assert [a.status_code for a in answers] == [404, 404, 404], [a.text for a in answers]
    assert answers[0].json() == answers[1].json() == answers[2].json()

    # The owner's data is untouched and still theirs to read.
    detail = await gp_api.thread(owner.access_token, thread_of(run))
    assert detail["archived"] is False
    assert (await gp_api.run(owner.access_token, run.run_id))["status"] == "succeeded"


# --- GET /search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "query"),
    [
        ("optimizing", "optimize"),
        ("forecasts", "forecasting"),
        ("recommendations", "recommended"),
    ],
)
async def test_search_finds_the_users_words_with_english_stemming(
    gp_user, gp_client, gp_api, said, query
):
    user = await gp_user("early")
    sock = await gp_client(user)
    hit = await sock.ask(f"We are {said} gpt-4o usage at 2M tokens/day")
    miss = await sock.ask("Unrelated: what is the price of claude-3-5-haiku?")
    found = (await gp_api.search(user.access_token, query))["results"]
    found_ids = ids(found, "message_id")
    assert hit.events[0]["message_id"] in found_ids
    assert miss.events[0]["message_id"] not in found_ids
    own_threads = {thread_of(hit), thread_of(miss)}
    assert {m["thread_id"] for m in found} <= own_threads
    ranks = [m["rank"] for m in found]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.security
async def test_search_never_returns_another_users_messages(gp_user, gp_client, gp_api):
    content = "Our photosynthesis research pipeline calls gpt-4o at 1M tokens/day"
    users = [await gp_user("free"), await gp_user("free")]
    runs = [await (await gp_client(user)).ask(content) for user in users]
    for user, run, other in zip(users, runs, runs[::-1], strict=True):
        found = (await gp_api.search(user.access_token, "photosynthesis"))["results"]
        assert ids(found, "message_id") == [run.events[0]["message_id"]]
        assert {m["thread_id"] for m in found} == {thread_of(run)}
        # Naming the other user's thread matches nothing rather than revealing it.
        theirs = await gp_api.search(
            user.access_token, "photosynthesis", thread_id=thread_of(other)
        )
        assert theirs == {"results": [], "next_cursor": None}


async def test_search_filters_by_thread(gp_user, gp_client, gp_api):
    user, _, runs = await new_threads(gp_user, gp_client, 3)
    everything = (await gp_api.search(user.access_token, "spend", limit=100))["results"]
    assert {m["thread_id"] for m in everything} == {thread_of(run) for run in runs}
    for run in runs:
        found = (await gp_api.search(user.access_token, "spend", thread_id=thread_of(run)))[
            "results"
        ]
        assert found
        assert found == [m for m in everything if m["thread_id"] == thread_of(run)]


@pytest.mark.parametrize("role", ["user", "assistant"])
async def test_search_filters_by_role(gp_user, gp_client, gp_api, role):
    user, _, runs = await new_threads(gp_user, gp_client, 2)
    everything = (await gp_api.search(user.access_token, "spend", limit=100))["results"]
    assert {m["role"] for m in everything} == {"user", "assistant"}
    found = (await gp_api.search(user.access_token, "spend", role=role, limit=100))["results"]
    assert found
    assert found == [m for m in everything if m["role"] == role]
    if role == "user":
        assert sorted(ids(found, "message_id")) == sorted(r.events[0]["message_id"] for r in runs)


async def test_search_filters_by_time_since_inclusive_until_exclusive(gp_user, gp_client, gp_api):
    user, _, runs = await new_threads(gp_user, gp_client, 3)
    asked = (await gp_api.search(user.access_token, "spend", role="user", limit=100))["results"]
    by_id = {m["message_id"]: m for m in asked}
    first, second, third = (by_id[run.events[0]["message_id"]] for run in runs)

    def between(**params: str):
        return gp_api.search(user.access_token, "spend", role="user", limit=100, **params)

    since = (await between(since=second["created_at"]))["results"]
    assert sorted(ids(since, "message_id")) == sorted([second["message_id"], third["message_id"]])
    until = (await between(until=second["created_at"]))["results"]
    assert ids(until, "message_id") == [first["message_id"]]
    window = await between(since=second["created_at"], until=third["created_at"])
    assert ids(window["results"], "message_id") == [second["message_id"]]


async def test_search_pages_with_next_cursor(gp_user, gp_client, gp_api):
    user, _, _ = await new_threads(gp_user, gp_client, 4)
    everything = (await gp_api.search(user.access_token, "spend", limit=100))["results"]
    assert len(everything) == 8  # each run's question and answer
    walked: list[Frame] = []
    cursor = None
    for _ in range(len(everything)):
        page = await gp_api.search(user.access_token, "spend", limit=3, cursor=cursor)
        assert len(page["results"]) <= 3
        walked += page["results"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert cursor is None, "pagination did not end"
    assert ids(walked, "message_id") == ids(everything, "message_id")
    assert len(set(ids(walked, "message_id"))) == len(walked)


@pytest.mark.security
@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/threads", "not a cursor!"),
        ("/threads", cursor_of([1, 2])),
        ("/threads", cursor_of({"o": 20})),
        ("/threads", cursor_of({"t": "yesterday", "id": "thr_x"})),
        ("/search", "%%%"),
        ("/search", cursor_of({"o": -1})),
        ("/search", cursor_of({"o": "20"})),
        ("/search", cursor_of({"t": "2026-01-01T00:00:00Z", "id": "thr_x"})),
    ],
    ids=lambda value: value if value.startswith("/") else None,
)
async def test_an_invalid_cursor_is_refused_422(gp_user, gp_api, path, cursor):
    user = await gp_user("free")
    params = {"cursor": cursor, **({"q": "spend"} if path == "/search" else {})}
    answer = await http(gp_api, "GET", path, token=user.access_token, params=params)
    assert answer.status_code == 422, answer.text


# --- GET /events ----------------------------------------------------------------------------


@pytest.mark.stage("events")
async def test_events_page_in_seq_order_after_after_seq(gp_user, gp_client, gp_api):
    user, sock, runs = await new_threads(gp_user, gp_client, 2)
    streamed = sock.events()
    assert_events(streamed, first_seq=1)
    whole = await gp_api.events(user.access_token)
    assert whole["events"] == streamed
    assert whole["last_seq"] == len(streamed)
    assert whole["more"] is False

    limit = 4
    walked: list[Frame] = []
    after = 0
    for _ in range(len(streamed)):
        answer = await http(
            gp_api,
            "GET",
            "/events",
            token=user.access_token,
            params={"after_seq": after, "limit": limit},
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        assert [e["seq"] for e in page["events"]] == list(
            range(after + 1, after + 1 + len(page["events"]))
        )
        assert page["more"] is (len(page["events"]) == limit)
        assert page["last_seq"] == (page["events"][-1]["seq"] if page["events"] else after)
        walked += page["events"]
        after = page["last_seq"]
        if not page["more"]:
            break
    assert walked == streamed

    middle = streamed[len(streamed) // 2]["seq"]
    assert (await gp_api.events(user.access_token, after_seq=middle))["events"] == streamed[middle:]
    tail = await gp_api.events(user.access_token, after_seq=len(streamed))
    assert tail == {"events": [], "last_seq": len(streamed), "more": False}
    for run in runs:
        stored = await gp_api.run(user.access_token, run.run_id)
        assert stored["events"] == run.events


# --- GET /usage -----------------------------------------------------------------------------


async def test_usage_totals_and_days_are_the_sum_of_the_runs(gp_user, gp_client, gp_api):
    user, _, runs = await new_threads(gp_user, gp_client, 3)
    usage = await gp_api.usage(user.access_token)
    days, totals = usage["days"], usage["totals"]
    assert days
    assert [d["day"] for d in days] == sorted({d["day"] for d in days})
    for key in ("runs", "input_tokens", "output_tokens"):
        assert totals[key] == sum(d[key] for d in days)
    assert totals["cost_usd"] == pytest.approx(sum(d["cost_usd"] for d in days), abs=1e-6)
    assert totals["runs"] == len(runs)
    for key in ("input_tokens", "output_tokens"):
        assert totals[key] == sum(completed(r)["usage"][key] for r in runs)
    assert totals["cost_usd"] == pytest.approx(
        sum(completed(r)["usage"]["cost_usd"] for r in runs), abs=1e-6
    )
    assert totals["cost_usd"] > 0


async def test_usage_since_and_until_are_inclusive_dates(gp_user, gp_client, gp_api):
    user, _, runs = await new_threads(gp_user, gp_client, 2)
    usage = await gp_api.usage(user.access_token)
    day = date.fromisoformat(usage["days"][-1]["day"])
    same = await gp_api.usage(user.access_token, since=day.isoformat(), until=day.isoformat())
    assert same["days"] == [usage["days"][-1]]
    before = await gp_api.usage(user.access_token, until=(day - timedelta(days=1)).isoformat())
    after = await gp_api.usage(user.access_token, since=(day + timedelta(days=1)).isoformat())
    for empty in (before, after):
        assert empty["days"] == []
        assert empty["totals"]["runs"] == 0
        assert empty["totals"]["cost_usd"] == 0
    assert sum(d["runs"] for d in usage["days"]) == len(runs)


# --- unauthenticated reads, OpenAPI and health ----------------------------------------------


@pytest.mark.security
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/threads"),
        ("GET", f"/threads/{ThreadID.new()}"),
        ("POST", f"/threads/{ThreadID.new()}/archive"),
        ("GET", f"/runs/{RunID.new()}"),
        ("GET", "/events"),
        ("GET", "/search?q=spend"),
        ("GET", "/usage"),
    ],
    ids=["threads", "thread", "archive", "run", "events", "search", "usage"],
)
async def test_history_routes_answer_401_without_a_token(gp_api, method, path):
    answer = await http(gp_api, method, path)
    assert answer.status_code == 401, answer.text


async def test_openapi_document_lists_the_routes(gp_api):
    answer = await http(gp_api, "GET", "/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    expected = {
        "/auth/login": "post",
        "/auth/signup": "post",
        "/billing/upgrade": "post",
        "/threads": "get",
        "/threads/{thread_id}": "get",
        "/threads/{thread_id}/archive": "post",
        "/runs/{run_id}": "get",
        "/events": "get",
        "/search": "get",
        "/usage": "get",
    }
    for path, method in expected.items():
        assert path in paths, sorted(paths)
        assert method in paths[path], (path, sorted(paths[path]))


@pytest.mark.parametrize(("path", "status"), [("/healthz", "ok"), ("/readyz", "ready")])
async def test_health_and_readiness_answer_200(gp_api, path, status):
    answer = await http(gp_api, "GET", path)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == status
