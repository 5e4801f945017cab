"""The harness is laid out by concern, and each concern imports only what it may.

``golden_path.testing`` holds one folder per concern (services, server, identity,
v1, agui, ws, bvj, model) beside a few shared modules (options, markers, violation,
transcripts) and
the plugin's own (plugin, fixtures, the public face). Each concern's
``__init__`` docstring says what it may import; :data:`MAY_IMPORT` is that rule
as data. A protocol checker that imports the reference server, or a report
that starts services, fails here. Modules are parsed, not imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import golden_path.testing

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team reads one folder to learn each part of the harness (the AG-UI "
        "checker, the server under test), and a protocol checker stays usable on any server",
        revenue_impact="a checker tied to the reference server cannot judge a team's own, and "
        "a harness nobody can find their way in is not adopted",
    ),
]

ROOT = Path(golden_path.testing.__file__).resolve().parent
PREFIX = "golden_path.testing"
SHARED = {"options", "markers", "violation", "transcripts"}
CONCERNS = {"services", "server", "identity", "v1", "agui", "bvj", "model", "ws"}
# What each concern may import of golden_path: harness parts by short name, the rest of
# the package by dotted prefix. Its own modules are always allowed.
MAY_IMPORT: dict[str, set[str]] = {
    "options": set(),
    "markers": {"options"},
    "violation": {"golden_path.errors"},
    "transcripts": set(),
    "services": {"options", "golden_path.services", "golden_path.db"},
    "server": {
        "options",
        "services",
        "identity",
        "model",
        "golden_path.services",
        "golden_path.server.runner",
        "golden_path.server.config",
        "golden_path.protocol",
        "golden_path.tiers",
    },
    "identity": {
        "golden_path.client",
        "golden_path.context",
        "golden_path.ids",
        "golden_path.tiers",
        "golden_path.server.auth.tokens",
    },
    "v1": {
        "violation",
        "golden_path.protocol",
        "golden_path.ids",
        "golden_path.context",
        "golden_path.tiers",
        "golden_path.errors",
    },
    "agui": {"violation", "markers", "options", "transcripts"},
    "ws": {"violation", "markers", "options", "transcripts"},
    "bvj": {"options", "markers", "golden_path.errors", "golden_path.tiers"},
    "model": {"golden_path.server.runner"},
}
# Never, whatever else a concern may import: a protocol or the report tied to a server.
NEVER: dict[str, tuple[str, ...]] = {
    "v1": ("golden_path.server", "golden_path.services", "golden_path.db"),
    "agui": ("golden_path.server", "golden_path.services", "golden_path.db"),
    "ws": ("golden_path.server", "golden_path.services", "golden_path.db", "golden_path.client"),
    "bvj": ("golden_path.server", "golden_path.services", "golden_path.db"),
    "model": ("golden_path.services", "golden_path.db"),
}


def concern_of(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    if len(rel.parts) > 1:
        return rel.parts[0]
    return rel.stem if rel.stem in SHARED else None


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n == "golden_path" or n.startswith("golden_path.")}


def harness_part(module: str) -> str | None:
    if not module.startswith(PREFIX + "."):
        return None
    return module[len(PREFIX) + 1 :].split(".")[0]


def allowed(concern: str, module: str) -> bool:
    if any(module == bad or module.startswith(bad + ".") for bad in NEVER.get(concern, ())):
        return False
    part = harness_part(module)
    if part is not None:
        return part == concern or part in MAY_IMPORT[concern]
    if module in ("golden_path", PREFIX):
        return False
    rules = MAY_IMPORT[concern]
    return any(module == r or module.startswith(r + ".") for r in rules if "." in r)


def forbidden_imports(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        concern = concern_of(path, root)
        if concern is None:
            continue
        for module in sorted(imported(ast.parse(path.read_text(encoding="utf-8")))):
            # ``from golden_path.testing.v1 import fields`` names a module as an attribute
            if harness_part(module) is None and module.startswith(PREFIX + "."):
                continue
            if not allowed(concern, module) and not allowed(concern, module.rpartition(".")[0]):
                found.append(f"{path.relative_to(root)}: {concern} imports {module}")
    return found


def test_every_module_is_in_a_concern_or_is_the_plugins_own() -> None:
    top = {p.stem for p in ROOT.glob("*.py")}
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert top == SHARED | {"__init__", "plugin", "fixtures"}
    assert folders == CONCERNS


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_each_concern_says_what_it_owns_and_may_import(concern: str) -> None:
    doc = ast.get_docstring(ast.parse((ROOT / concern / "__init__.py").read_text()))
    assert doc is not None
    assert "May import" in doc


def test_no_concern_imports_what_it_must_not() -> None:
    assert forbidden_imports() == []


def test_a_protocol_package_importing_the_reference_server_is_caught(tmp_path: Path) -> None:
    """The check itself, on a copy of the tree with one forbidden import added."""
    copy = tmp_path / "testing"
    for path in ROOT.rglob("*.py"):
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    rules = copy / "v1" / "rules.py"
    rules.write_text(rules.read_text() + "\nfrom golden_path.server.config import Settings\n")
    report = copy / "bvj" / "report.py"
    report.write_text(report.read_text() + "\nfrom golden_path.testing.services import shared\n")
    assert forbidden_imports(copy) == [
        "bvj/report.py: bvj imports golden_path.testing.services",
        "bvj/report.py: bvj imports golden_path.testing.services.shared",
        "v1/rules.py: v1 imports golden_path.server.config",
        "v1/rules.py: v1 imports golden_path.server.config.Settings",
    ]


def test_no_module_of_the_package_is_over_500_lines() -> None:
    package = ROOT.parent
    long = {
        str(p.relative_to(package)): n
        for p in package.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


# Locust monkeypatches the standard library with gevent on import: the harness (the pytest
# plugin and everything it loads) never imports it, nor golden_path.load, which does.
GEVENT_WORLD = ("locust", "gevent", "geventhttpclient", "golden_path.load")


def gevent_imports(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found.extend(
                f"{path.relative_to(root)}: imports {name}"
                for name in names
                if any(name == bad or name.startswith(bad + ".") for bad in GEVENT_WORLD)
            )
    return found


def test_the_harness_never_imports_locust_gevent_or_the_load_package() -> None:
    assert gevent_imports() == []


def test_a_harness_module_importing_locust_is_caught(tmp_path: Path) -> None:
    (tmp_path / "plugin.py").write_text("import locust\nfrom gevent import monkey\n")
    (tmp_path / "fixtures.py").write_text("def f():\n    from golden_path.load import gate\n")
    assert gevent_imports(tmp_path) == [
        "fixtures.py: imports golden_path.load",
        "plugin.py: imports locust",
        "plugin.py: imports gevent",
    ]
