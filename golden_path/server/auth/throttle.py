"""Throttles of the password endpoints: per client address and per account, in Redis.

Each login counts against its client address and against the account it names
(the email, hashed; an unknown email counts like a known one, so a throttle says
nothing about which accounts exist); each signup against its address. Counts are
kept in fixed windows (``GOLDEN_PATH_AUTH_WINDOW_S``) shared by every node. Over a
limit the call is refused with :class:`Throttled` (429 with ``Retry-After``)
before any password is hashed.

Addresses in ``GOLDEN_PATH_THROTTLE_EXEMPT`` (CIDR blocks, empty by default: a
deployment's CI runners) are counted by neither throttle. The address is the one
the throttles count: the TCP peer, or the client a trusted proxy forwarded
(``api.throttle_gate.client_address``), so a forged ``X-Forwarded-For`` from
elsewhere exempts nothing. A node with an exemption says so at start.

Login fails closed without Redis (it cannot record the session either); signup
is let through, as it needs only PostgreSQL (protocol §10).

Once Redis has said that a subject is over its limit in the current window, this
node remembers it until the window ends (at most :data:`KNOWN_OVER` subjects):
:meth:`AuthThrottle.known_over` lets ``api.throttle_gate`` answer a flood's further
attempts before routing, without a Redis round trip. Counts only grow within a
window, so what is remembered stays true on every node.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections import OrderedDict

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from golden_path.errors import GoldenPathError
from golden_path.server.auth.sessions import SessionStoreUnavailable
from golden_path.server.config import THROTTLE_EXEMPT_ENV, Settings, networks
from golden_path.server.redis_keys import RedisKeys

log = logging.getLogger(__name__)


KNOWN_OVER = 10_000  # subjects remembered as over their limit (the oldest go first)


class Throttled(GoldenPathError):
    """Too many attempts in this window; retry after ``retry_after_s`` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many attempts; retry in {retry_after_s} s")


def account_subject(email: str) -> str:
    """The key part for an account: a digest of the normalised email (no address in Redis)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


class AuthThrottle:
    def __init__(self, client: aioredis.Redis, keys: RedisKeys, settings: Settings) -> None:
        self._redis = client
        self._keys = keys
        self._window_s = settings.auth_window_s
        self._login_per_ip = settings.login_per_ip
        self._login_per_account = settings.login_per_account
        self._signup_per_ip = settings.signup_per_ip
        self._over: OrderedDict[tuple[str, str], int] = OrderedDict()  # -> its window
        self._exempt = networks(settings.throttle_exempt)
        if self._exempt:
            log.warning(
                "%s=%s: logins and signups from these addresses are NOT throttled "
                "(meant for a deployment's CI runners; keep it empty otherwise)",
                THROTTLE_EXEMPT_ENV,
                ",".join(settings.throttle_exempt),
            )

    def exempt(self, client_ip: str) -> bool:
        """Whether ``client_ip`` is in ``GOLDEN_PATH_THROTTLE_EXEMPT``."""
        if not self._exempt:
            return False
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False  # "unknown", a Unix socket's peer: never exempt
        return any(address in network for network in self._exempt)

    def known_over(self, kind: str, subject: str) -> int:
        """The seconds to wait if ``subject`` is known to be over its ``kind`` limit in this
        window (``"login-ip"`` or ``"signup-ip"``); 0 when it is not known to be."""
        now = time.time()
        window = int(now // self._window_s)
        if self._over.get((kind, subject)) != window:
            return 0
        return self._retry_after(window, now)

    def _retry_after(self, window: int, now: float) -> int:
        return max(1, math.ceil((window + 1) * self._window_s - now))

    async def login(self, client_ip: str, email: str) -> None:
        """Count a login attempt; :class:`Throttled` when the address or account is over."""
        if self.exempt(client_ip):
            return
        try:
            await self._hit("login-ip", client_ip, self._login_per_ip)
            await self._hit("login-account", account_subject(email), self._login_per_account)
        except RedisError as exc:
            raise SessionStoreUnavailable(str(exc)) from exc

    async def signup(self, client_ip: str) -> None:
        if self.exempt(client_ip):
            return
        try:
            await self._hit("signup-ip", client_ip, self._signup_per_ip)
        except RedisError as exc:
            log.warning("auth throttle: Redis unavailable, letting a signup through: %s", exc)

    async def _hit(self, kind: str, subject: str, limit: int) -> None:
        now = time.time()
        window = int(now // self._window_s)
        key = self._keys.throttle(kind, subject, window)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._window_s + 1)
            count, _ = await pipe.execute()
        if int(count) > limit:
            self._over[(kind, subject)] = window
            self._over.move_to_end((kind, subject))
            while len(self._over) > KNOWN_OVER:
                self._over.popitem(last=False)
            raise Throttled(self._retry_after(window, now))
