"""Who holds locks in this database: for errors about a wait that gave up."""

from __future__ import annotations

from golden_path.db.pool import Conn


async def lock_holders(conn: Conn) -> str:
    """The other sessions of this database that hold a lock, one ``; ``-separated entry
    each (pid, state, application name, the start of their query); "nobody now" if none."""
    rows = await conn.fetch(
        "SELECT DISTINCT a.pid, a.state, a.application_name, left(a.query, 120) AS query"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.granted AND a.pid <> pg_backend_pid() AND a.datname = current_database()"
    )
    found = "; ".join(
        f"pid {r['pid']} ({r['state']}, {r['application_name'] or 'no name'}): {r['query']}"
        for r in rows
    )
    return found or "nobody now"
