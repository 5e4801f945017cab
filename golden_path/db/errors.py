"""The database boundary's one mapping of driver errors (as httpx maps transport errors once).

Every transaction the server opens goes through ``Database`` (``db/scope.py``),
which turns what asyncpg raises when PostgreSQL is away, restarting or refusing
into :class:`DatabaseUnavailable`. Callers above the database never name an
asyncpg exception. Integrity violations (a unique key already taken, say) are
answers, not outages: they pass through as they are, for the repository that
expects them to turn into its own error (``users.EmailTaken``).
"""

from __future__ import annotations

import asyncpg

from golden_path.errors import GoldenPathError, Unavailable

# What the driver raises when the database cannot do the work: a lost or refused
# connection, a timeout, or an error of the server's own.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
    TimeoutError,
)
# ...except the answers a caller may expect and handle itself.
ANSWERS: tuple[type[BaseException], ...] = (asyncpg.IntegrityConstraintViolationError,)


class DatabaseUnavailable(Unavailable):
    """PostgreSQL did not do the work; the transaction was rolled back, nothing was written."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the database", detail)


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc``, raised by the driver, means the database could not do the work."""
    return isinstance(exc, DRIVER_ERRORS) and not isinstance(exc, ANSWERS)


class RowSecurityBypassed(GoldenPathError):
    """The login bypasses row-level security and cannot become the app role: refused."""
