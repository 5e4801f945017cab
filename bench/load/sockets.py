"""The benchmark's users and their sockets: created, opened and closed, a few at a time."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load.settings import CONNECT_TIMEOUT_S, OPEN_CONCURRENCY, TIER, USER_CONCURRENCY
from golden_path.client import ConnectionRefused, GoldenPathHTTP, GoldenPathSocket, WaitTimeout
from golden_path.testing.identity.users import GoldenPathUser, create_user


@dataclass
class Tracked:
    """An open socket of ``user``; ``after_seq`` is the user's ``last_seq`` when it connected."""

    user: GoldenPathUser
    sock: GoldenPathSocket
    after_seq: int


_addresses = itertools.count()


def user_address() -> str:
    """A loopback address no user of this run had before: 127.0.1.0, 127.0.1.1, and on.

    Real users do not share one address, and the server throttles signups and logins per
    address (10 and 20 a minute by default): each user signs up from an address of its own.
    """
    n = next(_addresses)
    return f"127.{1 + n // 65536}.{n // 256 % 256}.{n % 256}"


async def make_users(api: GoldenPathHTTP, count: int) -> list[GoldenPathUser]:
    """``count`` users of the benchmark's tier, signed up and logged in through the API,
    each from a loopback address of its own."""
    gate = asyncio.Semaphore(USER_CONCURRENCY)

    async def one() -> GoldenPathUser:
        async with gate, GoldenPathHTTP(api.base_url, local_address=user_address()) as own:
            return await create_user(own, TIER)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def open_sockets(
    ws_url: str, owners: Sequence[GoldenPathUser]
) -> tuple[list[Tracked], list[str]]:
    """One socket per entry of ``owners``: the ones that opened, and why others did not."""
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one(user: GoldenPathUser) -> Tracked:
        async with gate:
            sock = await GoldenPathSocket.connect(
                ws_url, user.access_token, timeout=CONNECT_TIMEOUT_S
            )
        return Tracked(user, sock, int(sock.established.get("last_seq", 0)))

    outcomes = await asyncio.gather(*(one(u) for u in owners), return_exceptions=True)
    opened = [o for o in outcomes if isinstance(o, Tracked)]
    errors = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, ConnectionRefused | WaitTimeout | OSError | TimeoutError):
                raise outcome
            errors.append(f"{type(outcome).__name__}: {outcome}"[:300])
    return opened, errors


async def close_sockets(tracked: Sequence[Tracked]) -> None:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY * 2)

    async def one(t: Tracked) -> None:
        async with gate:
            await t.sock.close()

    await asyncio.gather(*(one(t) for t in tracked))
