"""Password hashing with Argon2id (argon2-cffi).

The ``strong`` profile is argon2-cffi's recommended one. The ``fast`` profile
(1 pass over 1 MiB) exists so a test suite can create thousands of users; the
server refuses it in production.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHERS = {
    "strong": PasswordHasher(),
    "fast": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}
# A hash of a random password, checked when the email is unknown, so that a
# wrong email costs as much time as a wrong password (no user enumeration).
_DUMMY = {name: hasher.hash(secrets.token_urlsafe(32)) for name, hasher in _HASHERS.items()}


class Passwords:
    def __init__(self, profile: str = "strong") -> None:
        self._hasher = _HASHERS[profile]
        self._dummy = _DUMMY[profile]

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no stored hash, spend the same time and say no."""
        target = stored_hash or self._dummy
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerificationError, InvalidHashError, UnicodeError):
            return False
        return ok and bool(stored_hash)
