"""``gp_schema = package.module:callable`` with Alembic: a team's migrations, as they run them.

The inner project has what ``alembic init`` gives a team (``alembic.ini``, ``env.py``, a
``versions/`` folder with two revisions) and ``myproject.migrate:upgrade``, which runs
``alembic upgrade head`` through Alembic's API on the DSN the harness passes, turned into a
SQLAlchemy URL (``postgresql+psycopg://``). It runs on the outer run's servers through the
external provider.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.stage("persistence"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team whose schema lives in Alembic revisions gets every test database "
        "migrated by them, with no SQL dump to keep in step",
        revenue_impact="most Python teams migrate with Alembic; a harness that cannot run it "
        "is one they cannot adopt",
    ),
]

FILES = {
    "pytest.ini": """\
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = function
        gp_schema = myproject.migrate:upgrade
        """,
    "alembic.ini": """\
        [alembic]
        script_location = %(here)s/alembic
        """,
    "alembic/env.py": """\
        from alembic import context
        from sqlalchemy import create_engine, pool

        config = context.config
        # The URL comes from the caller (myproject.migrate), never from alembic.ini.
        engine = create_engine(config.attributes["url"], poolclass=pool.NullPool)
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=None)
            with context.begin_transaction():
                context.run_migrations()
        engine.dispose()
        """,
    "alembic/script.py.mako": """\
        revision = ${repr(up_revision)}
        down_revision = ${repr(down_revision)}

        def upgrade():
            pass
        """,
    "alembic/versions/a1_customers.py": """\
        import sqlalchemy as sa
        from alembic import op

        revision = "a1"
        down_revision = None

        def upgrade():
            op.create_table(
                "customers",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("email", sa.Text, nullable=False, unique=True),
            )

        def downgrade():
            op.drop_table("customers")
        """,
    "alembic/versions/b2_orders.py": """\
        import sqlalchemy as sa
        from alembic import op

        revision = "b2"
        down_revision = "a1"

        def upgrade():
            op.create_table(
                "orders",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
                sa.Column("total_cents", sa.Integer, nullable=False),
            )
            op.execute("INSERT INTO customers (email) VALUES ('seeded@example.com')")

        def downgrade():
            op.drop_table("orders")
        """,
    "myproject/__init__.py": "",
    "myproject/migrate.py": """\
        from pathlib import Path

        from alembic import command
        from alembic.config import Config
        from sqlalchemy.engine import make_url

        ROOT = Path(__file__).resolve().parents[1]


        def upgrade(dsn: str) -> None:
            \"\"\"alembic upgrade head, on the database at ``dsn`` (a libpq URL).\"\"\"
            config = Config(str(ROOT / "alembic.ini"))
            config.attributes["url"] = make_url(dsn).set(drivername="postgresql+psycopg")
            command.upgrade(config, "head")
        """,
    "tests/test_schema.py": """\
        import json
        from pathlib import Path

        import asyncpg

        SEEN = Path(__file__).resolve().parents[1] / "seen"  # read by the outer test


        async def report(conn, where, **extra):
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
            SEEN.mkdir(exist_ok=True)
            (SEEN / f"{where}.json").write_text(json.dumps({
                "tables": [t["tablename"] for t in tables],
                "version": await conn.fetchval("SELECT version_num FROM alembic_version"),
                "seeded": await conn.fetchval("SELECT count(*) FROM customers"),
                **extra,
            }))


        async def test_the_workers_database(gp_db):
            await report(gp_db, "gp_db")
            await gp_db.execute("INSERT INTO orders (customer_id, total_cents) VALUES (1, 650)")


        async def test_a_database_of_the_tests_own(gp_database):
            conn = await asyncpg.connect(gp_database.postgres_dsn)
            try:
                no_customer = "INSERT INTO orders (customer_id, total_cents) VALUES (99, 1)"
                try:
                    await conn.execute(no_customer)
                    refused = False
                except asyncpg.ForeignKeyViolationError:
                    refused = True
                await report(conn, "gp_database", foreign_key_refused=refused)
            finally:
                await conn.close()
        """,
}


@pytest.fixture
def project(
    pytester: pytest.Pytester,
    gp_services: Services,
    monkeypatch: pytest.MonkeyPatch,
    redis_admin_url: str,
) -> pytest.Pytester:
    """A fresh Alembic project whose inner runs use the outer run's servers."""
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    pytester.syspathinsert()
    for relative, body in FILES.items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    return pytester


def seen(project: pytest.Pytester) -> dict[str, dict[str, object]]:
    """What each inner test found in its database, by fixture."""
    return {p.stem: json.loads(p.read_text()) for p in (project.path / "seen").glob("*.json")}


def test_alembic_upgrade_head_migrates_every_test_database(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    found = seen(project)
    assert sorted(found) == ["gp_database", "gp_db"]
    for where, schema in found.items():
        # Both revisions ran, in order (b2's seed needs a1's table), and Alembic recorded head.
        assert schema["tables"] == ["alembic_version", "customers", "orders"], where
        assert schema["version"] == "b2", where
        assert schema["seeded"] == 1, where
    assert found["gp_database"]["foreign_key_refused"] is True


def test_a_revision_that_fails_stops_the_run_naming_it(project: pytest.Pytester) -> None:
    broken = project.path / "alembic/versions/b2_orders.py"
    broken.write_text(
        broken.read_text().replace('"INSERT INTO customers', '"INSERT INTO no_such_table')
    )
    result = project.runpytest_subprocess("-p", "no:randomly")
    assert result.ret != pytest.ExitCode.OK
    text = result.stdout.str()
    assert "gp_schema = 'myproject.migrate:upgrade' raised ProgrammingError" in text, text[-3000:]
    assert 'relation "no_such_table" does not exist' in text
    # The revision that failed, as Alembic announced it (a1 ran; b2 broke), and the team's
    # own migration is not blamed on golden-path's services.
    assert "in Alembic's step 'Running upgrade a1 -> b2" in text, text[-3000:]
    assert "services unavailable" not in text
    assert result.parseoutcomes().get("errors", 0) == 1
    assert "passed" not in result.parseoutcomes()


def test_the_template_is_at_head_once_not_per_test(project: pytest.Pytester) -> None:
    """The upgrade runs once per run, on the template every worker's and test's database is
    cloned from: an upgrade that counts its runs in a file ran once for four tests on two
    workers, and each of them found the schema at head."""
    counter = project.path / "upgrades.txt"
    migrate = project.path / "myproject/migrate.py"
    migrate.write_text(
        migrate.read_text()
        + textwrap.dedent(f"""
            _upgrade = upgrade


            def upgrade(dsn: str) -> None:
                _upgrade(dsn)
                with open({str(counter)!r}, "a") as runs:
                    runs.write("upgraded\\n")
            """)
    )
    tests = project.path / "tests/test_more.py"
    tests.write_text(
        textwrap.dedent("""
            import asyncpg

            HEAD = "SELECT version_num FROM alembic_version"

            async def test_c(gp_database):
                conn = await asyncpg.connect(gp_database.postgres_dsn)
                try:
                    assert await conn.fetchval(HEAD) == "b2"
                finally:
                    await conn.close()

            async def test_d(gp_db):
                assert await gp_db.fetchval(HEAD) == "b2"
            """)
    )
    result = project.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=4)
    assert Path(counter).read_text().splitlines() == ["upgraded"]
