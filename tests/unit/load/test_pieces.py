"""The pieces of ``golden-path load`` that need no server: the figures of a run, the SSE
decoder, the gate's verdict, signing in, the command line and the module boundaries."""

from __future__ import annotations

import ast
import itertools
import time
from pathlib import Path
from typing import Any

import pytest

import golden_path.load
from golden_path.cli import build_parser
from golden_path.load import auth, command, gate
from golden_path.load.sse import SSEDecoder, json_events
from golden_path.load.timing import Arrivals
from golden_path.server.config import THROTTLE_EXEMPT_ENV

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team's load test reports the figures it says (first event, completed "
        "run, largest gap) and fails its CI for the reasons it names",
        revenue_impact="a gate that passes a broken contract or fails a healthy server is "
        "switched off, and the next regression under load reaches customers",
    ),
]


def test_the_figures_of_a_run_count_from_the_message() -> None:
    arrivals = Arrivals(sent=10.0)
    for at in (10.05, 10.06, 10.30, 10.31):
        arrivals.add({"type": "x"}, at)
    assert arrivals.first_event_ms == pytest.approx(50)
    assert arrivals.last_event_ms == pytest.approx(310)
    assert arrivals.largest_gap_ms == pytest.approx(240)


def test_a_run_without_events_has_no_figures() -> None:
    arrivals = Arrivals(sent=time.perf_counter())
    assert (arrivals.first_event_ms, arrivals.largest_gap_ms) == (None, None)


def test_the_sse_decoder_joins_events_split_across_chunks() -> None:
    chunks = [b'data: {"type": "RUN_', b'STARTED"}\r', b"\n\r\n: a comment\n\ndata: 1\n", b"\n"]
    assert list(json_events(chunks)) == [{"type": "RUN_STARTED"}, 1]


def test_the_sse_decoder_joins_the_data_lines_of_one_event() -> None:
    decoder = SSEDecoder()
    assert list(decoder.feed("event: x\ndata: a\ndata:b\n")) == []
    assert list(decoder.feed("\n")) == ["a\nb"]


def test_an_endless_event_is_refused_before_it_fills_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from golden_path.load import sse

    monkeypatch.setattr(sse, "MAX_EVENT_BYTES", 100)
    decoder = SSEDecoder()
    assert list(decoder.feed("data: " + "x" * 50 + "\n\n")) == ["x" * 50]
    with pytest.raises(sse.EventTooLarge):
        list(decoder.feed("data: " + "x" * 200))


def test_a_run_that_never_ends_is_refused_before_it_fills_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from golden_path.load import timing

    monkeypatch.setattr(timing, "MAX_EVENTS", 3)
    arrivals = Arrivals()
    for _ in range(3):
        arrivals.add({})
    with pytest.raises(timing.TooManyEvents):
        arrivals.add({})


def summary(**changes: Any) -> gate.Summary:
    base: dict[str, Any] = {
        "url": "http://127.0.0.1:1",
        "protocol": "V1User",
        "users": 2,
        "runs": 10,
        "completed": 10,
        "runs_per_s": 5.0,
        "p50_ms": 20.0,
        "p99_ms": 40.0,
        "first_event_p50_ms": 5.0,
        "first_event_p99_ms": 9.0,
        "largest_gap_max_ms": 30.0,
        "requests": 40,
        "failures": 0,
        "fail_ratio": 0.0,
    }
    return gate.Summary(**{**base, **changes})


def test_a_clean_run_passes_the_gate() -> None:
    assert gate.verdict(summary(max_p99_ms=50.0)) == []


def test_each_violated_rule_fails_the_gate_by_name() -> None:
    reasons = gate.verdict(summary(violations={"seq_gap": 2, "no_thinking": 1}))
    assert reasons == [
        "contract violation no_thinking: 1 time",
        "contract violation seq_gap: 2 times",
    ]


def test_a_failure_ratio_above_the_limit_fails_the_gate() -> None:
    assert gate.verdict(summary(failures=1, fail_ratio=0.025, max_fail_ratio=0.05)) == []
    (reason,) = gate.verdict(summary(failures=3, fail_ratio=0.075, max_fail_ratio=0.05))
    assert reason.startswith("failure ratio 0.075 above --max-fail-ratio 0.05")


def test_a_p99_above_the_limit_fails_the_gate() -> None:
    (reason,) = gate.verdict(summary(p99_ms=61.0, max_p99_ms=60.0))
    assert reason == "p99 of a run 61 ms above --max-p99-ms 60"


def test_a_load_that_completed_no_run_fails_the_gate() -> None:
    assert gate.verdict(summary(runs=0, completed=0)) == ["no run completed"]


def test_the_summary_counts_each_workers_runs_and_resumes(tmp_path: Path) -> None:
    workers = {"a": gate.WorkerCount(6, 1), "b": gate.WorkerCount(4, 2)}
    done = summary(workers=workers)
    done.write(tmp_path / "summary.json")
    text = (tmp_path / "summary.json").read_text()
    assert '"resumed": 3' in text
    assert '"passed": true' in text
    assert "10 runs (5.0/s, 3 resumed) from 2 workers" in gate.headline(done)


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code, self.body, self.text = status, body, str(body)

    def json(self) -> Any:
        return self.body


def test_sign_in_is_signup_login_and_upgrade() -> None:
    calls: list[tuple[str, str | None]] = []

    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        calls.append((path, token))
        if path == "/auth/signup":
            return Answer(201, {"user_id": "usr_1"})
        return Answer(200, {"access_token": f"token-after-{path}"})

    assert auth.sign_in(post, "http://x", "enterprise") == "token-after-/billing/upgrade"
    assert calls == [
        ("/auth/signup", None),
        ("/auth/login", None),
        ("/billing/upgrade", "token-after-/auth/login"),
    ]


def test_a_full_hashing_queue_is_waited_out_and_signup_goes_on() -> None:
    answers = iter([Answer(503, {}), Answer(503, {}), Answer(201, {"user_id": "usr_1"})])
    waits: list[float] = []

    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        if path == "/auth/signup":
            answer = next(answers)
            answer.headers = {"retry-after": "2"}  # type: ignore[attr-defined]
            return answer
        return Answer(200, {"access_token": "t"})

    assert auth.sign_in(post, "http://x", "free", sleep=waits.append) == "t"
    assert waits == [2.0, 2.0]


def test_a_server_that_stays_busy_fails_sign_in_after_a_few_tries() -> None:
    waits: list[float] = []

    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        return Answer(503, {"detail": "busy"})

    with pytest.raises(auth.SignInError, match="answered 503"):
        auth.sign_in(post, "http://x", "free", sleep=waits.append)
    assert len(waits) == auth.BUSY_TRIES - 1


def test_a_throttled_signup_names_the_variable_that_lets_the_load_through() -> None:
    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        return Answer(429, {"detail": "too many signups"})

    with pytest.raises(auth.SignInError, match=f"{THROTTLE_EXEMPT_ENV}=<its CIDR block>"):
        auth.sign_in(post, "http://x", "free")
    assert auth.THROTTLE_EXEMPT_ENV == THROTTLE_EXEMPT_ENV


def test_a_server_answering_html_to_signup_is_named() -> None:
    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        answer = Answer(200, None)
        answer.text = "<html>hello</html>"

        def broken() -> Any:
            raise ValueError("not JSON")

        answer.json = broken  # type: ignore[method-assign]
        return answer

    with pytest.raises(auth.SignInError, match="answered 200 with no JSON"):
        auth.sign_in(post, "http://x", "free")


def team_login(base_url: str) -> str:
    return f"team-token-for-{base_url}"


def test_a_login_hook_replaces_signup_and_login() -> None:
    hook = auth.load_hook(f"{__name__}:team_login")

    def post(path: str, body: dict[str, Any], token: str | None) -> Answer:
        raise AssertionError("the hook signs in; nothing is posted")

    assert auth.sign_in(post, "http://x", "enterprise", hook) == "team-token-for-http://x"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_colon", "expected package.module:callable"),
        ("golden_path.nowhere:f", "No module named"),
        (f"{__name__}:missing", "has no attribute"),
        (f"{__name__}:pytestmark", "is not callable"),
    ],
)
def test_a_bad_login_hook_is_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(auth.SignInError, match=message):
        auth.load_hook(spec)


@pytest.mark.parametrize(("span", "expected"), [("30s", 30), ("2m", 120), ("1h30m", 5400)])
def test_run_time_reads_locusts_forms(span: str, expected: int) -> None:
    assert command.seconds(span) == expected


@pytest.mark.parametrize("span", ["", "30", "0s", "thirty seconds", "1d"])
def test_a_bad_run_time_is_refused_before_anything_starts(span: str) -> None:
    with pytest.raises(ValueError, match="--run-time"):
        command.seconds(span)


def test_the_master_is_started_headless_with_the_gate_and_the_reports(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["load", "--url", "http://127.0.0.1:9/", "--users", "3", "--workers", "2",
         "--protocol", "ag-ui", "--max-p99-ms", "250", "--out", str(tmp_path)]
    )  # fmt: skip
    line = command.master_command(args, 5599, tmp_path)
    assert line[-1] == "AGUIUser"
    both = build_parser().parse_args(["load", "--url", "http://x:1", "--protocol", "both"])
    assert command.master_command(both, 1, tmp_path)[-2:] == ["V1User", "AGUIUser"]
    pairs = dict(itertools.pairwise(line))
    assert pairs["--expect-workers"] == "2"
    remote = build_parser().parse_args(
        ["load", "--url", "http://x:1", "--workers", "1", "--remote-workers", "3"]
    )
    assert (
        dict(itertools.pairwise(command.master_command(remote, 1, tmp_path)))["--expect-workers"]
        == "4"
    )
    assert pairs["--users"] == "3"
    assert pairs["--host"] == "http://127.0.0.1:9"
    assert pairs["--gp-max-p99-ms"] == "250.0"
    assert pairs["--html"] == str(tmp_path / "report.html")
    assert pairs["--gp-summary"] == str(tmp_path / "summary.json")
    assert "--headless" in line
    assert "--master" in line


def test_load_worker_joins_a_master_on_another_machine() -> None:
    args = build_parser().parse_args(["load", "worker", "--master-host", "10.0.0.5"])
    assert args.load_command == "worker"
    line = command.worker_command(args.master_host, args.master_port, None)
    assert line[line.index("--master-host") + 1] == "10.0.0.5"
    assert line[line.index("--master-port") + 1] == "5557"
    assert "--worker" in line


def test_an_unreachable_url_stops_with_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    from golden_path.server.runner import listening_socket

    closed = listening_socket()  # bound, never listening: connections are refused
    try:
        port = closed.getsockname()[1]
        args = build_parser().parse_args(["load", "--url", f"http://127.0.0.1:{port}"])
        assert args.handler(args) == 2
    finally:
        closed.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"golden-path load: nothing answers at http://127.0.0.1:{port}")
    assert command.preflight.__module__ == "golden_path.load.preflight"


def test_the_unreachable_check_gives_up_well_within_five_seconds() -> None:
    from golden_path.load import preflight

    assert preflight.CONNECT_S < 5


ROOT = Path(golden_path.load.__file__).resolve().parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_locustfile_imports_locust_or_gevent() -> None:
    importers = {
        path.name
        for path in ROOT.glob("*.py")
        if any(n.split(".")[0] in ("locust", "gevent") for n in imports_of(path))
    }
    assert importers == {"locustfile.py"}


def test_the_load_package_never_imports_the_reference_server_or_the_services() -> None:
    leaks = {
        f"{path.name}: {name}"
        for path in ROOT.glob("*.py")
        for name in imports_of(path)
        if name.startswith(("golden_path.server", "golden_path.services", "golden_path.db"))
    }
    assert leaks == set()
