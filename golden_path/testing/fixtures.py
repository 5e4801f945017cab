"""Every fixture of the golden-path harness, in one module (the plugin registers it).

Real services
    ``gp_services`` (session): this worker's PostgreSQL database (a clone of the
    ``gp_schema`` template) and Redis namespace. ``gp_database``: a database of
    this test's own, dropped afterwards. ``gp_db``: an asyncpg connection inside
    a transaction rolled back when the test ends. ``gp_redis``: a Redis client on
    a database of this worker's own, empty when the test starts.
The server under test
    ``gp_server`` (session): ``--gp-url``'s deployment, else the project's own
    server (``gp_app`` / ``gp_server_command``), else the reference server, on the
    run's services. ``gp_base_url``, ``gp_ws_url``, ``gp_api``.
Users, sockets and tokens
    ``gp_user(tier)``, ``gp_client(user)`` (transcripts in failure reports),
    ``gp_jwt`` (tokens a strict server must refuse), ``gp_server_process`` (more
    reference-server nodes), ``gp_agui`` / ``gp_agui_factory`` (AG-UI clients), ``gp_ws``
    (sockets that speak the team's own JSON events, ``golden_path.testing.ws``).
The model at the wire
    ``gp_model``: a scripted LLM server (OpenAI and Anthropic wires) for this test
    (``golden_path.testing.model``).
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from golden_path.services.model import Services, ServicesError
from golden_path.testing.agui.fixtures import _gp_agui_endpoint, gp_agui, gp_agui_factory
from golden_path.testing.model.fixtures import gp_model
from golden_path.testing.options import SCHEMA_REFERENCE, harness_options
from golden_path.testing.services.session import shared_services
from golden_path.testing.ws.fixtures import gp_ws

# What a fixture needs is imported when it first runs, so a test of gp_db and gp_redis never
# loads the HTTP and WebSocket clients, the token codec or the server runner: the first
# test of a run starts sooner (bench/services.py measures it).
if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from golden_path.client import GoldenPathHTTP, GoldenPathSocket
    from golden_path.client.socket import AuthMethod
    from golden_path.server.runner import ServeProcess
    from golden_path.testing.identity.jwt_factory import JWTFactory
    from golden_path.testing.identity.users import GoldenPathUser
    from golden_path.testing.server.endpoint import ServerEndpoint

# Registered with the plugin for gp_agui_factory; not a fixture of the team's.
_PRIVATE_FIXTURES = (_gp_agui_endpoint,)
__all__ = [
    "gp_agui",
    "gp_agui_factory",
    "gp_api",
    "gp_base_url",
    "gp_client",
    "gp_database",
    "gp_db",
    "gp_jwt",
    "gp_model",
    "gp_redis",
    "gp_reference_services",
    "gp_server",
    "gp_server_process",
    "gp_services",
    "gp_user",
    "gp_ws",
    "gp_ws_url",
]


def _unavailable(request: pytest.FixtureRequest, exc: ServicesError) -> NoReturn:
    """Fail this test; a broken schema or server stops the whole run with one message
    (under xdist, each worker stops after the test it was running). The project's own
    schema, app or server failing is said as such (the message names its setting), never as
    golden-path's services being unavailable."""
    from golden_path.testing.services.schema import SchemaError

    if isinstance(exc, SchemaError):
        request.session.shouldstop = str(exc)
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    raise pytest.fail.Exception(f"golden-path services unavailable: {exc}", pytrace=False) from None


# -- real services -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def gp_services(request: pytest.FixtureRequest) -> Services:
    """Real PostgreSQL and Redis for this worker: its own database and Redis key namespace.

    The servers are shared by the run; the database is this worker's clone of the
    schema template (``gp_schema``) and ``redis_namespace`` the key prefix it owns.
    """
    options = harness_options(request.config)
    if options.url:
        return _deployment_services(options)
    try:
        return shared_services(request.config).for_this_worker()
    except ServicesError as exc:
        _unavailable(request, exc)


def _deployment_services(options: Any) -> Services:
    """Under ``--gp-url`` the harness's own services are not the deployment's: a test that
    reads the server's data gets the deployment's, when the run names them, or one error."""
    if not (options.deployment_dsn and options.deployment_redis_url):
        raise pytest.fail.Exception(
            f"this test reads the server's own PostgreSQL or Redis, and under --gp-url "
            f"{options.url} the harness's services are not the deployment's: give "
            "--gp-deployment-dsn and --gp-deployment-redis-url, or mark the test "
            "server_internals to skip it against a deployment",
            pytrace=False,
        )
    return Services(
        postgres_dsn=options.deployment_dsn,
        redis_url=options.deployment_redis_url,
        provider="deployment",
    )


def _refuse_under_url(request: pytest.FixtureRequest, fixture: str, what: str) -> None:
    url = harness_options(request.config).url
    if url:
        raise pytest.fail.Exception(
            f"{fixture} {what}, which a deployment ({url}) must never see: mark the test "
            "server_internals to skip it under --gp-url",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def gp_reference_services(request: pytest.FixtureRequest, gp_services: Services) -> Services:
    """Where this worker's reference server runs: a database of golden-path's schema (the
    worker's own when ``gp_schema = golden-path``, never the project's otherwise)."""
    try:
        return shared_services(request.config).for_the_reference_server()
    except ServicesError as exc:
        _unavailable(request, exc)


# One open connection (and Redis client) per worker when tests share an event loop (a
# session-scoped loop): then a clean state per test costs one BEGIN ... ROLLBACK, one
# CREATE ... TEMPLATE, one FLUSHDB. With a loop per test, a connection cannot outlive its
# loop, so each test opens its own instead.
_DB_CONNECTIONS: dict[int, Any] = {}
_ADMIN_CONNECTIONS: dict[int, Any] = {}
_REDIS_CLIENTS: dict[int, Any] = {}


def _loop_is_shared(config: pytest.Config) -> bool:
    return str(config.getini("asyncio_default_fixture_loop_scope") or "") in (
        "session",
        "package",
        "module",
    )


async def _per_loop(cache: dict[int, Any], make: Callable[[], Awaitable[Any]]) -> Any:
    """The one connection (or client) of this event loop, made on first use."""
    key = id(asyncio.get_running_loop())
    found = cache.get(key)
    if found is None or (hasattr(found, "is_closed") and found.is_closed()):
        found = cache[key] = await make()
    return found


@pytest.fixture
async def gp_database(request: pytest.FixtureRequest) -> AsyncIterator[Services]:
    """A database of this test's own, cloned from the schema template, dropped afterwards.

    The same servers as ``gp_services`` (its Redis namespace too); ``.postgres_dsn``
    names the new database.
    """
    _refuse_under_url(request, "gp_database", "clones and drops databases")
    request.getfixturevalue("gp_services")  # started, or this test fails saying why
    shared = shared_services(request.config)
    admin = None
    if _loop_is_shared(request.config):  # one maintenance connection per worker serves all
        admin = await _per_loop(_ADMIN_CONNECTIONS, shared.admin_connection)
    services = await shared.clone_for_test(admin)
    try:
        yield services
    finally:
        await shared.drop(services, admin)


@pytest.fixture
async def gp_db(request: pytest.FixtureRequest, gp_services: Services) -> AsyncIterator[Any]:
    """An asyncpg connection to this worker's database, inside a transaction rolled back
    when the test ends: whatever the test writes, the next test never sees."""
    import asyncpg

    shared = _loop_is_shared(request.config)
    if shared:
        conn = await _per_loop(_DB_CONNECTIONS, lambda: asyncpg.connect(gp_services.postgres_dsn))
    else:
        conn = await asyncpg.connect(gp_services.postgres_dsn)
    transaction = conn.transaction()
    await transaction.start()
    try:
        yield conn
    finally:
        await transaction.rollback()
        if not shared:
            await conn.close()


@pytest.fixture(scope="session")
def _gp_redis_database(request: pytest.FixtureRequest) -> str:
    _refuse_under_url(request, "gp_redis", "empties a Redis database at every test")
    request.getfixturevalue("gp_services")  # started, or this test fails saying why
    try:
        return shared_services(request.config).redis_database()
    except ServicesError as exc:
        _unavailable(request, exc)


@pytest.fixture
async def gp_redis(
    request: pytest.FixtureRequest, _gp_redis_database: str
) -> AsyncIterator[aioredis.Redis]:
    """A redis-py asyncio client on a Redis database of this worker's own, emptied at the
    start of the test. Its ACL user can reach no other database, only channels in the
    worker's namespace, and no command that observes or stops the server (docs/harness.md:
    isolation): no test can touch another worker's keys. With a shared event loop one
    client per worker serves every test."""
    import redis.asyncio as aioredis

    url = _gp_redis_database

    async def make() -> aioredis.Redis:
        return aioredis.Redis.from_url(url)

    shared = _loop_is_shared(request.config)
    client = await _per_loop(_REDIS_CLIENTS, make) if shared else await make()
    await client.flushdb()
    try:
        yield client
    finally:
        if not shared:
            await client.aclose()


# -- the server under test ---------------------------------------------------------------


@pytest.fixture(scope="session")
def gp_server(request: pytest.FixtureRequest) -> Iterator[ServerEndpoint]:
    """The server under test: ``--gp-url``'s deployment, else the project's own server
    (``gp_app`` or ``gp_server_command``), else the reference server, in this worker."""
    from golden_path.server.extra import ServerExtraMissing
    from golden_path.testing.server.own import start_own_server
    from golden_path.testing.server.reference import endpoint_for_url, start_reference_server

    options = harness_options(request.config)
    if options.url:
        yield endpoint_for_url(options.url)
        return
    if options.schema not in ("", SCHEMA_REFERENCE) and not options.serves_own_app:
        raise pytest.fail.Exception(
            f"gp_schema = {options.schema!r} is your schema, but neither gp_app nor "
            "gp_server_command names your server: gp_server will not stand in golden-path's "
            "reference server for it. Set gp_app = package.module:app or gp_server_command "
            "(or --gp-url for a deployment)",
            pytrace=False,
        )
    try:
        if options.serves_own_app:
            endpoint = start_own_server(options, request.getfixturevalue("gp_services"))
        else:
            services: Services = request.getfixturevalue("gp_reference_services")
            endpoint = start_reference_server(services)
    except ServicesError as exc:
        _unavailable(request, exc)
    except ServerExtraMissing as exc:  # a harness-only install: every test would say it
        request.session.shouldstop = str(exc)
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    request.config.stash[SERVER_UNDER_TEST] = endpoint
    try:
        yield endpoint
    finally:
        endpoint.stop()


SERVER_UNDER_TEST = pytest.StashKey["ServerEndpoint"]()


@pytest.fixture(scope="session")
def gp_base_url(gp_server: ServerEndpoint) -> str:
    return gp_server.base_url


@pytest.fixture(scope="session")
def gp_ws_url(gp_server: ServerEndpoint) -> str:
    return gp_server.ws_url


@pytest.fixture
async def gp_api(gp_server: ServerEndpoint) -> AsyncIterator[GoldenPathHTTP]:
    """A protocol v1 HTTP client for the server under test."""
    from golden_path.client import GoldenPathHTTP

    async with GoldenPathHTTP(gp_server.base_url) as api:
        yield api


# -- users, sockets and tokens -----------------------------------------------------------

UserFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
def gp_user(request: pytest.FixtureRequest, gp_server: ServerEndpoint) -> UserFactory:
    """``await gp_user("pro")``: a fresh user of that segment, with tokens.

    ``gp_user_factory`` says how a team's server makes one: ``(base_url, segment)``, sync
    or async, given the segment's name as the test wrote it (one of ``gp_segments`` when
    that is set, checked here first). What it returns is the test's: anything with the
    ``user_id`` and ``access_token`` the test and ``gp_client``-style helpers read
    (docs/harness.md). The default is protocol v1's signup, login and upgrade.
    """
    from golden_path.testing.identity.throttle_stop import is_throttled, stop_throttled_run
    from golden_path.testing.identity.users import create_user
    from golden_path.testing.services.schema import load_callable

    options = harness_options(request.config)
    custom = (
        load_callable(options.user_factory, "gp_user_factory") if options.user_factory else None
    )
    segments = options.segments
    # protocol v1's client only where v1 makes the users: a team's gp_user speaks its own
    # protocol, and a test of it is no protocol v1 test (--gp-protocol=ag-ui runs it).
    gp_api: GoldenPathHTTP | None = None if custom else request.getfixturevalue("gp_api")

    async def make(tier: str | None = None, *, email: str | None = None) -> Any:
        segment = str(tier) if tier is not None else (segments[0] if segments else "free")
        if segments and segment not in segments:
            pytest.fail(
                f"gp_user({segment!r}): not one of gp_segments ({', '.join(segments)})",
                pytrace=False,
            )
        try:
            if custom is not None:
                user = custom(gp_server.base_url, segment)
                return await user if inspect.isawaitable(user) else user
            assert gp_api is not None
            return await create_user(gp_api, segment, email=email)
        except Exception as exc:
            if is_throttled(exc):  # one message and a stop, not a 429 in every later test
                stop_throttled_run(request, exc, gp_server.base_url)
            raise

    return make


ClientFactory = Callable[..., Awaitable["GoldenPathSocket"]]


@pytest.fixture
async def gp_client(
    gp_server: ServerEndpoint, gp_api: GoldenPathHTTP, request: pytest.FixtureRequest
) -> AsyncIterator[ClientFactory]:
    """``sock = await gp_client(user, method="header"|"subprotocol"|"ticket")``.

    Sockets are closed after the test; a failing test's report shows every socket's
    transcript.
    """
    from golden_path.client import GoldenPathSocket

    sockets: list[GoldenPathSocket] = []
    request.node.gp_sockets = sockets

    async def connect(
        user: GoldenPathUser, method: AuthMethod = "header", **kwargs: Any
    ) -> GoldenPathSocket:
        ticket = await gp_api.ws_ticket(user.access_token) if method == "ticket" else None
        sock = await GoldenPathSocket.connect(
            gp_server.ws_url, user.access_token, method=method, ticket=ticket, **kwargs
        )
        sockets.append(sock)
        return sock

    try:
        yield connect
    finally:
        for sock in sockets:
            await sock.close()


@pytest.fixture(scope="session")
def gp_jwt(request: pytest.FixtureRequest, gp_server: ServerEndpoint) -> JWTFactory:
    """Tokens signed like the server under test's, each broken in one way, for negative tests.

    For the reference server they are signed with its own settings; for a team's
    server (or a deployment by URL) the ``gp_jwt_*`` ini settings say the issuer,
    audience, algorithm, claim names, extra claims and the environment variable
    holding the secret or private key. Without that secret every token is foreign.
    """
    from golden_path.testing.identity.jwt_factory import (
        JWTFactory,
        claims_from_lines,
        foreign_key,
    )
    from golden_path.testing.identity.keys import key_id
    from golden_path.testing.server.reference import reference_jwt

    if gp_server.settings is not None:
        return reference_jwt(gp_server.settings)
    options = harness_options(request.config)
    secret = os.environ.get(options.jwt_secret_env, "") if options.jwt_secret_env else ""
    try:
        extra = claims_from_lines(options.jwt_claims)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    secret = secret or foreign_key(options.jwt_algorithm)
    return JWTFactory(
        secret=secret,
        issuer=options.jwt_issuer,
        audience=options.jwt_audience,
        algorithm=options.jwt_algorithm,
        subject_claim=options.jwt_subject_claim,
        tier_claim=options.jwt_tier_claim,
        extra_claims=extra,
        segments=options.segments,
        key_id=key_id(options.jwt_algorithm, secret),
    )


ProcessFactory = Callable[..., "ServeProcess"]


@pytest.fixture
def gp_server_process(gp_reference_services: Services) -> Iterator[ProcessFactory]:
    """``node = gp_server_process(agent_step_delay_ms=100)``: another reference-server
    process (``golden-path serve``) on this worker's reference database, sharing the
    in-process server's JWT secret; any ``Settings`` field can be overridden."""
    from golden_path.server.runner import ServeProcess
    from golden_path.testing.server.reference import reference_settings

    started: list[ServeProcess] = []

    def start(**settings: Any) -> ServeProcess:
        process = ServeProcess(reference_settings(gp_reference_services, **settings))
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.stop()
