"""The project's schema, applied once per run to the template every test database clones.

``gp_schema`` names it (see :func:`apply_schema`). A schema that fails stops the
run with one :class:`SchemaError` naming the file or callable and PostgreSQL's
own message, instead of failing every test that needed a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from golden_path.db.migrate import migrate_dsn
from golden_path.services.model import ServicesError
from golden_path.testing.options import SCHEMA_REFERENCE


class SchemaError(ServicesError):
    """``gp_schema`` could not be applied; the message names where and why."""


# Where Alembic says which revision it is applying ("Running upgrade 0001 -> 0002, add
# orders"), at INFO, before each one: the last such line before a failure names the culprit.
ALEMBIC_LOGGER = "alembic.runtime.migration"


class _LastAlembicStep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(("Running upgrade", "Running downgrade", "Running stamp")):
            self.last = message


@contextlib.contextmanager
def _alembic_steps() -> Iterator[_LastAlembicStep]:
    """Listen to Alembic's own step lines while a migration callable runs (without importing
    Alembic: a project without it logs nothing there)."""
    logger = logging.getLogger(ALEMBIC_LOGGER)
    handler = _LastAlembicStep()
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def load_callable(spec: str, what: str) -> Callable[..., Any]:
    """``package.module:attribute`` (``what`` names the setting in error messages)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SchemaError(f"{what} = {spec!r}: expected package.module:callable")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise SchemaError(f"{what} = {spec!r}: cannot import it ({exc})") from exc
    if not callable(target):
        raise SchemaError(f"{what} = {spec!r}: {type(target).__name__} is not callable")
    return target  # type: ignore[no-any-return]


def sql_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".sql" and p.is_file())


async def _apply_files(dsn: str, files: list[Path]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for path in files:
            try:
                await conn.execute(path.read_text(encoding="utf-8"))
            except asyncpg.PostgresError as exc:
                where = f" at character {exc.position}" if getattr(exc, "position", None) else ""
                raise SchemaError(
                    f"gp_schema: {path} failed{where}: {type(exc).__name__}: {exc}"
                ) from exc
    finally:
        await conn.close()


async def apply_schema(spec: str, dsn: str, rootdir: Path) -> str:
    """Apply ``spec`` to the database at ``dsn``; a short description of what was applied.

    * empty: nothing (an empty database);
    * ``golden-path``: the reference server's migrations;
    * a directory (relative to the ini file's folder): its ``.sql`` files, in name order;
    * ``package.module:callable``: called with ``dsn`` (a coroutine function is awaited).
    """
    spec = spec.strip()
    if not spec:
        return "an empty database"
    if spec == SCHEMA_REFERENCE:
        try:
            await migrate_dsn(dsn)
        except asyncpg.PostgresError as exc:
            raise SchemaError(f"gp_schema = {SCHEMA_REFERENCE}: {exc}") from exc
        return "golden-path's migrations"
    folder = Path(spec) if Path(spec).is_absolute() else rootdir / spec
    if ":" not in spec or folder.is_dir():
        if not folder.is_dir():
            raise SchemaError(
                f"gp_schema = {spec!r}: no such directory ({folder}); expected a directory of "
                f".sql files, package.module:callable, {SCHEMA_REFERENCE!r} or nothing"
            )
        files = sql_files(folder)
        if not files:
            raise SchemaError(f"gp_schema = {spec!r}: {folder} holds no .sql files")
        await _apply_files(dsn, files)
        return f"{len(files)} SQL files from {folder}"
    function = load_callable(spec, "gp_schema")
    with _alembic_steps() as steps:
        try:
            if inspect.iscoroutinefunction(function):
                await function(dsn)
            else:
                # In a thread: a migration tool may run an event loop of its own (Alembic's
                # async env.py does), which it cannot inside this one.
                result = await asyncio.to_thread(function, dsn)
                if inspect.isawaitable(result):
                    await result
        except SchemaError:
            raise
        except Exception as exc:
            step = f" in Alembic's step {steps.last!r}" if steps.last else ""
            raise SchemaError(
                f"gp_schema = {spec!r} raised {type(exc).__name__}{step}: {exc}"
            ) from exc
    return f"{spec}({dsn!r})"
