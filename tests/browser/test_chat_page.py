"""The chat page in a real browser: sign up, ask, watch the five events, upgrade, lose the network.

Every check reads what the page shows (text, buttons, and the ``data-seq`` of each
event element) and, where it matters, compares it with what the server persisted.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import WebSocket, expect

from golden_path.protocol import GOLDEN_EVENTS, EventType
from golden_path.tiers import TIER_LIMITS, Tier
from tests.browser.conftest import FOREIGN_HOST
from tests.browser.support import (
    SAVINGS_QUESTION,
    WAIT_MS,
    Account,
    ChatPage,
    PageServer,
    new_email,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.reference_only,
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="Proves a person in a real browser gets from sign-up to a streamed, "
        "persisted answer, and from the free quota to an upgrade",
        revenue_impact="The page is the product's front door and what teams copy: if it "
        "loses events or cannot upgrade, sign-ups do not convert",
    ),
]


async def _server_events(account: Account, run_id: str) -> list[tuple[int, str]]:
    return [(e["seq"], e["type"]) for e in (await account.run(run_id))["events"]]


@pytest.mark.golden_path
@pytest.mark.stage("events")
async def test_a_new_user_sees_the_five_events_in_order_with_answer_usage_and_upgrade(
    chat: ChatPage, page_server: PageServer
) -> None:
    email = new_email()
    await (await chat.open(page_server.url)).sign_up(email)
    await chat.expect_online()
    await expect(chat.tier).to_have_text("Free plan")

    run = await chat.ask_and_wait(SAVINGS_QUESTION)

    shown = await chat.shown_events(run)
    run_id = await run.get_attribute("data-run-id")
    assert run_id
    async with Account.login(page_server, email) as account:
        stored = await account.run(run_id)
    # Exactly the persisted events, each once, in seq order (seq 1 is this new user's first).
    assert shown == [(e["seq"], e["type"]) for e in stored["events"]]
    assert [seq for seq, _ in shown] == list(range(1, len(shown) + 1))
    types = [kind for _, kind in shown]
    assert types[0] == EventType.AGENT_STARTED
    assert types[-1] == EventType.AGENT_COMPLETED
    assert {t.value for t in GOLDEN_EVENTS} <= set(types)
    assert (
        types.index("agent_thinking")
        < types.index("tool_executing")
        < types.index("tool_completed")
    )

    # The reasoning, each tool with its result, the answer with its usage, as the server sent them.
    by_type = {e["type"]: e for e in stored["events"]}
    thinking = [e for e in stored["events"] if e["type"] == "agent_thinking"]
    await expect(run.locator("li.agent_thinking .reasoning")).to_have_text(
        [e["reasoning"] for e in thinking]
    )
    await expect(run.locator("li.tool_executing strong")).to_have_text("Usage analyzer")
    await expect(run.locator("li.tool_completed")).to_contain_text("Tool result")
    await run.locator("li.tool_completed summary").click()
    await expect(run.locator("li.tool_completed pre")).to_contain_text('"total_daily_cost_usd"')
    completed = by_type["agent_completed"]
    await expect(run.locator(".answer")).to_have_text(completed["final_response"])
    usage = completed["usage"]
    await expect(run.locator(".usage")).to_have_text(
        f"Usage: {usage['input_tokens']:,} input + {usage['output_tokens']:,} output tokens"
        f" · ${usage['cost_usd']:.6f}"
    )
    # Savings need cost_optimizer (Early): the answer offers the upgrade, with its button.
    prompt = run.locator(".upgrade")
    await expect(prompt).to_contain_text(completed["upgrade"]["message"])
    await expect(prompt.get_by_role("button", name="Upgrade to Early")).to_be_visible()
    # The new thread is listed, titled after the question, and is the current one.
    current = chat.page.locator("#thread-list li[aria-current='true']")
    await expect(current).to_have_text(SAVINGS_QUESTION)
    assert await current.get_attribute("data-thread-id") == stored["thread_id"]


@pytest.mark.tier("free")
@pytest.mark.stage("agent")
async def test_the_free_quota_ends_in_an_upgrade_prompt_whose_button_upgrades_and_unblocks(
    chat: ChatPage, page_server: PageServer
) -> None:
    email = new_email()
    await (await chat.open(page_server.url)).sign_up(email)
    await chat.expect_online()
    free_runs = TIER_LIMITS[Tier.FREE].runs_per_day
    for number in range(free_runs):
        await chat.ask_and_wait(f"Run {number + 1}: we use gpt-4o-mini at 100k tokens a day")

    refused = await chat.ask("One more: we use gpt-4o-mini at 100k tokens a day")
    notice = chat.notice_after(refused)
    await expect(notice).to_have_attribute("data-code", "quota_exceeded")
    await expect(notice).to_contain_text(
        f"You have used all {free_runs} runs of the free plan today"
    )
    assert await chat.shown_events(chat.run_after(refused)) == []  # nothing ran

    await notice.get_by_role("button", name="Upgrade to Early").click()
    await expect(chat.tier).to_have_text("Early plan")
    await expect(notice).to_contain_text("You are on the Early plan now.")

    # The open socket took the new token (authenticate): the next message runs at once.
    run = await chat.ask_and_wait(
        "Now with the Early plan: we use gpt-4o-mini at 100k tokens a day"
    )
    async with Account.login(page_server, email) as account:
        stored = await account.run(str(await run.get_attribute("data-run-id")))
        threads = await account.threads()
    assert stored["status"] == "succeeded"
    # One thread (each message continued it); the refused message wrote nothing to it.
    assert [t["thread_id"] for t in threads] == [stored["thread_id"]]
    async with Account.login(page_server, email) as account:
        thread = await account.api.thread(account.access_token, stored["thread_id"])
    assert len(thread["messages"]) == 2 * (free_runs + 1)


@pytest.mark.golden_path
@pytest.mark.stage("websocket")
async def test_a_network_cut_mid_run_is_resumed_showing_every_event_once(
    chat: ChatPage, slow_page_server: PageServer
) -> None:
    server = slow_page_server
    email = new_email()
    await (await chat.open(server.url)).sign_up(email)
    await chat.expect_online()

    run = chat.run_after(await chat.ask(SAVINGS_QUESTION))
    await expect(run.locator("li[data-type='agent_started']")).to_have_count(1)
    await server.proxy.cut()
    await expect(chat.connection).to_have_attribute(
        "data-state", re.compile("reconnecting|connecting")
    )
    before = await chat.shown_events(run)

    # The run goes on without the page: wait for its end on a socket of the test's own.
    run_id = str(await run.get_attribute("data-run-id"))
    async with Account.login(server, email) as account:
        ended = await account.wait_for_run_end(run_id)
        stored = await _server_events(account, run_id)
    assert ended["type"] == EventType.AGENT_COMPLETED
    assert await chat.shown_events(run) == before, "the page got events with its network cut"
    assert len(before) < len(stored), "the run ended before the cut: nothing to resume"

    server.proxy.restore()
    await expect(run).to_have_attribute("data-status", "succeeded", timeout=WAIT_MS)
    await chat.expect_online()
    # Nothing twice, nothing lost: exactly the persisted events, in order.
    assert await chat.shown_events() == stored
    await expect(run.locator(".answer")).to_be_visible()


@pytest.mark.stage("events")
async def test_events_the_server_sends_again_are_shown_once(
    chat: ChatPage, page_server: PageServer
) -> None:
    """A retried message replays its run (§6.3): the browser receives every event twice."""
    received: list[dict[str, Any]] = []

    def record(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: received.append(json.loads(payload)))

    chat.page.on("websocket", record)
    email = new_email()
    await (await chat.open(page_server.url)).sign_up(email)
    await chat.expect_online()
    asked = await chat.ask(SAVINGS_QUESTION)
    first = chat.run_after(asked)
    await expect(first).to_have_attribute("data-status", "succeeded")
    request_id = await asked.get_attribute("data-request-id")

    # What the page does after a drop: send the same message again, with its request_id.
    await chat.page.evaluate(
        "rid => sendFrame({type: 'user_message', content: 'again', request_id: rid})",
        request_id,
    )
    second = await chat.ask_and_wait("And with gpt-4o-mini?")  # after the replay, in order

    async with Account.login(page_server, email) as account:
        runs = [
            await account.run(str(await run.get_attribute("data-run-id")))
            for run in (first, second)
        ]
    first_seqs = [e["seq"] for e in runs[0]["events"]]
    arrived = [f["seq"] for f in received if f.get("run_id") == runs[0]["run_id"]]
    assert sorted(arrived) == sorted(first_seqs * 2), "the replay did not reach the browser"
    shown = await chat.shown_events()
    assert shown == [(e["seq"], e["type"]) for run in runs for e in run["events"]]
    assert len({seq for seq, _ in shown}) == len(shown)


@pytest.mark.security
@pytest.mark.stage("websocket")
async def test_the_page_from_an_origin_off_the_allow_list_is_refused(
    chat: ChatPage, page_server: PageServer
) -> None:
    foreign = page_server.url.replace("127.0.0.1", FOREIGN_HOST)
    await (await chat.open(foreign)).sign_up(
        new_email()
    )  # HTTP works: the allow-list guards the socket

    await expect(chat.connection).to_have_attribute("data-state", "refused")
    await expect(chat.connection).to_have_text("refused: origin not allowed")
    banner = chat.page.locator("#banner")
    await expect(banner).to_contain_text(f"The server refused this page's origin ({foreign})")
    await expect(banner).to_contain_text(f"GOLDEN_PATH_ALLOWED_ORIGINS={foreign}")
    await expect(chat.page.get_by_role("button", name="Send", exact=True)).to_be_disabled()


@pytest.mark.security
@pytest.mark.stage("persistence")
async def test_server_text_is_shown_as_text_and_threads_come_back_after_a_new_login(
    chat: ChatPage, page_server: PageServer
) -> None:
    markup = '<img src="x" onerror="window.pwned=1"><b>bold</b> how can we save on gpt-4o?'
    email = new_email()
    await (await chat.open(page_server.url)).sign_up(email)
    await chat.expect_online()
    first = await chat.ask_and_wait(markup)
    await expect(chat.page.locator("#thread-list li")).to_have_count(1)
    answer = await first.locator(".answer").inner_text()

    await chat.page.get_by_role("button", name="+ New chat").click()
    await expect(chat.page.locator("#messages > li")).to_have_count(0)
    await chat.ask_and_wait("We send 500k tokens/day to claude-3-5-sonnet")
    await expect(chat.page.locator("#thread-list li")).to_have_count(2)

    # The title and the message came back from the server and are shown verbatim, unparsed.
    await chat.page.get_by_role("button", name=markup).click()
    await expect(chat.page.locator("#thread-list li[aria-current='true']")).to_have_text(markup)
    await expect(chat.page.locator("li.msg")).to_have_text([markup, answer])
    await expect(chat.page.locator("li.msg.user")).to_have_attribute(
        "data-message-id", re.compile("^msg_")
    )
    assert await chat.page.locator("#messages img, #messages b, #thread-list img").count() == 0
    assert await chat.page.evaluate("window.pwned") is None

    # Logging out forgets everything; logging in again lists the same threads from the server.
    await chat.log_out()
    await expect(chat.page.locator("#thread-list li")).to_have_count(0)
    await chat.log_in(email)
    await chat.expect_online()
    await expect(chat.page.locator("#thread-list button.thread")).to_have_text(
        ["We send 500k tokens/day to claude-3-5-sonnet", markup]
    )
