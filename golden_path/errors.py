"""The base of every error golden-path raises on purpose, and of every "service is away".

``except GoldenPathError`` catches what the project means to raise (a bad
setting, a refused token, an unusable service provider, a contract violation,
…) and nothing else. :class:`Unavailable` is the one type for "a service the
server depends on did not answer, nothing was changed, retrying can succeed":
the database boundary (``golden_path.db.errors``) and the session store raise
its subclasses, and the HTTP API maps it to 503 in one place.
"""

from __future__ import annotations


class GoldenPathError(Exception):
    """An error golden-path raises on purpose; its message says what to do."""


class Unavailable(GoldenPathError):
    """A backing service did not answer; nothing was changed, and a retry can succeed."""

    def __init__(self, what: str, detail: str = "") -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"{what} is unavailable" + (f": {detail}" if detail else ""))
