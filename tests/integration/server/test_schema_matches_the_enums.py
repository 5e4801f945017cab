"""The schema's ``CHECK`` constraints name exactly the values of the Python enums.

A tier, run status or message role added on one side only would be refused by
PostgreSQL at the first write (or, the other way, accepted by the database but
unknown to the code); these tests read the constraints from the migrated
database itself and fail on any difference.
"""

from __future__ import annotations

import re

import asyncpg
import pytest

from golden_path.protocol import MessageRole, RunStatus
from golden_path.services.model import Services
from golden_path.tiers import TIER_ORDER

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="the tier table, run statuses and message roles have one definition: a "
        "new tier cannot ship in code while the database still refuses it",
        revenue_impact="an upgrade to a tier the database refuses fails at checkout, the one "
        "moment a customer is paying more",
    ),
]

_QUOTED = re.compile(r"'((?:[^']|'')*)'")


async def allowed_values(dsn: str, table: str, column: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        definitions = await conn.fetch(
            """
            SELECT pg_get_constraintdef(c.oid) AS definition
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2
            """,
            table,
            column,
        )
    finally:
        await conn.close()
    assert len(definitions) == 1, f"expected one CHECK on {table}.{column}: {definitions}"
    return {value.replace("''", "'") for value in _QUOTED.findall(definitions[0]["definition"])}


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("users", "tier", {tier.value for tier in TIER_ORDER}),
        ("runs", "status", {status.value for status in RunStatus}),
        ("messages", "role", {role.value for role in MessageRole}),
    ],
    ids=["tiers", "run-statuses", "message-roles"],
)
async def test_a_check_constraint_allows_exactly_the_enums_values(
    gp_services: Services, table: str, column: str, expected: set[str]
) -> None:
    assert await allowed_values(gp_services.postgres_dsn, table, column) == expected
