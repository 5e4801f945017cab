"""``golden-path model serve`` and ``golden-path model record``: their arguments and dispatch."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def add_model_commands(commands: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    model = commands.add_parser(
        "model", help="the model at the wire: a scripted LLM server (OpenAI and Anthropic APIs)"
    )
    model_commands = model.add_subparsers(dest="model_command", required=True)
    serve = model_commands.add_parser(
        "serve", help="serve scripted (or autopilot) answers until SIGINT/SIGTERM"
    )
    serve.add_argument("--script", default=None, metavar="FILE", help="a script file (YAML/JSON)")
    record = model_commands.add_parser(
        "record",
        help="proxy to a real provider and write a script file that replays the conversation",
    )
    record.add_argument("--upstream", required=True, metavar="URL", help="the provider's origin")
    record.add_argument("--out", required=True, metavar="FILE", help="the script file to write")
    for command in (serve, record):
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=0, help="default: one the OS picks")
        command.add_argument("--json", action="store_true", help="print one JSON line when ready")
        command.set_defaults(handler=handler)


def run(args: argparse.Namespace) -> int:
    if args.model_command == "serve":
        from golden_path.testing.model.serve import serve

        return serve(args.script, args.host, args.port, args.json)
    from golden_path.testing.model.record import record

    return record(args.upstream, args.out, args.host, args.port, args.json)
