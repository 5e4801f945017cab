"""The Locust users of the golden path, their options, the progress line and the CI gate.

The only module of golden-path that imports Locust (and so gevent's monkeypatching):
``golden-path load`` runs it in Locust's own processes, never in the caller's. Locust is
started with ``-f`` this file; the options below (``--gp-*``) are given to the master,
which hands them to every worker with each spawn (Locust's own custom arguments), so a
worker on another machine needs only ``--master-host``.

* :class:`V1User`: protocol v1 over a WebSocket (``websocket-client``), one socket kept
  open from run to run, as a chat client keeps it;
* :class:`AGUIUser`: AG-UI over HTTP and Server-Sent Events (Locust's ``HttpUser`` session).

Each signs in once (its ``on_start``), then runs the golden path in a closed loop: the next
message as soon as a run ends. Per run it reports ``golden path run`` (timed to the
completed event; a failure when the run did not complete or broke the contract), ``time to
first event`` and ``largest gap between events``, and one failure per broken rule under
``contract`` (the rule is its name). Workers count their runs and resumes and send them with
Locust's reports; the master merges Locust's statistics (Locust's own merging), prints a
progress line, and at the end writes the JSON summary and sets the exit status
(:mod:`golden_path.load.gate`).
"""

from __future__ import annotations

import logging
import random
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import gevent
import locust.runners
import websocket
from locust import HttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from golden_path.load import gate, scenarios
from golden_path.load.agui_run import Streamed, run_agui
from golden_path.load.auth import LoginHook, SignInError, load_hook, sign_in
from golden_path.load.timing import RunOutcome
from golden_path.load.tokens import JWTSettings, minter
from golden_path.load.v1_run import ABANDONED, ProtocolMismatch, V1Connection
from golden_path.protocol import websocket_url
from golden_path.testing.agui.contract import RULES as AGUI_RULES
from golden_path.testing.v1.contract import RULES as V1_RULES

# Workers report to the master every second (Locust's default: 3 s), so the master's
# progress line and its steady window (see ``steady``) lag the load by at most that.
locust.runners.WORKER_REPORT_INTERVAL = 1.0

DROP_AFTER = 2  # a resumed run drops its connection after this many events
LOG = logging.getLogger("golden_path.load")
SLOW_BUFFER = 4096  # a slow reader's receive buffer, in bytes
SAMPLES = 5  # the violations each worker logs in full (the rest are counted)


class RunFailed(Exception):
    """A run that did not complete: refused, errored, timed out or cut."""


class ContractBroken(Exception):
    """A run broke the contract; the message names the rule."""


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("golden-path")
    group.add_argument("--gp-tier", default="enterprise", help="the plan each user upgrades to")
    group.add_argument("--gp-login-hook", default="", help="package.module:callable -> token")
    group.add_argument("--gp-resume-share", type=float, default=0.2, help="runs that resume")
    group.add_argument("--gp-run-timeout", type=float, default=30.0, help="seconds per run")
    group.add_argument("--gp-turns", type=int, default=1, help="messages per conversation")
    group.add_argument("--gp-max-fail-ratio", type=float, default=0.0)
    group.add_argument("--gp-max-p99-ms", type=float, default=0.0, help="0: no limit")
    group.add_argument("--gp-summary", default="", help="where the master writes summary.json")
    group.add_argument("--gp-progress-s", type=float, default=2.0, help="progress line period")
    group.add_argument("--gp-mix", default=scenarios.DEFAULT_MIX, help="golden=8,drop=1,slow=1")
    group.add_argument("--gp-slow-read-ms", type=float, default=100.0, help="a slow read's wait")
    group.add_argument("--gp-jwt", default="", help="gp_jwt settings (JSON): mint tokens")
    group.add_argument("--gp-message", default=scenarios.MESSAGE, help="what each user sends")


# This process's runs and resumes since its last report to the master.
_counts = gate.WorkerCount()
# The master's merge of every worker's reports, by Locust client id.
_workers: dict[str, gate.WorkerCount] = {}
_logged = 0
# The master's view of the steady part of the run (every user signed in): when it began,
# the runs and the workers' CPU seconds then; and when the run stopped.
_worker_cpu: dict[str, float] = {}
_steady: list[float] = []  # [at, runs, cpu_s] once every user has signed in
_stopped: list[float] = []


def options_of(env: Environment) -> Any:
    """The parsed options (Locust's and the ``--gp-*`` ones), which a run always has."""
    if env.parsed_options is None:
        raise RuntimeError("golden_path.load.locustfile runs under locust's own command line")
    return env.parsed_options


def _ms_since(began: float) -> float:
    return (time.perf_counter() - began) * 1000


def _fire(env: Environment, kind: str, name: str, ms: float, exc: Exception | None) -> None:
    env.events.request.fire(
        request_type=kind,
        name=name,
        response_time=ms,
        response_length=0,
        exception=exc,
        context={},
    )


def report(
    env: Environment,
    kind: str,
    outcome: RunOutcome,
    rules: Mapping[str, str],
    row: str = gate.RUN,
) -> None:
    """One run's figures and failures, as Locust request events (``row``: the run's name,
    :data:`gate.RUN` for the golden path, another for the other scenarios)."""
    global _logged
    arrivals = outcome.arrivals
    elapsed = (time.perf_counter() - arrivals.sent) * 1000
    broken = sorted({v.rule for v in outcome.errors})
    exc: Exception | None = None
    if broken:
        exc = ContractBroken("broke " + ", ".join(broken))
    elif not outcome.completed:
        exc = RunFailed(outcome.error or "the run did not complete")
    if row != gate.RUN:  # the other scenarios: their own row, timed to their end
        _fire(env, kind, row, elapsed, exc)
    else:
        _fire(env, kind, gate.RUN, arrivals.last_event_ms or elapsed, exc)
    if row == gate.RUN and arrivals.first_event_ms is not None:
        _fire(env, kind, gate.FIRST_EVENT, arrivals.first_event_ms, None)
    if row == gate.RUN and arrivals.largest_gap_ms is not None:
        _fire(env, kind, gate.LARGEST_GAP, arrivals.largest_gap_ms, None)
    for rule in broken:
        _fire(env, gate.CONTRACT, rule, 0.0, ContractBroken(rules.get(rule, rule)))
    for violation in outcome.errors:
        if _logged < SAMPLES:
            _logged += 1
            LOG.error("contract violation %s", violation)
    if row == gate.RUN:
        _counts.runs += 1
        _counts.resumed += int(outcome.resumed)


class _GoldenPathUser(HttpUser):
    abstract = True
    wait_time = constant(0)  # a closed loop: the next message as soon as a run ends
    kind = ""
    rules: ClassVar[Mapping[str, str]] = {}
    token = ""
    mix: dict[str, int]

    def on_start(self) -> None:
        options = options_of(self.environment)
        hook: LoginHook | None = None
        try:
            self.mix = scenarios.parse_mix(options.gp_mix)
            if options.gp_jwt:
                hook = minter(JWTSettings.from_json(options.gp_jwt), options.gp_tier)
            elif options.gp_login_hook:
                hook = load_hook(options.gp_login_hook)
            began = time.perf_counter()
            self.token = sign_in(self._post, self.host or "", options.gp_tier, hook)
            _fire(self.environment, self.kind, gate.SIGN_IN, _ms_since(began), None)
        except (SignInError, OSError, ValueError) as exc:  # requests' errors are OSErrors
            _fire(self.environment, self.kind, gate.SIGN_IN, 0.0, exc)
            raise StopUser from exc

    def _post(self, path: str, body: dict[str, Any], token: str | None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        with self.client.post(
            path, json=body, headers=headers, name=path, catch_response=True
        ) as answer:
            answer.success()  # sign_in judges the answer (a refusal is a SIGN_IN failure)
            return answer

    turn = 0  # messages sent in the current conversation
    thread = ""  # the conversation's thread (v1: the server's id; AG-UI: the client's)

    def _next_thread(self) -> str | None:
        """The thread the next message continues, or None to start a new conversation."""
        turns = max(1, int(options_of(self.environment).gp_turns))
        if self.turn >= turns or not self.thread:
            self.turn, self.thread = 0, ""
        self.turn += 1
        return self.thread or None

    def _drop_after(self) -> int | None:
        share = float(options_of(self.environment).gp_resume_share)
        return DROP_AFTER if random.random() < share else None

    def _get(self, path: str) -> Any:
        headers = {"authorization": f"Bearer {self.token}"}
        name = "GET /runs/{run_id}" if path.startswith("/runs/") else path
        with self.client.get(path, headers=headers, name=name, catch_response=True) as answer:
            answer.success()  # the scenario judges the answer
            return answer

    def run_once(
        self, drop_after: int | None, timeout: float, read_delay: float = 0.0, abandon: bool = False
    ) -> RunOutcome:
        """One run of this user's protocol; V1User and AGUIUser each define it (this class
        is Locust-abstract and never runs)."""
        raise NotImplementedError

    def _scenario(self, scenario: str, timeout: float) -> RunOutcome:
        if scenario == "drop":
            live = self.run_once(DROP_AFTER, timeout, abandon=True)
            if live.completed or live.error != ABANDONED:
                return live  # it ended (or failed) before the drop: judged as it is
            return scenarios.follow_abandoned(self._get, live, timeout)
        if scenario == "slow":
            delay = float(options_of(self.environment).gp_slow_read_ms) / 1000
            return self.run_once(None, timeout, read_delay=delay)
        return self.run_once(self._drop_after(), timeout)

    @task
    def golden_path(self) -> None:
        timeout = float(options_of(self.environment).gp_run_timeout)
        scenario = scenarios.pick(self.mix)
        row = gate.SCENARIO_ROWS.get(scenario, gate.RUN)
        began = time.perf_counter()
        try:
            outcome = self._scenario(scenario, timeout)
        except ProtocolMismatch as exc:
            _fire(self.environment, gate.PROTOCOL, "another protocol", 0.0, exc)
            raise StopUser from exc
        except (OSError, ValueError, RuntimeError, websocket.WebSocketException) as exc:
            ms = (time.perf_counter() - began) * 1000
            failed = RunFailed(f"{type(exc).__name__}: {str(exc)[:200]}")
            _fire(self.environment, self.kind, row, ms, failed)
            return
        report(self.environment, self.kind, outcome, self.rules, row)


def _small_buffer(url: str, **options: Any) -> websocket.WebSocket:
    """A socket whose kernel receive buffer is small (4 KiB): a slow reader's, so the
    server's writes wait on it rather than on a large buffer."""
    sockopt = ((socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_BUFFER),)
    return websocket.create_connection(url, sockopt=sockopt, **options)


class V1User(_GoldenPathUser):
    """Protocol v1 over a WebSocket (``websocket-client``; gevent makes it cooperative),
    kept open from run to run as a chat client keeps it."""

    kind = "v1"
    rules = V1_RULES
    connection: V1Connection | None = None
    slow: V1Connection | None = None  # a slow reader's own socket, with a small buffer

    def run_once(
        self, drop_after: int | None, timeout: float, read_delay: float = 0.0, abandon: bool = False
    ) -> RunOutcome:
        url = websocket_url(self.host or "")
        if read_delay:
            if self.slow is None:
                self.slow = V1Connection(url, self.token, connect=_small_buffer)
            connection = self.slow
        else:
            if self.connection is None:
                self.connection = V1Connection(url, self.token)
            connection = self.connection
        thread = self._next_thread()
        outcome = connection.run(
            str(options_of(self.environment).gp_message),
            drop_after=drop_after,
            timeout=timeout,
            thread_id=thread,
            read_delay=read_delay,
            abandon=abandon,
        )
        first = outcome.arrivals.events[0] if outcome.arrivals.events else {}
        self.thread = str(first.get("thread_id") or "") if outcome.completed else ""
        return outcome

    def on_stop(self) -> None:
        for connection in (self.connection, self.slow):
            if connection is not None:
                connection.close()


class AGUIUser(_GoldenPathUser):
    """AG-UI over HTTP and Server-Sent Events, on Locust's own HTTP session."""

    kind = "AG-UI"
    rules = AGUI_RULES

    @contextmanager
    def _stream(self, body: dict[str, Any]) -> Iterator[Streamed]:
        timeout = float(options_of(self.environment).gp_run_timeout)
        response = self.client.post(
            "/agui",
            json=body,
            headers={"authorization": f"Bearer {self.token}", "accept": "text/event-stream"},
            stream=True,
            name="POST /agui (headers)",
            timeout=timeout,
        )
        try:
            yield response
        finally:
            response.close()

    def run_once(
        self, drop_after: int | None, timeout: float, read_delay: float = 0.0, abandon: bool = False
    ) -> RunOutcome:
        thread = self._next_thread() or f"load-{uuid.uuid4().hex}"
        outcome = run_agui(
            self._stream,
            str(options_of(self.environment).gp_message),
            drop_after=drop_after,
            timeout=timeout,
            thread_id=thread,
            read_delay=read_delay,
            abandon=abandon,
        )
        self.thread = thread if outcome.completed else ""
        return outcome


# The worker's side: its counts ride on Locust's own reports to the master.
@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any]) -> None:
    data["gp_counts"] = {
        "runs": _counts.runs,
        "resumed": _counts.resumed,
        "cpu_s": time.process_time(),
    }
    _counts.runs = _counts.resumed = 0


@events.worker_report.add_listener
def _merge_counts(client_id: str, data: dict[str, Any]) -> None:
    counts = data.get("gp_counts")
    if isinstance(counts, dict):
        mine = _workers.setdefault(client_id, gate.WorkerCount())
        mine.runs += int(counts.get("runs", 0))
        mine.resumed += int(counts.get("resumed", 0))
        _worker_cpu[client_id] = float(counts.get("cpu_s", 0.0))


def _percentile(env: Environment, name: str, share: float) -> float | None:
    entries = [e for (n, _), e in env.stats.entries.items() if n == name and e.num_requests]
    if not entries:
        return None
    merged = entries[0]
    if len(entries) > 1:
        from locust.stats import StatsEntry

        merged = StatsEntry(env.stats, name, "")
        for entry in entries:
            merged.extend(entry)
    return float(merged.get_response_time_percentile(share))


def summarize(env: Environment) -> gate.Summary:
    """The run as the master's merged statistics say it."""
    options = options_of(env)
    runs = [e for (n, m), e in env.stats.entries.items() if n == gate.RUN and m != gate.CONTRACT]
    gaps = [e for (n, _), e in env.stats.entries.items() if n == gate.LARGEST_GAP]
    total = env.stats.total
    entries = list(env.stats.entries.items())
    workers = dict(_workers)
    if not isinstance(env.runner, MasterRunner):
        workers = {"local": gate.WorkerCount(_counts.runs, _counts.resumed)}
    summary = gate.Summary(
        url=env.host or "",
        protocol=", ".join(sorted(u.__name__ for u in env.user_classes)),
        users=int(options.num_users or 0),
        runs=sum(e.num_requests for e in runs),
        completed=sum(e.num_requests - e.num_failures for e in runs),
        runs_per_s=sum(e.total_rps for e in runs),
        p50_ms=_percentile(env, gate.RUN, 0.5),
        p99_ms=_percentile(env, gate.RUN, 0.99),
        first_event_p50_ms=_percentile(env, gate.FIRST_EVENT, 0.5),
        first_event_p99_ms=_percentile(env, gate.FIRST_EVENT, 0.99),
        largest_gap_max_ms=max((float(e.max_response_time) for e in gaps), default=None),
        requests=total.num_requests,
        failures=total.num_failures,
        fail_ratio=total.fail_ratio,
        violations={
            n: e.num_failures
            for (n, m), e in env.stats.entries.items()
            if m == gate.CONTRACT and e.num_failures
        },
        workers=workers,
        scenarios={
            scenario: {
                "runs": sum(e.num_requests for (n, _), e in entries if n == row),
                "failures": sum(e.num_failures for (n, _), e in entries if n == row),
            }
            for scenario, row in gate.SCENARIO_ROWS.items()
            if any(n == row and e.num_requests for (n, _), e in entries)
        },
        max_fail_ratio=float(options.gp_max_fail_ratio),
        max_p99_ms=float(options.gp_max_p99_ms) or None,
    )
    summary.reasons = gate.verdict(summary)
    return summary


def _signed_in(env: Environment) -> int:
    """Users whose sign-in ended (in or refused), as the master's merged figures say."""
    return sum(e.num_requests for (n, _), e in env.stats.entries.items() if n == gate.SIGN_IN)


def _mark_steady(env: Environment, summary: gate.Summary) -> None:
    if not _steady and not _stopped and _signed_in(env) >= summary.users > 0:
        _steady.extend([time.monotonic(), float(summary.runs), sum(_worker_cpu.values())])


def steady(summary: gate.Summary) -> None:
    """The rate and the workers' CPU from the moment every user had signed in to the stop:
    the load itself, without the signups' hashing in front of it."""
    if not _steady:
        return
    began, runs, cpu = _steady
    end = _stopped[0] if _stopped else time.monotonic()
    if end - began > 0:
        summary.steady_s = end - began
        summary.steady_runs_per_s = (summary.runs - runs) / (end - began)
        summary.steady_workers_cpu = 100 * (sum(_worker_cpu.values()) - cpu) / (end - began)


@events.test_stopping.add_listener
def _stopping(environment: Environment, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner) and not _stopped:
        _stopped.append(time.monotonic())


def _progress(env: Environment, every: float) -> None:
    began = time.monotonic()
    while True:
        gevent.sleep(every)
        summary = summarize(env)
        _mark_steady(env, summary)
        runner = env.runner
        workers = len(runner.clients) if isinstance(runner, MasterRunner) else 1
        print(
            f"golden-path load: {time.monotonic() - began:.0f} s, {workers} workers, "
            f"{runner.user_count if runner else 0} users, {summary.runs} runs, "
            f"{summary.failures} failures, {sum(summary.violations.values())} violations",
            file=sys.stderr,
            flush=True,
        )


@events.test_start.add_listener
def _start_progress(environment: Environment, **_: Any) -> None:
    every = float(options_of(environment).gp_progress_s)
    if not isinstance(environment.runner, WorkerRunner) and every > 0:
        gevent.spawn(_progress, environment, every)


@events.quitting.add_listener
def _gate(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    summary = summarize(environment)
    steady(summary)
    if options_of(environment).gp_summary:
        summary.write(Path(options_of(environment).gp_summary))
    environment.process_exit_code = 0 if summary.passed else 1
