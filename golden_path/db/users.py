"""The ``users`` table: accounts, their tier, and the per-user event counter."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from golden_path.db.pool import Conn
from golden_path.errors import GoldenPathError
from golden_path.ids import UserID
from golden_path.tiers import Tier


class EmailTaken(GoldenPathError):
    """An account with this email (compared case-insensitively) exists."""


@dataclass(frozen=True, slots=True)
class User:
    id: UserID
    email: str
    password_hash: str
    tier: Tier
    last_seq: int


def _user(row: asyncpg.Record) -> User:
    return User(
        id=UserID(row["id"]),
        email=row["email"],
        password_hash=row["password_hash"],
        tier=Tier(row["tier"]),
        last_seq=int(row["last_seq"]),
    )


async def create(conn: Conn, email: str, password_hash: str) -> User:
    user_id = UserID.new()
    try:
        row = await conn.fetchrow(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3) RETURNING *",
            user_id,
            email,
            password_hash,
        )
    except asyncpg.UniqueViolationError:
        raise EmailTaken(email) from None
    assert row is not None
    return _user(row)


async def by_email(conn: Conn, email: str) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE lower(email) = lower($1)", email)
    return _user(row) if row else None


async def by_id(conn: Conn, user_id: UserID) -> User | None:
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
    return _user(row) if row else None


async def lock(conn: Conn, user_id: UserID) -> User | None:
    """The user, row-locked until the transaction ends (serialises a user's run admissions)."""
    row = await conn.fetchrow("SELECT * FROM users WHERE id = $1 FOR UPDATE", user_id)
    return _user(row) if row else None


async def set_tier(conn: Conn, user_id: UserID, tier: Tier) -> None:
    await conn.execute("UPDATE users SET tier = $2 WHERE id = $1", user_id, tier.value)


async def last_seq(conn: Conn, user_id: UserID) -> int:
    value = await conn.fetchval("SELECT last_seq FROM users WHERE id = $1", user_id)
    return int(value or 0)
