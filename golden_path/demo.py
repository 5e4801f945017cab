"""``golden-path demo``: the golden path of every customer tier, live, on real services.

It starts embedded PostgreSQL and Redis and a reference server, then runs one
scripted journey per tier over a real WebSocket, printing each run's events as
they arrive, and one journey of an AG-UI client (``POST /agui``, protocol §12).
Each journey checks what it sees against the protocol: the event contract
(``golden_path.testing.v1.contract``, or the AG-UI one), the persisted run, the
stream that ``resume`` replays after a dropped connection, and the refusals a
tier must give. The exit status is 0 only when every journey behaved as the protocol says.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from golden_path.client import ApiError, GoldenPathHTTP, GoldenPathSocket, RunHandle, TokenSet
from golden_path.client.socket import AuthMethod
from golden_path.protocol import (
    GOLDEN_EVENTS,
    TERMINAL_EVENTS,
    ErrorCode,
    EventType,
    RunStatus,
    ServerFrame,
    websocket_url,
)
from golden_path.server.agui.mapping import AGUI_PATH, METADATA_KEY
from golden_path.testing.agui.client import AGUIClient, AGUIRun
from golden_path.testing.agui.contract import Stage
from golden_path.testing.v1.contract import check_events
from golden_path.tiers import TIER_ORDER, Tier

if TYPE_CHECKING:
    pass

TERMINAL_TYPES = frozenset(t.value for t in TERMINAL_EVENTS)
PASSWORD = "demo-password-123"  # noqa: S105 - a throwaway account on throwaway servers
QUESTIONS: dict[Tier, str] = {
    Tier.FREE: "We run gpt-4o at 2M tokens/day with 20,000 requests per day. "
    "How can we cut our AI spend?",
    Tier.EARLY: "Our stack: claude-3-opus at 5M tokens/day and gpt-4o at 1M tokens/day. "
    "Recommend optimizations to save money.",
    Tier.MID: "We use gpt-4.1 at 8M tokens/day, 50,000 requests per day. "
    "Build a cost report for my team with savings.",
    Tier.ENTERPRISE: "We run gpt-4o at 20M tokens/day and claude-3-5-sonnet at 5M tokens/day. "
    "Forecast our spend, find anomalies and optimize.",
}
# Forecasting is priced above the enterprise plan's approval threshold (protocol §12.1).
APPROVAL_QUESTION = "We run gpt-4o at 20M tokens/day. Forecast next week's spend."
HANDSHAKES: dict[Tier, AuthMethod] = {
    Tier.FREE: "header",
    Tier.EARLY: "subprotocol",
    Tier.MID: "ticket",
    Tier.ENTERPRISE: "header",
}


def _event_after(request_id: str, after_seq: int) -> Callable[[dict[str, Any]], bool]:
    """Matches the next event of ``request_id`` after ``after_seq``."""
    return lambda f: f.get("request_id") == request_id and "seq" in f and f["seq"] > after_seq


def _end_of(request_id: str) -> Callable[[dict[str, Any]], bool]:
    """Matches what ends a request: its terminal event, or the error that refused it."""
    return lambda f: (
        f.get("request_id") == request_id
        and (f.get("type") == ServerFrame.ERROR or f.get("type") in TERMINAL_TYPES)
    )


@dataclass
class Journey:
    tier: Tier
    name: str = ""  # the summary's label (default: the tier's name)
    runs: int = 0
    events: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cost_usd: float = 0.0
    refused: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)


class Demo:
    def __init__(self, base_url: str, ws_url: str, out: TextIO = sys.stdout) -> None:
        self.base_url = base_url
        self.ws_url = ws_url
        self.out = out

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def run(self) -> list[Journey]:
        journeys = []
        async with GoldenPathHTTP(self.base_url) as api:
            for tier in TIER_ORDER:
                journey = Journey(tier)
                self.say(f"\n== {tier.value} customer ==")
                try:
                    await self._journey(api, journey)
                except Exception as exc:  # a journey that breaks is a failed journey, not a crash
                    journey.problems.append(f"{type(exc).__name__}: {exc}")
                journeys.append(journey)
            for journey, title, walk in (
                (Journey(Tier.EARLY, name="ag-ui"), "early", self.agui_journey),
                (
                    Journey(Tier.ENTERPRISE, name="approval"),
                    "enterprise, a tool that asks approval first",
                    self.approval_journey,
                ),
            ):
                self.say(f"\n== an AG-UI client (POST /agui), {title} ==")
                try:
                    await walk(api, journey)
                except Exception as exc:
                    journey.problems.append(f"{type(exc).__name__}: {exc}")
                journeys.append(journey)
        return journeys

    async def _agui_user(self, api: GoldenPathHTTP, tier: Tier) -> TokenSet:
        email = f"agui-{uuid.uuid4().hex[:8]}@demo.golden-path.dev"
        await api.signup(email, PASSWORD)
        tokens = await api.login(email, PASSWORD)
        return await api.upgrade(tokens.access_token, tier.value)

    async def _agui_run(self, agui: AGUIClient, journey: Journey, **what: Any) -> AGUIRun:
        sent = time.perf_counter()
        async with agui.stream(**what) as stream:
            async for event in stream:
                self.say(f"  {(time.perf_counter() - sent) * 1000:8.1f} ms  {event.get('type')}")
        journey.runs += 1
        journey.events += len(stream.run.events)
        journey.latencies_ms.append((time.perf_counter() - sent) * 1000)
        violations = stream.run.violations()
        journey.expect(not violations, "AG-UI contract: " + "; ".join(map(str, violations)))
        return stream.run

    async def approval_journey(self, api: GoldenPathHTTP, journey: Journey) -> None:
        """A run that pauses before a tool priced above the tier's approval threshold
        (protocol §12.1), approved by the next run on its thread: one run, billed once."""
        tokens = await self._agui_user(api, journey.tier)
        async with AGUIClient(self.base_url + AGUI_PATH, token=tokens.access_token) as agui:
            thread = f"demo-{uuid.uuid4().hex[:8]}"
            paused = await self._agui_run(
                agui, journey, message=APPROVAL_QUESTION, thread_id=thread
            )
            journey.expect(len(paused.interrupts) == 1, f"no interrupt: {paused.terminal}")
            for interrupt in paused.interrupts:
                self.say(f"  the run pauses: {interrupt.get('message')}")
            self.say("  the user approves; the next run on the thread answers the interrupt:")
            body = agui.make_input(
                thread_id=thread,
                messages=[*paused.input["messages"], *paused.history()],
                resume=[
                    {"interruptId": i["id"], "status": "resolved", "payload": {"approved": True}}
                    for i in paused.interrupts
                ],
            )
            resumed = await self._agui_run(agui, journey, input=body)
        journey.runs -= 1  # the answer continues the paused run: one run of the server
        ids = [r.events[0].get("metadata", {}).get(METADATA_KEY, {}) for r in (paused, resumed)]
        journey.expect(ids[0].get("run_id") == ids[1].get("run_id"), f"two server runs: {ids}")
        stored = await api.run(tokens.access_token, str(ids[0].get("run_id")))
        journey.expect(stored["status"] == RunStatus.SUCCEEDED, f"run: {stored['status']}")
        usage = await api.usage(tokens.access_token)
        journey.cost_usd = float(usage["totals"]["cost_usd"])
        journey.expect(usage["totals"]["runs"] == 1, f"/usage bills {usage['totals']['runs']} runs")
        self.say(f"  approved and completed as run {ids[0].get('run_id')}, billed once")

    async def agui_journey(self, api: GoldenPathHTTP, journey: Journey) -> None:
        """One run over AG-UI: a valid AG-UI stream, a run of the server, billed once."""
        tokens = await self._agui_user(api, journey.tier)
        async with AGUIClient(self.base_url + AGUI_PATH, token=tokens.access_token) as agui:
            sent = time.perf_counter()
            async with agui.stream(QUESTIONS[journey.tier]) as stream:
                async for event in stream:
                    at = (time.perf_counter() - sent) * 1000
                    self.say(f"  {at:8.1f} ms  {event.get('type')}")
            run = stream.run
            journey.runs += 1
            journey.events += len(run.events)
            journey.latencies_ms.append((time.perf_counter() - sent) * 1000)
            wanted = (Stage.STARTED, Stage.TOOL_COMPLETED, Stage.COMPLETED)
            violations = run.violations(stages=wanted)
            journey.expect(not violations, "AG-UI contract: " + "; ".join(map(str, violations)))
            too_long = await agui.run("x" * (journey.tier.limits.max_message_chars + 1))
            code = str((too_long.terminal or {}).get("code"))
            journey.refused[code] += 1
            journey.expect(code == ErrorCode.MESSAGE_TOO_LONG, f"long message: {too_long.types}")
            self.say(f"  a message over the limit: {too_long.types} {code}")
        run_id = run.events[0].get("metadata", {}).get(METADATA_KEY, {}).get("run_id")
        stored = await api.run(tokens.access_token, str(run_id))
        journey.expect(stored["status"] == RunStatus.SUCCEEDED, f"run {run_id}: {stored['status']}")
        answer = stored["events"][-1].get("final_response")
        journey.expect(answer == run.text, "the persisted answer differs from the streamed one")
        usage = await api.usage(tokens.access_token)
        journey.cost_usd = float(usage["totals"]["cost_usd"])
        journey.expect(usage["totals"]["runs"] == 1, f"/usage bills {usage['totals']['runs']} runs")
        self.say(f"  persisted as run {run_id}: {len(stored['events'])} v1 events, billed once")

    async def _connect(self, api: GoldenPathHTTP, tokens: TokenSet, tier: Tier) -> GoldenPathSocket:
        method = HANDSHAKES[tier]
        ticket = await api.ws_ticket(tokens.access_token) if method == "ticket" else None
        sock = await GoldenPathSocket.connect(
            self.ws_url, tokens.access_token, method=method, ticket=ticket
        )
        self.say(f"  connected by {method}: {sock.established['connection_id']}")
        return sock

    async def _ask(
        self, journey: Journey, sock: GoldenPathSocket, content: str, **kw: Any
    ) -> RunHandle:
        """Send a message and print its events as they arrive, until its terminal event."""
        handle = await sock.send_message(content, **kw)
        last_seq = 0
        while True:
            event = await sock.wait_for(
                _event_after(handle.request_id, last_seq),
                what=f"the next event of {handle.request_id}",
                error_for=handle.request_id,
            )
            self._print_event(event, handle)
            last_seq = event["seq"]
            if EventType(event["type"]).is_terminal:
                break
        elapsed_ms = (time.perf_counter() - handle.sent_at) * 1000
        handle.events = [e for e in sock.events() if e.get("request_id") == handle.request_id]
        handle.run_id = str(event["run_id"])
        journey.runs += 1
        journey.events += len(handle.events)
        journey.latencies_ms.append(elapsed_ms)
        return handle

    def _print_event(self, event: dict[str, Any], handle: RunHandle) -> None:
        at = (time.perf_counter() - handle.sent_at) * 1000
        detail = ""
        kind = event["type"]
        if kind == EventType.AGENT_THINKING:
            detail = str(event.get("reasoning", ""))[:70]
        elif kind in (EventType.TOOL_EXECUTING, EventType.TOOL_COMPLETED):
            detail = str(event.get("tool_name"))
        elif kind == EventType.AGENT_COMPLETED:
            usage = event.get("usage", {})
            detail = f"{usage.get('input_tokens')}+{usage.get('output_tokens')} tokens"
            if event.get("upgrade"):
                detail += f", upgrade to {event['upgrade']['required_tier']} offered"
        elif kind == EventType.AGENT_ERROR:
            detail = f"{event.get('code')}: {event.get('message')}"
        self.say(f"  {at:8.1f} ms  #{event['seq']:<3} {kind:<16} {detail}")

    async def _journey(self, api: GoldenPathHTTP, journey: Journey) -> None:
        tier = journey.tier
        email = f"{tier.value}-{uuid.uuid4().hex[:8]}@demo.golden-path.dev"
        account = await api.signup(email, PASSWORD)
        tokens = await api.login(email, PASSWORD)
        self.say(f"  signed up {account['user_id']} and logged in")
        if tier is not Tier.FREE:
            tokens = await api.upgrade(tokens.access_token, tier.value)
            self.say(f"  upgraded to {tier.value}")
        sock = await self._connect(api, tokens, tier)
        try:
            first = await self._ask(journey, sock, QUESTIONS[tier])
            self._check_answer(journey, first)
            if tier is Tier.FREE:
                await self._free_limits(journey, api, sock, first)
            sock = await self._drop_and_resume(journey, api, tokens, sock)
            await self._check_persisted(journey, api, tokens)
            usage = await api.usage(tokens.access_token)
            journey.cost_usd = float(usage["totals"]["cost_usd"])
            journey.expect(
                usage["totals"]["runs"] == journey.runs,
                f"/usage bills {usage['totals']['runs']} runs, the journey ran {journey.runs}",
            )
        finally:
            await sock.close()

    def _check_answer(self, journey: Journey, handle: RunHandle) -> None:
        final = handle.events[-1]
        journey.expect(
            final["type"] == EventType.AGENT_COMPLETED, f"the first run ended with {final}"
        )
        types = {e["type"] for e in handle.events}
        missing = [t.value for t in GOLDEN_EVENTS if t not in types]
        journey.expect(not missing, f"the first run lacks {missing}")
        wants_upgrade = journey.tier is Tier.FREE
        verdict = "missing" if wants_upgrade else "unexpected"
        journey.expect(
            bool(final.get("upgrade")) == wants_upgrade,
            f"upgrade prompt {verdict}: {final.get('upgrade')}",
        )

    async def _free_limits(
        self, journey: Journey, api: GoldenPathHTTP, sock: GoldenPathSocket, first: RunHandle
    ) -> None:
        self.say("  -- a message over the free plan's length limit")
        too_long = "x" * (Tier.FREE.limits.max_message_chars + 1)
        handle = await sock.send_message(too_long)
        error = await sock.error_for(handle.request_id)
        journey.refused[error["code"]] += 1
        journey.expect(error["code"] == ErrorCode.MESSAGE_TOO_LONG, f"long message: {error}")
        self.say(f"  refused: {error['code']}: {error['message']}")
        self.say("  -- using up the free plan's runs of the day")
        thread_id = first.events[0]["thread_id"]
        while True:
            handle = await sock.send_message(
                "How much do 2M tokens/day on gpt-4o-mini cost?", thread_id=thread_id
            )
            outcome = await sock.wait_for(
                _end_of(handle.request_id),
                what=f"the end of {handle.request_id}",
            )
            if outcome["type"] == ServerFrame.ERROR:
                break
            journey.runs += 1
            journey.latencies_ms.append((time.perf_counter() - handle.sent_at) * 1000)
            journey.events += sum(
                1 for e in sock.events() if e.get("request_id") == handle.request_id
            )
        journey.refused[outcome["code"]] += 1
        journey.expect(outcome["code"] == ErrorCode.QUOTA_EXCEEDED, f"quota: {outcome}")
        journey.expect(
            journey.runs == Tier.FREE.limits.runs_per_day,
            f"the quota stopped the free user after {journey.runs} runs",
        )
        upgrade = outcome.get("upgrade") or {}
        self.say(
            f"  refused after {journey.runs} runs: {outcome['code']}; "
            f"offered: {upgrade.get('required_tier')}"
        )

    async def _drop_and_resume(
        self, journey: Journey, api: GoldenPathHTTP, tokens: TokenSet, sock: GoldenPathSocket
    ) -> GoldenPathSocket:
        if journey.tier is Tier.FREE:
            tokens = await api.upgrade(tokens.access_token, Tier.EARLY.value)
            self.say("  -- upgraded to early: the quota is lifted")
            await sock.close()
            sock = await GoldenPathSocket.connect(self.ws_url, tokens.access_token)
        self.say("  -- the network drops right after a message; the client reconnects")
        last_seen = max((e["seq"] for e in sock.events()), default=sock.established["last_seq"])
        handle = await sock.send_message(QUESTIONS[journey.tier])
        await handle.first(EventType.AGENT_STARTED)
        await sock.drop()
        again = await GoldenPathSocket.connect(self.ws_url, tokens.access_token)
        await again.resume(last_seen)
        resumed, expected, final = await resumed_run(again, last_seen, handle.request_id)
        journey.expect(
            resumed == expected,
            f"after reconnecting, the resume sent {resumed}; expected {expected} in order",
        )
        journey.runs += 1
        journey.events += sum(1 for e in again.events() if e["request_id"] == handle.request_id)
        self.say(
            f"  resumed after #{last_seen}: {len(resumed)} events, none lost, none twice; "
            f"the run ended with {final['type']}"
        )
        return again

    async def _check_persisted(
        self, journey: Journey, api: GoldenPathHTTP, tokens: TokenSet
    ) -> None:
        stream = (await api.events(tokens.access_token, after_seq=0))["events"]
        violations = check_events(stream, first_seq=1)
        journey.expect(not violations, "persisted stream: " + "; ".join(map(str, violations)))
        runs = {e["run_id"] for e in stream}
        for run_id in runs:
            run = await api.run(tokens.access_token, run_id)
            journey.expect(run["status"] == RunStatus.SUCCEEDED, f"run {run_id} is {run['status']}")
        self.say(f"  persisted: {len(stream)} events in {len(runs)} runs, contract holds")


def summary(journeys: list[Journey]) -> str:
    head = f"{'tier':<11}{'runs':>5}{'events':>8}{'p50 ms':>9}{'max ms':>9}{'cost $':>10}  refused"
    lines = [head, "-" * len(head)]
    for j in journeys:
        p50 = statistics.median(j.latencies_ms) if j.latencies_ms else 0.0
        worst = max(j.latencies_ms, default=0.0)
        refused = ", ".join(f"{code} x{n}" for code, n in j.refused.items()) or "-"
        lines.append(
            f"{j.name or j.tier.value:<11}{j.runs:>5}{j.events:>8}{p50:>9.1f}{worst:>9.1f}"
            f"{j.cost_usd:>10.4f}  {refused}"
        )
    return "\n".join(lines)


async def run_journeys(base_url: str, ws_url: str, out: TextIO = sys.stdout) -> bool:
    journeys = await Demo(base_url, ws_url, out).run()
    print("\n" + summary(journeys), file=out)
    failed = [j for j in journeys if j.problems]
    for journey in failed:
        print(f"\n{journey.tier.value}: differs from the protocol:", file=out)
        for problem in journey.problems:
            print(f"  - {problem}", file=out)
    print(
        "\nEvery journey behaved as the protocol says."
        if not failed
        else f"\n{len(failed)} of {len(journeys)} journeys differ from the protocol.",
        file=out,
    )
    return not failed


def main(url: str | None = None, serve: bool = False, port: int = 8000) -> int:
    """Run the demo against ``url``, or against a server it starts on embedded services.

    With ``serve`` (and no ``url``), the chat page is served on ``port`` afterwards, on
    the same services, until Ctrl-C.
    """
    if url is not None:
        base = url.rstrip("/")
        return 0 if asyncio.run(run_journeys(base, websocket_url(base))) else 1

    from golden_path.server.config import Settings
    from golden_path.server.runner import ServerThread
    from golden_path.services.embedded import EmbeddedProvider

    began = time.perf_counter()
    provider = EmbeddedProvider()
    try:
        services = provider.start()
    except Exception as exc:
        print(f"golden-path demo: could not start the embedded services: {exc}", file=sys.stderr)
        return 1
    try:
        print(
            f"embedded PostgreSQL {services.postgres_version} and Redis {services.redis_version} "
            f"up in {(time.perf_counter() - began) * 1000:.0f} ms",
            flush=True,
        )
        settings = Settings(postgres_dsn=services.postgres_dsn, redis_url=services.redis_url)
        with ServerThread(settings.validated()) as server:
            print(f"reference server on {server.base_url}", flush=True)
            ok = asyncio.run(run_journeys(server.base_url, server.ws_url))
        if serve:
            from golden_path.server.chat_page import serve_chat_page

            ok = serve_chat_page(settings.validated(), port) and ok
    except ApiError as exc:
        print(f"golden-path demo: {exc}", file=sys.stderr)
        ok = False
    finally:
        provider.stop()
    return 0 if ok else 1


async def resumed_run(
    sock: GoldenPathSocket, last_seen: int, request_id: str
) -> tuple[list[int], list[int], dict[str, Any]]:
    """After ``resume(last_seen)`` on ``sock``: the seqs the resume sent up to the run's end,
    the seqs it owes (``last_seen`` + 1 to the terminal event's), and the terminal event.

    Events after the new socket's start can come live before the resume is read (the
    run's end among them, on a busy machine), so waiting for the first terminal event is
    not enough: this waits for the resume's own first event (``last_seen`` + 1, persisted
    before the drop and so never sent live to the new socket), then for the terminal
    event after it.
    """
    first = last_seen + 1
    began = await sock.wait_for(
        lambda f: f.get("seq") == first, what=f"the resume's first event (#{first})"
    )
    since = _index_of(sock.received(), began)
    final = await sock.wait_for(
        lambda f: f.get("request_id") == request_id and EventType(f["type"]).is_terminal,
        what="the resumed run's terminal event",
        since=since,
    )
    received = [int(f["seq"]) for f in sock.received()[since:] if "seq" in f]
    resumed = received[: received.index(int(final["seq"])) + 1]
    return resumed, list(range(first, int(final["seq"]) + 1)), final


def _index_of(frames: list[dict[str, Any]], frame: dict[str, Any]) -> int:
    """The position of ``frame`` itself (not an equal copy) in ``frames``."""
    return next(i for i, candidate in enumerate(frames) if candidate is frame)
