"""The support desk's golden path over real HTTP: a customer chats with our agent (AG-UI),
the agent's model is golden-path's model at the wire, scripted by each test, and what
was said and done lands in our PostgreSQL tables.

Our server (gp_app) calls the model through pydantic-ai's OpenAI chat model and the
openai SDK, so their HTTP client, retries, stream parser and tool loop all run for real.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from agui_desk import Desk, auth

from golden_path.testing.identity.jwt_factory import JWTFactory
from golden_path.testing.model import cut_after, error, text, tool_call
from golden_path.testing.model.handle import ModelHandle

pytestmark = [
    pytest.mark.stage("chat"),
    pytest.mark.bvj(
        segment="all",
        goal="retention",
        value_impact="a customer asks about an order and gets a true answer from the agent, "
        "backed by our tools, even when the model provider throttles or drops the stream",
        revenue_impact="support that answers wrongly or not at all sends customers to a human "
        "queue that costs us per ticket, or away",
    ),
]

WHERE = "Where is my order A-1001?"


def tool_messages(body: dict[str, Any]) -> list[str]:
    """What our server sent the model back as tool results (OpenAI chat ``tool`` messages)."""
    return [str(m["content"]) for m in body["messages"] if m["role"] == "tool"]


def system_prompt(body: dict[str, Any]) -> str:
    return " ".join(
        str(m["content"]) for m in body["messages"] if m["role"] in ("system", "developer")
    )


async def test_the_agent_looks_the_order_up_and_answers_with_what_the_tool_said(
    desk: Desk, gp_jwt: JWTFactory, gp_model: ModelHandle, customer: str, thread: str
) -> None:
    gp_model.script(
        name="look it up",
        user="A-1001",
        turn=1,
        steps=[tool_call("order_status", order_id="A-1001")],
    )
    gp_model.script(
        name="answer",
        tool_result="order_status",
        steps=[text("Your order A-1001 shipped on 30 November and arrives on 3 December.")],
    )
    token = gp_jwt.valid(customer, "team")

    run = await desk.chat(token, thread, WHERE)

    assert run.types[0] == "RUN_STARTED", run.types
    assert run.types[-1] == "RUN_FINISHED", run.types
    assert run.first("TOOL_CALL_START")["toolCallName"] == "order_status"
    assert "shipped on 30 November" in run.first("TOOL_CALL_RESULT")["content"]
    assert run.answer == "Your order A-1001 shipped on 30 November and arrives on 3 December."
    # The journal: what our server asked the model, and what it sent back.
    asked, told = gp_model.journal
    assert [asked.script, told.script] == ["script 'look it up'", "script 'answer'"]
    assert [asked.status, told.status] == [200, 200]
    assert asked.body["stream"] is True
    assert "team plan" in system_prompt(asked.body)  # the token's plan reached the prompt
    assert "10000 cents" in system_prompt(asked.body)
    assert sorted(t["function"]["name"] for t in asked.body["tools"]) == ["order_status", "refund"]
    assert tool_messages(told.body) == ["order A-1001: shipped on 30 November, arriving 3 December"]
    # Our tables: the conversation, its two messages and the tool call.
    stored = await desk.history(token, thread)
    assert stored["plan"] == "team"
    assert [(m["role"], m["content"]) for m in stored["messages"]] == [
        ("customer", WHERE),
        ("agent", run.answer),
    ]
    assert [(c["tool"], c["arguments"], c["ok"]) for c in stored["tool_calls"]] == [
        ("order_status", {"order_id": "A-1001"}, True)
    ]


@pytest.mark.parametrize(
    ("plan", "ok", "result"),
    [
        ("starter", False, "refunds over 2000 cents on the starter plan need a human"),
        ("team", True, "refunded 4500 cents of order A-1001"),
    ],
)
async def test_a_refund_over_the_plans_limit_fails_the_tool_and_the_model_is_told_why(
    desk: Desk,
    gp_jwt: JWTFactory,
    gp_model: ModelHandle,
    customer: str,
    thread: str,
    plan: str,
    ok: bool,
    result: str,
) -> None:
    gp_model.script(
        user="refund", turn=1, steps=[tool_call("refund", order_id="A-1001", amount_cents=4500)]
    )
    gp_model.script(tool_result="refund", steps=[text("Here is what happened to your refund.")])
    token = gp_jwt.valid(customer, plan)

    run = await desk.chat(token, thread, "Please refund order A-1001 in full.")

    assert run.types[-1] == "RUN_FINISHED", run.types  # a failed tool does not fail the run
    assert run.answer == "Here is what happened to your refund."
    told = gp_model.journal[-1]
    assert len(gp_model.journal) == 2
    assert len(tool_messages(told.body)) == 1
    assert result in tool_messages(told.body)[0]
    stored = await desk.history(token, thread)
    (call,) = stored["tool_calls"]
    assert (call["tool"], call["ok"]) == ("refund", ok)
    assert result in call["result"]
    assert call["arguments"] == {"order_id": "A-1001", "amount_cents": 4500}


async def test_a_429_from_the_model_is_retried_after_its_retry_after_and_the_customer_never_sees_it(
    desk: Desk, gp_jwt: JWTFactory, gp_model: ModelHandle, customer: str, thread: str
) -> None:
    gp_model.script(name="throttled", times=1, steps=[error(429, "slow down", retry_after=0.05)])
    gp_model.script(name="answer", steps=[text("Hello! How can I help with your order?")])
    token = gp_jwt.valid(customer, "starter")

    run = await desk.chat(token, thread, "Hello")

    assert "RUN_ERROR" not in run.types, run.types
    assert run.types[-1] == "RUN_FINISHED", run.types
    assert run.answer == "Hello! How can I help with your order?"
    assert [(e.script, e.status) for e in gp_model.journal] == [
        ("script 'throttled'", 429),
        ("script 'answer'", 200),
    ]
    first, retried = gp_model.requests
    assert first == retried  # the same request, sent again
    stored = await desk.history(token, thread)
    assert [m["role"] for m in stored["messages"]] == ["customer", "agent"]


async def test_a_stream_cut_mid_answer_ends_the_run_in_error_and_stores_no_half_answer(
    desk: Desk, gp_jwt: JWTFactory, gp_model: ModelHandle, customer: str, thread: str
) -> None:
    full = "Your refund of 45 euros reaches your card within five working days."
    gp_model.script(name="cut", times=1, steps=[text(full), cut_after(4)])
    gp_model.script(name="whole", steps=[text(full)])
    token = gp_jwt.valid(customer, "business")

    cut = await desk.chat(token, thread, "When do I get my refund?")

    assert cut.types[-1] == "RUN_ERROR", cut.types
    assert "RUN_FINISHED" not in cut.types
    assert cut.answer  # part of the answer was streamed before the cut...
    assert full.startswith(cut.answer)
    assert cut.answer != full  # ...and only part
    assert [(e.script, e.status) for e in gp_model.journal] == [
        ("script 'cut'", 200)
    ]  # not retried
    stored = await desk.history(token, thread)
    assert [m["role"] for m in stored["messages"]] == ["customer"]  # no half answer kept

    again = await desk.chat(token, thread, "When do I get my refund?")

    assert again.types[-1] == "RUN_FINISHED", again.types
    assert again.answer == full
    stored = await desk.history(token, thread)
    assert [(m["role"], m["content"]) for m in stored["messages"]][-1] == ("agent", full)
    assert [m["role"] for m in stored["messages"]] == ["customer", "customer", "agent"]


@pytest.mark.stage("sign-in")
@pytest.mark.parametrize(
    "bad",
    ["none", "expired", "wrong audience", "another key", "no chat scope", "unknown plan"],
)
async def test_a_bad_token_is_refused_before_the_model_is_called(
    desk: Desk, gp_jwt: JWTFactory, gp_model: ModelHandle, customer: str, thread: str, bad: str
) -> None:
    tokens = {
        "expired": lambda: gp_jwt.expired(customer, "team"),
        "wrong audience": lambda: gp_jwt.wrong_audience(customer, "team"),
        "another key": lambda: gp_jwt.other_key(customer, "team"),
        "no chat scope": lambda: gp_jwt.valid(customer, "team", scope="orders:read"),
        "unknown plan": lambda: gp_jwt.valid(customer, "platinum"),
    }
    headers = auth(tokens[bad]()) if bad in tokens else {}
    body = {
        "threadId": thread,
        "runId": "r1",
        "messages": [{"id": "m", "role": "user", "content": "hi"}],
        "state": {},
        "tools": [],
        "context": [],
        "forwardedProps": {},
    }

    refused = await desk.client.post("/agui", json=body, headers=headers)

    assert refused.status_code == 401, refused.text
    assert gp_model.journal == []


@pytest.mark.stage("history")
async def test_another_customers_conversation_is_not_found_and_not_continued(
    desk: Desk, gp_jwt: JWTFactory, gp_model: ModelHandle, customer: str, thread: str
) -> None:
    gp_model.script(steps=[text("Noted.")])
    owner = gp_jwt.valid(customer, "team")
    await desk.chat(owner, thread, "My address changed.")
    intruder = gp_jwt.valid(f"{customer}-other", "team")

    read = await desk.client.get(f"/conversations/{thread}", headers=auth(intruder))
    body = {
        "threadId": thread,
        "runId": "r2",
        "messages": [{"id": "m", "role": "user", "content": "and now?"}],
        "state": {},
        "tools": [],
        "context": [],
        "forwardedProps": {},
    }
    continued = await desk.client.post("/agui", json=body, headers=auth(intruder))

    assert (read.status_code, continued.status_code) == (404, 404)
    assert len(gp_model.journal) == 1  # only the owner's run reached the model
    stored = await desk.history(owner, thread)
    assert json.dumps(stored).count("and now?") == 0
