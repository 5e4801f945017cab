"""``golden-path load``: Locust's own master and N workers on this machine, or one worker.

The command checks the URL first (:mod:`golden_path.load.preflight`), then starts
``locust -f golden_path/load/locustfile.py --master --headless`` and ``--workers``
``locust --worker`` processes, each in a session of its own, and waits for the master:
Locust spreads the users over the workers and merges their statistics. The master's
progress line comes through on stderr; its log and each worker's go to ``--out``, with
Locust's HTML report (``report.html``), its statistics (``locust.json``) and the gate's
summary (``summary.json``). The exit status is the master's: 0, or 1 when the gate fails
(:mod:`golden_path.load.gate`); 2 when the load could not start; 130 when interrupted.
Ctrl-C or SIGTERM stops the master (SIGTERM: Locust writes its reports and tells the
workers to quit), then whatever is left; no process outlives the command.

Nothing here imports Locust: its gevent monkeypatching stays in its own processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import IO

from golden_path.load.auth import LoginHook, SignInError, load_hook
from golden_path.load.preflight import PreflightError, preflight
from golden_path.load.scenarios import MESSAGE, MixError, parse_mix

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Locust's user classes per --protocol; "both" is Locust's own mix (each class weighs 1).
USER_CLASSES = {"v1": ["V1User"], "ag-ui": ["AGUIUser"], "both": ["V1User", "AGUIUser"]}
TIMESPAN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
WORKERS_WAIT_S = 60  # the master gives up when its workers have not all joined by then
MASTER_STOP_S = 15.0
STOP_S = 5.0
DEFAULT_TIER = "enterprise"  # a signed-up user's plan: a free user's 10 runs a day last seconds


class Interrupted(Exception):
    """SIGTERM arrived: stop like Ctrl-C."""


def seconds(span: str) -> int:
    """``30s``, ``2m``, ``1h30m`` as seconds (Locust's ``--run-time`` forms); ValueError else."""
    found = TIMESPAN.match(span.strip())
    if not span.strip() or found is None:
        raise ValueError(f"--run-time {span!r}: expected e.g. 30s, 5m or 1h30m")
    hours, minutes, secs = (int(g or 0) for g in found.groups())
    total = hours * 3600 + minutes * 60 + secs
    if total <= 0:
        raise ValueError(f"--run-time {span!r}: must be more than 0 s")
    return total


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def master_command(args: argparse.Namespace, port: int, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--master",
        "--headless",
        "--master-bind-host",
        args.master_bind_host,
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(args.workers + args.remote_workers),
        "--expect-workers-max-wait",
        str(WORKERS_WAIT_S),
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.run_time,
        "--stop-timeout",
        "0",
        "--host",
        args.url.rstrip("/"),
        "--html",
        str(out / "report.html"),
        "--json-file",
        str(out / "locust"),
        "--only-summary",
        "--logfile",
        str(out / "master.log"),
        "--gp-tier",
        args.tier or DEFAULT_TIER,
        "--gp-login-hook",
        args.login_hook or "",
        "--gp-resume-share",
        str(args.resume_share),
        "--gp-run-timeout",
        str(args.run_timeout),
        "--gp-turns",
        str(args.turns),
        "--gp-max-fail-ratio",
        str(args.max_fail_ratio),
        "--gp-max-p99-ms",
        str(args.max_p99_ms or 0),
        "--gp-summary",
        str(out / "summary.json"),
        "--gp-mix",
        args.mix,
        "--gp-message",
        args.message or MESSAGE,
        "--gp-slow-read-ms",
        str(args.slow_read_ms),
        "--gp-jwt",
        args.jwt_settings.to_json() if getattr(args, "jwt_settings", None) else "",
        *USER_CLASSES[args.protocol],
    ]


def worker_command(master_host: str, port: int, log: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--worker",
        "--master-host",
        master_host,
        "--master-port",
        str(port),
    ]
    return [*command, "--logfile", str(log)] if log is not None else command


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises :class:`Interrupted` in this process for the block's duration."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop(processes: Sequence[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM each process still running, then SIGKILL its session after ``grace`` s."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the process and anything it started
        process.wait()


def _spawn(command: list[str], stdout: IO[bytes] | int | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stdout, start_new_session=True
    )


def _report(out: Path) -> None:
    from golden_path.load.gate import Summary, WorkerCount, headline

    path = out / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(
            f"golden-path load: no summary was written; see {out / 'master.log'}", file=sys.stderr
        )
        return
    data.pop("passed", None)
    data.pop("resumed", None)
    data["workers"] = {k: WorkerCount(**v) for k, v in data["workers"].items()}
    summary = Summary(**data)
    print(f"golden-path load: {headline(summary)}", flush=True)
    for reason in summary.reasons:
        print(f"golden-path load: FAILED: {reason}", flush=True)
    print(f"golden-path load: report {out / 'report.html'}, summary {path}", flush=True)


def _wait(
    master: subprocess.Popen[bytes], workers: Sequence[subprocess.Popen[bytes]], out: Path
) -> int:
    """The master's exit status; if every local worker died and the master does not end
    within :data:`MASTER_STOP_S` (at a normal end, the workers quit first), stop it."""
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return master.wait(0.5)
        if workers and all(w.poll() is not None for w in workers):
            with contextlib.suppress(subprocess.TimeoutExpired):
                return master.wait(MASTER_STOP_S)
            print(
                f"golden-path load: every worker exited; see {out}/worker-*.log",
                file=sys.stderr,
            )
            stop([master], MASTER_STOP_S)
            return 2


def _sign_in_hook(args: argparse.Namespace) -> LoginHook | None:
    """How users sign in: minted tokens (``--tokens gp_jwt``: the ini's settings, kept on
    ``args.jwt_settings`` for the master), the login hook, or (None) signup and login.
    Resolves ``args.tier``: given, or the first of ``gp_segments`` for minted tokens, or
    ``enterprise``."""
    if args.tokens == "gp_jwt":
        if args.login_hook:
            raise ValueError("--tokens gp_jwt and --login-hook: choose one way to sign in")
        from golden_path.load.jwt_settings import read_settings
        from golden_path.load.tokens import minter

        settings = read_settings(Path.cwd())
        segments = settings.segments
        args.tier = args.tier or (segments[0] if segments else DEFAULT_TIER)
        if segments and args.tier not in segments:
            raise ValueError(f"--tier {args.tier!r} is none of gp_segments: {' '.join(segments)}")
        args.jwt_settings = settings
        return minter(settings, args.tier)
    args.tier = args.tier or DEFAULT_TIER
    return load_hook(args.login_hook) if args.login_hook else None


def run_load(args: argparse.Namespace) -> int:
    """``golden-path load``: the preflight, then a master and ``--workers`` workers."""
    try:
        seconds(args.run_time)
        if args.workers < 0 or args.remote_workers < 0 or args.workers + args.remote_workers < 1:
            raise ValueError("--workers plus --remote-workers must be at least 1")
        if args.users < 1 or args.spawn_rate <= 0:
            raise ValueError("--users must be at least 1, --spawn-rate above 0")
        if args.turns < 1:
            raise ValueError("--turns must be at least 1")
        if not 0 <= args.resume_share <= 1:
            raise ValueError("--resume-share must be between 0 and 1")
        if args.message is not None and not args.message.strip():
            raise ValueError("--message must say something")
        if args.slow_read_ms < 0:
            raise ValueError("--slow-read-ms must be 0 or more")
        parse_mix(args.mix)
        hook = _sign_in_hook(args)
        for protocol in ("v1", "ag-ui") if args.protocol == "both" else (args.protocol,):
            preflight(args.url, protocol, args.tier, hook)
    except (ValueError, SignInError, PreflightError, MixError) as exc:
        print(f"golden-path load: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)  # never report an earlier run's
    port = args.master_port or free_port(args.master_bind_host)
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    try:
        with sigterm_interrupts():
            master = _spawn(master_command(args, port, out), None)
            processes.append(master)
            for number in range(1, args.workers + 1):
                log = out / f"worker-{number}.log"
                logs.append(log.open("wb"))
                processes.append(_spawn(worker_command("127.0.0.1", port, None), logs[-1]))
            code = _wait(master, processes[1:], out)
    except (KeyboardInterrupt, Interrupted):
        print(
            "golden-path load: interrupted; stopping Locust's master and workers", file=sys.stderr
        )
        stop(processes[:1], MASTER_STOP_S)  # SIGTERM: Locust writes its reports, and ours
        stop(processes, STOP_S)
        _report(out)
        return 130
    finally:
        stop(processes, STOP_S)
        for log_file in logs:
            log_file.close()
    _report(out)
    return code


def run_worker(args: argparse.Namespace) -> int:
    """``golden-path load worker``: one Locust worker joining a master elsewhere."""
    process = _spawn(worker_command(args.master_host, args.master_port, None), None)
    try:
        with sigterm_interrupts():
            return process.wait()
    except (KeyboardInterrupt, Interrupted):
        return 130
    finally:
        stop([process], STOP_S)
