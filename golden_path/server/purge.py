"""``golden-path purge``: apply the tiers' history retention to a database, once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime

from golden_path.db.errors import DRIVER_ERRORS
from golden_path.db.pool import connect
from golden_path.db.retention import PurgeResult, purge
from golden_path.db.scope import scoped
from golden_path.server.clock import utcnow


def parse_moment(text: str | None) -> datetime:
    """``text`` as an aware datetime (UTC when it names no zone); now when ``None``."""
    if text is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--now {text!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def purge_dsn(dsn: str, now: datetime) -> PurgeResult:
    conn = await connect(dsn)
    try:
        async with scoped(conn, system=True) as system:
            return await purge(system, now)
    finally:
        await conn.close()


def run_purge(now_text: str | None, dsn: str | None = None) -> int:
    dsn = dsn or os.environ.get("GOLDEN_PATH_POSTGRES_DSN", "").strip()
    if not dsn:
        print("golden-path purge: set GOLDEN_PATH_POSTGRES_DSN or pass --dsn", file=sys.stderr)
        return 2
    try:
        now = parse_moment(now_text)
    except ValueError as exc:
        print(f"golden-path purge: {exc}", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(purge_dsn(dsn, now))
    except DRIVER_ERRORS as exc:
        print(f"golden-path purge: the database did not answer: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"now": now.isoformat(), "deleted": result.to_dict()}))
    return 0
