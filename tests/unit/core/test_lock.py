"""``requirements.lock`` and ``pyproject.toml`` cannot drift apart silently.

The package declares ranges (teams install it beside their own pins); the
repository's own builds install the lock (``make lock`` writes it). Every
requirement reachable from the ``dev`` extra (the test extra, the docker extra
and the package's own dependencies through it) must be in the lock, pinned to
a version inside its range, with hashes, for every Python the package claims.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a fresh clone installs exactly what the last green CI ran, and a range "
        "changed in pyproject.toml without `make lock` is caught before CI",
        revenue_impact="a build that breaks by itself when a dependency releases blocks every "
        "fix, the revenue-saving ones included",
    ),
]

ROOT = Path(__file__).resolve().parents[3]
LOCKED_EXTRA = "dev"
# The Pythons pyproject.toml claims (>=3.11) that the lock is resolved for.
PYTHONS = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: int

    def applies(self, python: str) -> bool:
        env = {"python_version": python, "python_full_version": f"{python}.0"}
        env |= {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
        return self.marker is None or self.marker.evaluate(env)


def parse_lock(text: str) -> list[Pin]:
    """Each ``name==version [; marker] \\ --hash=…`` entry of a uv/pip-compile lock."""
    pins: list[Pin] = []
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
        head = entry.split("\\", 1)[0].strip()
        if not head or head.startswith("#"):
            continue
        spec, _, marker = head.partition(";")
        name, sep, version = spec.strip().partition("==")
        assert sep, f"lock entry is not pinned with ==: {head!r}"
        pins.append(
            Pin(
                name=canonicalize_name(name),
                version=Version(version.strip()),
                marker=Marker(marker.strip()) if marker.strip() else None,
                hashes=entry.count("--hash=sha256:"),
            )
        )
    return pins


def reachable(project: dict[str, object], extra: str) -> Iterator[Requirement]:
    """The requirements an install of ``golden-path[extra]`` asks for, self-references expanded."""
    meta = project["project"]
    assert isinstance(meta, dict)
    name = canonicalize_name(meta["name"])
    seen: set[str] = set()
    todo: list[str | None] = [None, extra]  # None: the package's own dependencies
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current or "")
        lines = meta["dependencies"] if current is None else meta["optional-dependencies"][current]
        for line in lines:
            req = Requirement(line)
            if canonicalize_name(req.name) == name:
                todo.extend(req.extras)
            else:
                yield req


def marker_applies(req: Requirement, python: str) -> bool:
    env = {"python_version": python, "python_full_version": f"{python}.0", "extra": ""}
    env |= {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    return req.marker is None or req.marker.evaluate(env)


def problems(project: dict[str, object], lock: list[Pin]) -> list[str]:
    found: list[str] = []
    for req in reachable(project, LOCKED_EXTRA):
        for python in PYTHONS:
            if not marker_applies(req, python):
                continue
            pins = [p for p in lock if p.name == canonicalize_name(req.name) and p.applies(python)]
            if not pins:
                found.append(f"{req.name}: missing from the lock for Python {python}")
            for pin in pins:
                if not req.specifier.contains(pin.version, prereleases=True):
                    found.append(f"{req.name}=={pin.version} (Python {python}) is outside {req}")
    for pin in lock:
        if pin.hashes == 0:
            found.append(f"{pin.name}=={pin.version} has no hash")
    return found


def load() -> tuple[dict[str, object], list[Pin]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = parse_lock((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    return project, lock


def test_every_requirement_of_the_dev_extra_is_locked_inside_its_range() -> None:
    project, lock = load()
    assert problems(project, lock) == []


def test_the_lock_pins_each_package_once_per_python() -> None:
    _, lock = load()
    for python in PYTHONS:
        names = [p.name for p in lock if p.applies(python)]
        assert sorted({n for n in names if names.count(n) > 1}) == [], python


def test_a_range_moved_without_make_lock_is_caught() -> None:
    """The check itself: a pin outside a narrowed range, and a dropped pin, are both named."""
    project, lock = load()
    meta = project["project"]
    assert isinstance(meta, dict)
    redis = next(p for p in lock if p.name == "redis")
    narrowed = dict(meta)
    narrowed["dependencies"] = [
        line if not line.startswith("redis>") else f"redis<{redis.version}"
        for line in meta["dependencies"]
    ]
    assert problems({"project": narrowed}, lock) == [
        f"redis=={redis.version} (Python {py}) is outside redis<{redis.version}" for py in PYTHONS
    ]
    without_pytest = [p for p in lock if p.name != "pytest"]
    assert problems(project, without_pytest) == [
        f"pytest: missing from the lock for Python {py}" for py in PYTHONS
    ]


def test_a_pin_without_hashes_is_caught() -> None:
    project, lock = load()
    unhashed = [Pin(p.name, p.version, p.marker, 0) if p.name == "httpx" else p for p in lock]
    httpx = next(p for p in lock if p.name == "httpx")
    assert problems(project, unhashed) == [f"httpx=={httpx.version} has no hash"]


def test_the_lock_parser_reads_markers_and_hashes() -> None:
    text = (
        "# header\n"
        "uvloop==0.23.0 ; sys_platform != 'win32' \\\n"
        "    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "    # via golden-path\n"
        "exceptiongroup==1.3.0 ; python_full_version < '3.11' \\\n    --hash=sha256:cc\n"
    )
    uvloop, group = parse_lock(text)
    assert (uvloop.name, str(uvloop.version), uvloop.hashes) == ("uvloop", "0.23.0", 2)
    assert uvloop.applies("3.13")
    assert not group.applies("3.11")
