"""The ``golden-path`` command: ``demo``, ``serve``, ``services up``, ``purge``, ``report``,
``model serve``, ``model record`` and ``load``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from golden_path.services.model import Services, ServicesError
from golden_path.services.selection import PROVIDER_NAMES, requested_provider
from golden_path.services.supervisor import supervise


def _services_up(args: argparse.Namespace) -> int:
    def announce(services: Services) -> None:
        if args.json:
            print(
                json.dumps(
                    {
                        "postgres_dsn": services.postgres_dsn,
                        "redis_url": services.redis_url,
                        "provider": services.provider,
                    }
                ),
                flush=True,
            )
        else:
            print(
                f"postgres_dsn={services.postgres_dsn} redis_url={services.redis_url} "
                f"provider={services.provider} (PostgreSQL {services.postgres_version}, "
                f"Redis {services.redis_version}); Ctrl-C or SIGTERM stops them",
                flush=True,
            )

    try:
        supervise(requested_provider(args.provider), announce)
    except ServicesError as exc:
        print(f"golden-path services up: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    from golden_path.server.serve import serve

    return serve(host=args.host, port=args.port)


def _demo(args: argparse.Namespace) -> int:
    from golden_path.demo import main as demo_main

    if args.serve and args.url:
        print(
            "golden-path demo: --serve runs its own server; it cannot serve --url's",
            file=sys.stderr,
        )
        return 2
    return demo_main(args.url, serve=args.serve, port=args.port)


def _purge(args: argparse.Namespace) -> int:
    from golden_path.server.purge import run_purge

    return run_purge(args.now, dsn=args.dsn)


def _report_merge(args: argparse.Namespace) -> int:
    from golden_path.testing.bvj.report_merge import run

    return run(
        args.folders,
        args.out,
        args.gate,
        gate_flaky=args.gate_flaky,
        gate_max_risk=args.gate_max_risk,
        history=args.history,
        history_runs=args.history_runs,
    )


def _model(args: argparse.Namespace) -> int:
    from golden_path.testing.model.commands import run

    return run(args)


def _load(args: argparse.Namespace) -> int:
    try:
        from golden_path.load.command import run_load, run_worker
    except ImportError as exc:
        print(
            f"golden-path load: {exc}; it needs the load extra: pip install 'golden-path[load]'",
            file=sys.stderr,
        )
        return 2

    if getattr(args, "load_command", None) == "worker":
        return run_worker(args)
    if not args.url:
        print("golden-path load: --url is required (the server under load)", file=sys.stderr)
        return 2
    return run_load(args)


def _add_load(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    load = commands.add_parser(
        "load",
        help="the golden path under load on Locust: a master and N workers here, checked by "
        "the contract (needs golden-path[load]; docs/load.md)",
    )
    load.add_argument("--url", default=None, help="the server under load, http://HOST:PORT")
    load.add_argument(
        "--protocol",
        choices=("v1", "ag-ui", "both"),
        default="v1",
        help="v1 (the WebSocket, default), ag-ui (POST /agui) or both (half the users each)",
    )
    load.add_argument("--users", type=int, default=20, help="simulated users (default 20)")
    load.add_argument(
        "--spawn-rate", type=float, default=10, help="users started per second (default 10)"
    )
    load.add_argument("--run-time", default="30s", help="e.g. 30s, 5m (default 30s)")
    load.add_argument(
        "--workers", type=int, default=2, help="Locust worker processes here (default 2)"
    )
    load.add_argument(
        "--max-fail-ratio",
        type=float,
        default=0.0,
        metavar="X",
        help="fail when more than this share of requests failed (default 0)",
    )
    load.add_argument(
        "--max-p99-ms",
        type=float,
        default=None,
        metavar="Y",
        help="fail when a run's p99 (message to completed event) is above Y ms",
    )
    load.add_argument("--out", default="gp-load", metavar="DIR", help="reports (default gp-load)")
    load.add_argument(
        "--tier",
        default=None,
        help="the plan each signed-up user upgrades to (default enterprise), or the tier claim "
        "of minted tokens (default: the first of gp_segments)",
    )
    load.add_argument(
        "--tokens",
        choices=("signup", "gp_jwt"),
        default="signup",
        help="signup (protocol v1's signup and login, default) or gp_jwt (tokens signed with "
        "the gp_jwt_* settings of this directory's ini, for a server that trusts them)",
    )
    load.add_argument(
        "--mix",
        default="golden=1",
        metavar="NAME=W,...",
        help="weighted scenarios per run: golden, drop (drops its connection and never comes "
        "back), slow (a slow reader), e.g. golden=8,drop=1,slow=1 (default golden=1)",
    )
    load.add_argument(
        "--message",
        default=None,
        help="what each simulated user sends (default: a question the reference agent answers "
        "with the five stages every run is checked for: thinking, a tool, its result, answer)",
    )
    load.add_argument(
        "--slow-read-ms",
        type=float,
        default=100.0,
        help="how long a slow reader waits before each read (default 100)",
    )
    load.add_argument(
        "--login-hook",
        default=None,
        metavar="MODULE:CALLABLE",
        help="sign users in with hook(base_url) -> access token instead of signup and login",
    )
    load.add_argument(
        "--resume-share",
        type=float,
        default=0.2,
        help="the share of runs that drop their connection and resume (default 0.2)",
    )
    load.add_argument(
        "--turns",
        type=int,
        default=1,
        metavar="N",
        help="messages per conversation: each user continues its thread N times (default 1)",
    )
    load.add_argument(
        "--run-timeout", type=float, default=30.0, help="seconds a run may take (default 30)"
    )
    load.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        metavar="R",
        help="workers from other machines (golden-path load worker) the master also waits for",
    )
    load.add_argument(
        "--master-bind-host",
        default="127.0.0.1",
        help="where the master listens for workers; 0.0.0.0 for workers on other machines",
    )
    load.add_argument(
        "--master-port", type=int, default=0, help="the master's port (default: a free one)"
    )
    load.set_defaults(handler=_load)
    load_commands = load.add_subparsers(dest="load_command", required=False, metavar="worker")
    worker = load_commands.add_parser(
        "worker", help="one Locust worker joining a master on another machine"
    )
    worker.add_argument("--master-host", required=True, help="the machine running the master")
    worker.add_argument(
        "--master-port", type=int, default=5557, help="its --master-port (default 5557)"
    )
    worker.set_defaults(handler=_load)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="golden-path",
        description="The golden path of an AI-agent chat product, testable for real.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    services = commands.add_parser("services", help="real PostgreSQL and Redis for manual work")
    services_commands = services.add_subparsers(dest="services_command", required=True)
    up = services_commands.add_parser(
        "up", help="start the services, print where they are, keep them until SIGINT/SIGTERM"
    )
    up.add_argument(
        "--provider",
        choices=PROVIDER_NAMES,
        default=None,
        help="default: $GOLDEN_PATH_SERVICES or auto",
    )
    up.add_argument("--json", action="store_true", help="print one JSON line")
    up.set_defaults(handler=_services_up)

    serve = commands.add_parser(
        "serve",
        help="run the reference server (on embedded services unless "
        "GOLDEN_PATH_POSTGRES_DSN and GOLDEN_PATH_REDIS_URL are set)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    demo = commands.add_parser(
        "demo", help="the golden path of every tier, live, on embedded services (the main job)"
    )
    demo.add_argument(
        "--url", default=None, help="run the journeys against this server instead of a new one"
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="afterwards, serve the chat page on 127.0.0.1:PORT (same services) until Ctrl-C",
    )
    demo.add_argument("--port", type=int, default=8000, help="the chat page's port (default 8000)")
    demo.set_defaults(handler=_demo)

    purge = commands.add_parser(
        "purge", help="delete history older than each tier's retention (the ledger stays)"
    )
    purge.add_argument(
        "--now",
        default=None,
        help="the moment to count retention from, ISO 8601 (default: the current time)",
    )
    purge.add_argument(
        "--dsn", default=None, help="PostgreSQL URL (default: $GOLDEN_PATH_POSTGRES_DSN)"
    )
    purge.set_defaults(handler=_purge)

    report = commands.add_parser("report", help="the BVJ test reports that --gp-report writes")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    merge = report_commands.add_parser(
        "merge",
        help="merge the reports of a suite's shards (CI jobs) into one, optionally gated",
    )
    merge.add_argument("folders", nargs="+", metavar="DIR", help="a shard's --gp-report folder")
    merge.add_argument("--out", required=True, metavar="DIR", help="where the merged report goes")
    merge.add_argument(
        "--gate",
        action="store_true",
        help="exit 1 when the union has a failed test, an empty coverage cell or a test "
        "without a BVJ (what --gp-gate checks in one run)",
    )
    merge.add_argument(
        "--gate-flaky",
        choices=("pass", "fail"),
        default="pass",
        help="a flaky test (failed, then passed on a rerun) passes the gate (default) or fails it",
    )
    merge.add_argument(
        "--gate-max-risk",
        type=float,
        default=None,
        metavar="X",
        help="fail the gate when the value at risk (gp_segment_value) exceeds X",
    )
    merge.add_argument(
        "--history",
        default=None,
        metavar="DIR",
        help="keep the union as one run in DIR (a folder CI caches) and show the trends",
    )
    merge.add_argument(
        "--history-runs",
        type=int,
        default=20,
        metavar="N",
        help="how many runs --history keeps (default 20)",
    )
    merge.set_defaults(handler=_report_merge)

    from golden_path.testing.model.commands import add_model_commands

    add_model_commands(commands, _model)
    from golden_path.conformance.command import add_conformance_command

    add_conformance_command(commands)
    _add_load(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from golden_path.server.extra import missing_extra

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command == "conformance":  # the rest, after -- or not, is pytest's
        args.pytest_args = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    except ImportError as exc:
        missing = missing_extra(exc, f"golden-path {args.command}")
        if missing is None:
            raise
        print(missing, file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
