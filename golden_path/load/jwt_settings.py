"""The project's ``gp_jwt_*`` settings, read from the ini file of the current directory.

The file pytest would read, found the way pytest finds it: in the directory, then each
parent, the first of ``pytest.ini`` (``.pytest.ini``), ``pyproject.toml`` with
``[tool.pytest.ini_options]``, ``tox.ini`` with ``[pytest]``, ``setup.cfg`` with
``[tool:pytest]``. A setting the file leaves out takes the harness's default
(``golden_path.testing.options.INI``, the one source of those defaults). This runs in
``golden-path load``'s own process, never in Locust's: the settings travel to Locust as
JSON (:class:`golden_path.load.tokens.JWTSettings`).
"""

from __future__ import annotations

import configparser
import shlex
import tomllib
from pathlib import Path
from typing import Any

from golden_path.load.tokens import JWTSettings
from golden_path.testing.identity.jwt_factory import claims_from_lines
from golden_path.testing.options import INI, JWT_ALGORITHMS

# Where pytest looks in each directory, in its order: (file, section); None: a TOML table.
CANDIDATES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", None),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


class SettingsError(ValueError):
    """The ini file cannot be read, or a ``gp_jwt_*`` setting is not usable."""


def _read(path: Path, section: str | None) -> dict[str, Any] | None:
    try:
        if section is None:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            table = data.get("tool", {}).get("pytest", {}).get("ini_options")
            return dict(table) if isinstance(table, dict) else None
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, ValueError, configparser.Error) as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    if parser.has_section(section):
        return dict(parser.items(section))
    return {} if path.name.endswith("pytest.ini") else None


def find_ini(start: Path) -> tuple[Path | None, dict[str, Any]]:
    """The ini file pytest would read from ``start``, and its settings (empty: none)."""
    for directory in (start.resolve(), *start.resolve().parents):
        for name, section in CANDIDATES:
            path = directory / name
            if path.is_file():
                found = _read(path, section)
                if found is not None:
                    return path, found
    return None, {}


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        default = INI[name][2]
        return default if isinstance(default, str) else ""
    return str(value).strip()


def _lines(values: dict[str, Any], name: str) -> tuple[str, ...]:
    value = values.get(name, [])
    items = value if isinstance(value, list) else str(value).splitlines()
    return tuple(str(v).strip() for v in items if str(v).strip())


def _args(values: dict[str, Any], name: str) -> tuple[str, ...]:
    value = values.get(name, [])
    return tuple(str(v) for v in value) if isinstance(value, list) else tuple(shlex.split(value))


def read_settings(start: Path) -> JWTSettings:
    """The ``gp_jwt_*`` settings (and ``gp_segments``) of the project at ``start``."""
    path, values = find_ini(start)
    where = str(path) if path else f"no ini file at or above {start}; defaults"
    algorithm = _text(values, "gp_jwt_algorithm")
    if algorithm not in JWT_ALGORITHMS:
        raise SettingsError(
            f"{where}: gp_jwt_algorithm = {algorithm!r}: expected one of "
            + ", ".join(JWT_ALGORITHMS)
        )
    try:
        claims = claims_from_lines(_lines(values, "gp_jwt_claims"))
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from exc
    return JWTSettings(
        issuer=_text(values, "gp_jwt_issuer"),
        audience=_text(values, "gp_jwt_audience"),
        algorithm=algorithm,
        secret_env=_text(values, "gp_jwt_secret_env"),
        subject_claim=_text(values, "gp_jwt_subject_claim") or "sub",
        tier_claim=_text(values, "gp_jwt_tier_claim") or "tier",
        claims=claims,
        segments=_args(values, "gp_segments"),
    )
