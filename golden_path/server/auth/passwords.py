"""Password hashing with Argon2id (argon2-cffi), on a bounded pool of its own.

The ``strong`` profile is RFC 9106's second recommendation in one lane (64 MiB, 3
passes, ``p=1``). The ``fast`` profile (1 pass over 1 MiB) exists so a test suite can
create thousands of users; the server refuses it in production.

Hashes run on ``concurrency`` threads of their own, never on the event loop's
shared pool, and at most ``queue`` more may wait for a thread: past that a call
raises :class:`HashingBusy` (503, ``Retry-After``) at once. A flood of logins
therefore holds at most ``concurrency`` × 64 MiB, and everything else the server
does keeps its threads.

It would still take the CPU. argon2-cffi's own profile computes 4 lanes on threads of
their own (about 1.5 cores for 140 ms here), so two hashes at once filled a 2-core
machine and the event loop waited its turn behind them (the benchmark's phase 4
measured everybody else's p50 going from 96 ms to 7 s under a login flood). So:

* the strong profile hashes in one lane (``p=1``, as OWASP recommends; the same 64 MiB
  and 3 passes, so the same cost to an attacker): a hash is one thread, and
  ``concurrency`` is the number of cores hashing can take;
* on Linux the hashing threads run at a low CPU priority (nice 10): hashing gets the
  cores the rest of the server leaves idle, and under contention about a tenth of one,
  so logins wait (or are refused 503) rather than every socket. Not nice 19: on a
  saturated machine that left a hash about 1.5% of a core, 14 s for one login.

A hash made with other parameters (the fast profile's, argon2-cffi's default) still
verifies: Argon2 reads them from the hash.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from golden_path.errors import Unavailable

T = TypeVar("T")
_HASHERS = {
    "strong": PasswordHasher(parallelism=1),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


@functools.cache
def _dummy_hash(profile: str) -> str:
    """A hash of a random password, checked when the email is unknown, so that a wrong
    email costs as much time as a wrong password (no user enumeration). Made once per
    profile, when a server first needs it, not when the module is imported."""
    return _HASHERS[profile].hash(secrets.token_urlsafe(32))


HASHING_NICENESS = 10


def low_priority() -> None:
    """Give the calling thread (only it, on Linux) a low CPU priority, nice 10."""
    if sys.platform == "linux":  # elsewhere this call would lower the whole process
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


class HashingBusy(Unavailable):
    """Every hashing thread is busy and the queue is full: refused, retry shortly."""

    def __init__(self) -> None:
        super().__init__("password hashing", "too many at once")


class Passwords:
    def __init__(self, profile: str = "strong", concurrency: int = 2, queue: int = 16) -> None:
        self._hasher = _HASHERS[profile]
        self._dummy = _dummy_hash(profile)
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=low_priority
        )
        self._capacity = concurrency + queue
        self.admitted = 0  # hashes running or waiting now
        self.peak_admitted = 0

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if self.admitted >= self._capacity:
            raise HashingBusy
        self.admitted += 1
        self.peak_admitted = max(self.peak_admitted, self.admitted)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self.admitted -= 1

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no stored hash, spend the same time and say no."""
        target = stored_hash or self._dummy
        try:
            ok = await self._run(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError, UnicodeError):
            return False
        return ok and bool(stored_hash)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
