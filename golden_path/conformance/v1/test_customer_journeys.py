"""One whole customer journey per segment, from login to the business outcome the plan sells.

Each test walks a customer's path over real sockets and HTTP and asserts what the
customer pays for: the free user meets the plan's limits and an upgrade that lifts
them, the early user gets concrete savings, the mid user a team report, the
enterprise user a forecast over their own billed usage, and many customers at
once each see only their own stream.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import pytest

from golden_path.client import GoldenPathSocket, RunHandle
from golden_path.conformance.support import assert_open, new_email, terminal_of
from golden_path.ids import UserID
from golden_path.protocol import ErrorCode, EventType
from golden_path.testing.identity.users import TEST_PASSWORD, GoldenPathUser
from golden_path.testing.v1.contract import assert_events
from golden_path.tiers import TIER_ORDER, Tier, Tool, lowest_tier_with

pytestmark = [
    # Protocol v1, much of it over raw HTTP on gp_base_url: --gp-protocol=ag-ui skips it.
    pytest.mark.protocol("v1"),
    pytest.mark.e2e,
    pytest.mark.golden_path,
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="Each plan's customer gets, end to end, the answer that plan promises",
        revenue_impact="A journey that breaks at any step loses that segment's revenue",
    ),
]

Frame = dict[str, Any]
FORECAST_DAYS = 7  # advanced analytics promises a one-week forecast
_TABLE_RULE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")


def completed(run: RunHandle) -> Frame:
    """The run's terminal event, which must be ``agent_completed``."""
    terminal = run.terminal
    assert terminal["type"] == EventType.AGENT_COMPLETED.value, terminal
    return terminal


def tools_run(events: list[Frame]) -> list[str]:
    """The names of the tools that completed successfully, in order."""
    done = [e for e in events if e["type"] == EventType.TOOL_COMPLETED.value]
    assert all(e["success"] for e in done), done
    return [e["tool_name"] for e in done]


def tool_results(events: list[Frame]) -> dict[str, Frame]:
    return {
        e["tool_name"]: e["results"] for e in events if e["type"] == EventType.TOOL_COMPLETED.value
    }


def markdown_tables(text: str) -> list[list[str]]:
    """The Markdown tables in ``text``: each a list of its lines (header, rule, rows)."""
    tables: list[list[str]] = []
    lines = text.splitlines()
    for index in range(1, len(lines)):
        if _TABLE_RULE.match(lines[index].strip()) and lines[index - 1].strip().startswith("|"):
            block = [lines[index - 1], lines[index]]
            for line in lines[index + 1 :]:
                if not line.strip().startswith("|"):
                    break
                block.append(line)
            tables.append(block)
    return tables


def money(value: float) -> str:
    return f"${value:,.2f}"


# --- free: the plan's limits lead to the upgrade that lifts them ---------------------------


@pytest.mark.tier("free")
@pytest.mark.stage("persistence")
@pytest.mark.bvj(
    segment="free",
    goal="conversion",
    value_impact="A free user sees what the Early plan would add, uses the day's runs, is "
    "told exactly which plan lifts the limit, upgrades and immediately gets savings advice",
    revenue_impact="This is the free-to-paid funnel: every step that fails or misleads here "
    "is a lost conversion to Early",
)
async def test_free_user_meets_the_limits_upgrades_to_early_and_gets_savings(gp_api, gp_client):
    # Sign up and log in the way a new customer does.
    email = new_email("journey-free")
    account = await gp_api.signup(email, TEST_PASSWORD)
    assert account["tier"] == Tier.FREE.value
    tokens = await gp_api.login(email, TEST_PASSWORD)
    user = GoldenPathUser(email, TEST_PASSWORD, UserID(account["user_id"]), Tier.FREE, tokens)
    sock = await gp_client(user)
    assert sock.established["tier"] == Tier.FREE.value
    assert sock.established["user_id"] == user.user_id

    # A question asking to cut costs: the free plan analyses usage and offers Early.
    question = "We use gpt-4o at 2M tokens/day. How can we cut costs?"
    first = await sock.ask(question)
    assert_events(first.events, first_seq=1)
    done = completed(first)
    assert tools_run(first.events) == [Tool.USAGE_ANALYZER.value]
    assert set(done["result"]["tools"]) == {Tool.USAGE_ANALYZER.value}
    assert done["upgrade"]["required_tier"] == Tier.EARLY.value
    assert done["upgrade"]["required_tier"] == lowest_tier_with(Tool.COST_OPTIMIZER).value
    assert done["upgrade"]["feature"] == Tool.COST_OPTIMIZER.value
    thread_id = done["thread_id"]

    # Use up the day's quota in the same conversation, one run at a time (1 concurrent run).
    quota = Tier.FREE.limits.runs_per_day
    assert Tier.FREE.limits.concurrent_runs == 1
    for volume in range(2, quota + 1):
        run = await sock.ask(f"And at {volume}M tokens/day?", thread_id=thread_id)
        assert completed(run)["thread_id"] == thread_id

    # The next message is refused with the upgrade that lifts the daily quota.
    refused = await sock.send_message(question, thread_id=thread_id)
    error = await sock.error_for(refused.request_id)
    assert error["code"] == ErrorCode.QUOTA_EXCEEDED.value
    assert error["upgrade"]["required_tier"] == Tier.EARLY.value
    assert error["upgrade"]["feature"] == "runs_per_day"
    await assert_open(sock)
    assert not [e for e in sock.events() if e["request_id"] == refused.request_id]
    billed = await gp_api.usage(user.access_token)
    assert billed["totals"]["runs"] == quota
    last_seq = sock.events()[-1]["seq"]

    # Upgrade to Early and reconnect with the token that carries the new tier.
    early_tokens = await gp_api.upgrade(user.access_token, Tier.EARLY.value)
    await sock.close()
    early = await gp_client(user.with_tokens(early_tokens, Tier.EARLY))
    assert early.established["tier"] == Tier.EARLY.value
    assert early.established["last_seq"] == last_seq

    # The quota is lifted and the savings tool now runs in the same thread.
    after = await early.ask(question, thread_id=thread_id)
    assert_events(after.events)
    assert after.events[0]["seq"] == last_seq + 1
    done = completed(after)
    assert tools_run(after.events) == [Tool.USAGE_ANALYZER.value, Tool.COST_OPTIMIZER.value]
    assert "upgrade" not in done
    savings = done["result"]["tools"][Tool.COST_OPTIMIZER.value]
    assert savings["recommendations"]
    assert savings["total_projected_monthly_savings_usd"] > 0

    billed = await gp_api.usage(early_tokens.access_token)
    assert billed["totals"]["runs"] == quota + 1
    history = await gp_api.thread(early_tokens.access_token, thread_id)
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"] * (quota + 1)


# --- early: concrete savings for a concrete workload ----------------------------------------


@pytest.mark.tier("early")
@pytest.mark.bvj(
    segment="early",
    goal="retention",
    value_impact="An Early customer names a workload and gets ranked, priced recommendations "
    "whose numbers are the same in the live stream, the answer and the stored run",
    revenue_impact="Savings the customer can act on are why Early renews; inconsistent or "
    "empty figures make the product look untrustworthy and churn the plan",
)
async def test_early_user_gets_priced_savings_recommendations_for_their_workload(
    gp_user, gp_client, gp_api
):
    user = await gp_user("early")
    sock = await gp_client(user)
    run = await sock.ask("We run gpt-4o at 5M tokens/day. Recommend how to cut costs.")
    assert_events(run.events, first_seq=1)
    done = completed(run)
    assert "upgrade" not in done
    assert tools_run(run.events) == [Tool.USAGE_ANALYZER.value, Tool.COST_OPTIMIZER.value]

    result = done["result"]
    assert result["workload"]["models"] == ["gpt-4o"]
    assert result["workload"]["tokens_per_day"] == 5_000_000
    assert result["failed_tools"] == []
    # What the tools streamed is exactly what the answer carries.
    assert tool_results(run.events) == result["tools"]

    usage = result["tools"][Tool.USAGE_ANALYZER.value]
    assert usage["total_monthly_cost_usd"] > 0
    savings = result["tools"][Tool.COST_OPTIMIZER.value]
    recommendations = savings["recommendations"]
    assert recommendations
    projected = [rec["projected_monthly_savings_usd"] for rec in recommendations]
    assert all(amount > 0 for amount in projected), recommendations
    assert projected == sorted(projected, reverse=True)
    assert {rec["model"] for rec in recommendations} == {"gpt-4o"}
    total = savings["total_projected_monthly_savings_usd"]
    assert total == pytest.approx(sum(projected), abs=0.01 * len(projected))
    assert savings["baseline_monthly_cost_usd"] == usage["total_monthly_cost_usd"]
    assert 0 < total < savings["baseline_monthly_cost_usd"]
    assert done["final_response"].strip()

    stored = await gp_api.run(user.access_token, run.run_id)
    assert stored["status"] == "succeeded"
    assert stored["result"] == result


# --- mid: a Markdown report for the team ----------------------------------------------------


@pytest.mark.tier("mid")
@pytest.mark.stage("persistence")
@pytest.mark.bvj(
    segment="mid",
    goal="expansion",
    value_impact="A Mid customer gets a Markdown spend report with cost and savings tables "
    "to share with their team, and the stored run says exactly what was streamed",
    revenue_impact="Team reports spread the product inside the customer's company, which is "
    "how Mid accounts grow; a lost or wrong report undercuts the plan's main feature",
)
async def test_mid_user_gets_a_markdown_team_report_that_matches_the_stored_run(
    gp_user, gp_client, gp_api
):
    user = await gp_user("mid")
    sock = await gp_client(user)
    run = await sock.ask(
        "Build a spend report for my team: we use claude-3-5-sonnet and gpt-4o at "
        "3M tokens/day and 20,000 requests per day. Include recommendations to save."
    )
    assert_events(run.events, first_seq=1)
    done = completed(run)
    assert "upgrade" not in done
    assert tools_run(run.events) == [
        Tool.USAGE_ANALYZER.value,
        Tool.COST_OPTIMIZER.value,
        Tool.REPORT_BUILDER.value,
    ]
    streamed = tool_results(run.events)
    assert streamed == done["result"]["tools"]

    report = streamed[Tool.REPORT_BUILDER.value]
    assert report["format"] == "markdown"
    markdown = report["markdown"]
    assert markdown.lstrip().startswith("#")
    tables = markdown_tables(markdown)
    assert tables, markdown
    # The cost table names both models and carries the analysed monthly total.
    usage = streamed[Tool.USAGE_ANALYZER.value]
    cost_table = "\n".join(tables[0])
    for model in ("claude-3-5-sonnet", "gpt-4o"):
        assert model in cost_table
    assert money(usage["total_monthly_cost_usd"]) in cost_table
    # The savings table has one row per recommendation.
    recommendations = streamed[Tool.COST_OPTIMIZER.value]["recommendations"]
    assert recommendations
    assert len(tables) >= 2
    assert len(tables[1]) - 2 == len(recommendations)

    stored = await gp_api.run(user.access_token, run.run_id)
    assert stored["status"] == "succeeded"
    assert stored["error_code"] is None
    assert stored["run_id"] == run.run_id
    assert stored["thread_id"] == done["thread_id"]
    assert stored["request_id"] == run.request_id
    assert stored["message_id"] == run.events[0]["message_id"]
    assert stored["result"] == done["result"]
    assert stored["usage"] == done["usage"]
    assert stored["events"] == run.events


# --- enterprise: forecasting over the customer's own billed usage ---------------------------


@pytest.mark.tier("enterprise")
@pytest.mark.stage("persistence")
@pytest.mark.bvj(
    segment="enterprise",
    goal="retention",
    value_impact="An Enterprise customer's forecast is computed from the usage they were "
    "actually billed for, and each run is billed exactly once, even when retried",
    revenue_impact="Forecasts and accurate bills are what Enterprise contracts pay for; a "
    "double charge or a forecast over the wrong data is a contract-level escalation",
)
async def test_enterprise_user_gets_a_forecast_over_their_own_billed_usage(
    gp_user, gp_client, gp_api
):
    user = await gp_user("enterprise")
    sock = await gp_client(user)

    # Several runs at once grow the usage ledger.
    workloads = [
        "We use gpt-4o at 2M tokens/day. How can we save?",
        "What does claude-3-5-sonnet at 4M tokens/day cost us?",
        "We send 300k tokens/day to gpt-4o-mini and 1M tokens/day to o3-mini.",
    ]
    earlier = await asyncio.gather(*(sock.ask(content) for content in workloads))
    assert_events(sock.events(), first_seq=1)  # the runs interleave in one seq stream
    for run in earlier:
        completed(run)
    ledger = await gp_api.usage(user.access_token)
    assert ledger["totals"]["runs"] == len(workloads)
    assert ledger["totals"]["input_tokens"] == sum(
        completed(r)["usage"]["input_tokens"] for r in earlier
    )

    # The analytics request forecasts from that ledger.
    run = await sock.ask("Forecast our AI spend for next week and flag anomalies in the trend.")
    assert_events(sock.events(), first_seq=1)
    done = completed(run)
    assert "upgrade" not in done
    assert tools_run(run.events) == [Tool.USAGE_ANALYZER.value, Tool.ADVANCED_ANALYTICS.value]
    analytics = tool_results(run.events)[Tool.ADVANCED_ANALYTICS.value]
    assert analytics == done["result"]["tools"][Tool.ADVANCED_ANALYTICS.value]

    forecast = analytics["forecast"]
    assert len(forecast) == FORECAST_DAYS
    assert [day["day_offset"] for day in forecast] == list(range(1, FORECAST_DAYS + 1))
    last_day = date.fromisoformat(ledger["days"][-1]["day"])
    assert [day["day"] for day in forecast] == [
        (last_day + timedelta(days=k)).isoformat() for k in range(1, FORECAST_DAYS + 1)
    ]
    assert all(day["cost_usd"] >= 0 for day in forecast)
    assert analytics["forecast_total_usd"] == pytest.approx(
        sum(day["cost_usd"] for day in forecast), abs=0.01
    )
    assert analytics["days_of_history"] == len(ledger["days"])
    totals = analytics["totals"]
    assert totals["runs"] == ledger["totals"]["runs"]
    assert totals["input_tokens"] == ledger["totals"]["input_tokens"]
    assert totals["output_tokens"] == ledger["totals"]["output_tokens"]
    assert totals["cost_usd"] == pytest.approx(ledger["totals"]["cost_usd"], abs=0.005)

    # Every run is billed once: the ledger is the sum of the runs' own usage ...
    runs = [*earlier, run]
    billed = await gp_api.usage(user.access_token)
    assert billed["totals"]["runs"] == len(runs)
    for key in ("input_tokens", "output_tokens"):
        assert billed["totals"][key] == sum(completed(r)["usage"][key] for r in runs)
    assert billed["totals"]["cost_usd"] == pytest.approx(
        sum(completed(r)["usage"]["cost_usd"] for r in runs), abs=1e-6
    )
    for r in runs:
        stored = await gp_api.run(user.access_token, r.run_id)
        assert stored["usage"] == completed(r)["usage"]

    # ... and retrying a message (same request_id) replays it without billing it again.
    since = len(sock.received())
    await sock.send_message(workloads[0], request_id=earlier[0].request_id)
    replayed = await terminal_of(sock, earlier[0].request_id, since)
    assert replayed["event_id"] == completed(earlier[0])["event_id"]
    assert await gp_api.usage(user.access_token) == billed


# --- all segments at once ---------------------------------------------------------------------

USERS_PER_TIER = 3
EVERYTHING = (
    "We use gpt-4o at 2M tokens/day. Recommend savings, build a report for my team and "
    "forecast next week's trend."
)


async def _one_customer(gp_user, gp_client, tier: Tier) -> tuple[GoldenPathUser, GoldenPathSocket]:
    user = await gp_user(tier)
    return user, await gp_client(user)


@pytest.mark.stage("events")
@pytest.mark.security
@pytest.mark.bvj(
    segment="all",
    goal="stability",
    value_impact="Customers of every plan working at the same moment each get their own "
    "complete, ordered stream, with their plan's tools, and never anyone else's events",
    revenue_impact="Cross-customer leaks are a trust-ending incident; lost or mixed events "
    "under load break every segment's product at peak time",
)
async def test_many_customers_of_every_tier_at_once_each_see_only_their_own_stream(
    gp_user, gp_client, gp_api
):
    tiers = [tier for tier in TIER_ORDER for _ in range(USERS_PER_TIER)]
    customers = await asyncio.gather(*(_one_customer(gp_user, gp_client, t) for t in tiers))
    runs = await asyncio.gather(*(sock.ask(EVERYTHING) for _, sock in customers))

    user_ids = {user.user_id for user, _ in customers}
    assert len(user_ids) == len(tiers)
    for (user, sock), run in zip(customers, runs, strict=True):
        received = sock.events()
        assert {e["user_id"] for e in received} == {user.user_id}, user.tier
        assert_events(received, first_seq=1)
        assert received == run.events
        done = completed(run)
        assert tools_run(run.events) == [tool.value for tool in user.tier.limits.tools]
        if user.tier is Tier.ENTERPRISE:
            assert "upgrade" not in done
        else:
            wanted = lowest_tier_with(Tool.ADVANCED_ANALYTICS).value
            assert done["upgrade"]["required_tier"] == wanted, user.tier

    stored = await asyncio.gather(*(gp_api.events(user.access_token) for user, _ in customers))
    for (user, sock), page in zip(customers, stored, strict=True):
        assert page["more"] is False
        assert page["events"] == sock.events(), user.tier
        assert page["last_seq"] == sock.events()[-1]["seq"]
