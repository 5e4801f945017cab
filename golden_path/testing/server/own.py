"""The project's own server, run on the run's real services: ``gp_app`` or ``gp_server_command``.

``gp_app = package.module:app`` is served in-process by uvicorn, once per worker
(an ASGI app, or a factory that takes the :class:`Services` and returns one,
sync or async). ``gp_server_command`` is started as its own process per worker,
in any language, with ``{port}``, ``{postgres_dsn}``, ``{redis_url}``,
``{redis_namespace}`` (the key prefix this worker owns),
``{base_url}``, ``{python}`` (this interpreter), and ``{openai_base_url}``,
``{anthropic_base_url}`` and ``{model_api_key}`` (the worker's model at the wire,
started on first use) substituted (each inside the one argument it is written in,
whatever the value holds), ready once
``gp_health_path`` answers 2xx, and stopped with its whole process group.
``gp_app_env`` lines (``DATABASE_URL={postgres_dsn}``) set the environment either
one reads the services from.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shlex
import sys
from collections.abc import Mapping
from typing import Any

from golden_path.protocol import websocket_url
from golden_path.server.runner import ChildServer, ServerThread, listening_socket
from golden_path.services.model import Services
from golden_path.testing.identity.signing import provide_key
from golden_path.testing.model.placeholders import WithModelPlaceholders
from golden_path.testing.options import HarnessOptions
from golden_path.testing.server.endpoint import ServerEndpoint
from golden_path.testing.services.schema import SchemaError, load_callable

START_TIMEOUT_S = 60.0


class OwnServerError(SchemaError):
    """``gp_app`` or ``gp_server_command`` could not be started; the message says why."""


def placeholders(services: Services, port: int, host: str = "127.0.0.1") -> dict[str, str]:
    values = {
        "postgres_dsn": services.postgres_dsn,
        "redis_url": services.redis_url,
        "redis_namespace": services.redis_namespace,
        "port": str(port),
        "host": host,
        "base_url": f"http://{host}:{port}",
        "python": sys.executable,
    }
    return WithModelPlaceholders(values)  # and the model's, started when a template names one


def substitute(template: str, values: Mapping[str, str], what: str) -> str:
    try:
        return template.format_map(values)
    except (KeyError, IndexError, ValueError) as exc:
        known = ", ".join("{" + k + "}" for k in values)
        raise OwnServerError(
            f"{what} {template!r}: unknown placeholder {exc} (known: {known})"
        ) from None


def command_argv(template: str, values: Mapping[str, str]) -> list[str]:
    """``gp_server_command`` as argv: split first (shell rules), then each argument's
    placeholders substituted, so a value with a space or a quote (a path, a DSN's
    password) stays inside its one argument."""
    try:
        parts = shlex.split(template)
    except ValueError as exc:
        raise OwnServerError(f"gp_server_command {template!r}: {exc}") from None
    if not parts:
        raise OwnServerError("gp_server_command is empty")
    return [substitute(part, values, "gp_server_command") for part in parts]


def app_environment(options: HarnessOptions, values: Mapping[str, str]) -> dict[str, str]:
    """The ``gp_app_env`` variables, with the services substituted."""
    env: dict[str, str] = {}
    for line in options.app_env:
        name, _, value = line.partition("=")
        env[name.strip()] = substitute(value.strip(), values, "gp_app_env")
    return env


def _is_factory(target: Any) -> bool:
    """A factory takes the services (one parameter); an ASGI app takes scope, receive, send."""
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        return False  # an app object (Starlette, FastAPI, ...) is called with three arguments
    return len(inspect.signature(target).parameters) == 1


def build_app(spec: str, services: Services) -> Any:
    target = load_callable(spec, "gp_app")
    if not _is_factory(target):
        return target
    try:
        app = target(services)
        if inspect.isawaitable(app):
            app = asyncio.run(_awaited(app))
    except Exception as exc:
        raise OwnServerError(f"gp_app = {spec!r} raised {type(exc).__name__}: {exc}") from exc
    return app


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def start_own_server(options: HarnessOptions, services: Services) -> ServerEndpoint:
    """Start the project's server for this worker (``gp_app`` or ``gp_server_command``).

    When ``gp_jwt_secret_env`` names a variable that is not set, a fresh key of
    ``gp_jwt_algorithm`` is put there first (and its public half where
    ``gp_jwt_public_key_env`` / ``gp_jwt_jwks_env`` say), so the server verifies with it
    and ``gp_jwt`` signs with it (:mod:`golden_path.testing.identity.signing`).
    """
    provide_key(
        options.jwt_algorithm,
        options.jwt_secret_env,
        options.jwt_public_key_env,
        options.jwt_jwks_env,
    )
    if options.app:
        return _serve_in_process(options, services)
    return _serve_command(options, services)


def _serve_in_process(options: HarnessOptions, services: Services) -> ServerEndpoint:
    # The port is bound first, so {port} and {base_url} are known to the app's environment.
    sock = listening_socket()
    values = placeholders(services, sock.getsockname()[1])
    os.environ.update(app_environment(options, values))  # before the app module is imported
    try:
        app = build_app(options.app, services)
    except BaseException:
        sock.close()
        raise
    thread = ServerThread(app=app, sock=sock)
    try:
        thread.start()
    except RuntimeError as exc:
        raise OwnServerError(f"gp_app = {options.app!r} did not start: {exc}") from exc
    return ServerEndpoint(thread.base_url, websocket_url(thread.base_url), thread=thread)


def _serve_command(options: HarnessOptions, services: Services) -> ServerEndpoint:
    from golden_path.services.processes import free_port

    port = free_port()
    values = placeholders(services, port)
    argv = command_argv(options.server_command, values)
    env = {**os.environ, **app_environment(options, values)}
    server = ChildServer(
        argv,
        name=options.server_command,  # the template: what the team wrote, and no DSN password
        env=env,
        port=port,
        ready=None,
        health_path=options.health_path,
        cwd=options.rootdir,
    )
    try:
        server.start(START_TIMEOUT_S)
    except (OSError, RuntimeError) as exc:
        raise OwnServerError(f"gp_server_command {options.server_command!r}: {exc}") from exc
    return ServerEndpoint(server.base_url, websocket_url(server.base_url), process=server)
