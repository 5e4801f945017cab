"""Password hashing with Argon2id (argon2-cffi), on a bounded pool of its own.

The ``strong`` profile is OWASP's recommended minimum for Argon2id (Password Storage
Cheat Sheet: 19 MiB, 2 passes, one lane, ``m=19456,t=2,p=1``). ``rfc9106`` is RFC
9106's second recommendation in one lane (64 MiB, 3 passes), for a deployment that
wants more memory per guess and has the cores for it (see below). The ``fast`` profile
(1 pass over 1 MiB) exists so a test suite can create thousands of users; the server
refuses it in production.

Hashes run on ``concurrency`` threads of their own, never on the event loop's
shared pool, and at most ``queue`` more may wait for a thread: past that a call
raises :class:`HashingBusy` (503, ``Retry-After``) at once. A flood of logins
therefore holds at most ``concurrency`` × 19 MiB, and everything else the server
does keeps its threads.

It would still take the CPU and the memory system. What the benchmark's phase 4
measured, on 2 cores, of everybody else's latency under a login flood:

* argon2-cffi's own profile (64 MiB, 3 passes, 4 lanes on threads of their own, about
  1.5 cores for 140 ms here): two hashes at once filled the machine, and everybody
  else's p50 went from 96 ms to 7 s. So a hash is one lane, one thread, and
  ``concurrency`` is the number of cores hashing can take;
* ``rfc9106``, 64 MiB and 3 passes in one lane: everybody else's p99 at 1.3-4.8x its
  plain figure, whatever the hashing's priority (``SCHED_IDLE`` or nice 10, in threads
  or in processes) or share of a core. A busy loop at the same priority cost nothing:
  it was the 64 MiB memory-hard hash beside the server that slowed it, PostgreSQL too;
* ``strong``: 0.87-1.55x in five runs of five (README, Figures);
* on Linux the hashing threads run at a low CPU priority (nice 10): hashing gets the
  cores the rest of the server leaves idle, and under contention about a tenth of one,
  so logins wait (or are refused 503) rather than every socket. Not nice 19: on a
  saturated machine that left a hash about 1.5% of a core, 14 s for one login.

A hash made with other parameters (the 64 MiB profiles', the fast profile's) still
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
from golden_path.server.config import PasswordProfile

T = TypeVar("T")
_HASHERS: dict[PasswordProfile, PasswordHasher] = {
    "strong": PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),
    "rfc9106": PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


@functools.cache
def _dummy_hash(profile: PasswordProfile) -> str:
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
    def __init__(
        self, profile: PasswordProfile = "strong", concurrency: int = 2, queue: int = 16
    ) -> None:
        self._hasher = _HASHERS[profile]
        self._dummy = _dummy_hash(profile)
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=low_priority
        )
        self._capacity = concurrency + queue
        self.admitted = 0  # hashes running or waiting now
        self.peak_admitted = 0
        self.hashed_on: set[str] = set()  # the names of the threads hashes ran on

    def _on_this_thread(self, work: Callable[..., T], *args: str) -> T:
        self.hashed_on.add(threading.current_thread().name)
        return work(*args)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if self.admitted >= self._capacity:
            raise HashingBusy
        self.admitted += 1
        self.peak_admitted = max(self.peak_admitted, self.admitted)
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._on_this_thread, work, *args
            )
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
