"""``golden_path``'s packages depend on each other one way: no import cycle between siblings.

For every package, its children (sub-packages and modules) form a graph: an
edge A → B when any module inside A imports anything inside B (at module
level, inside a function, or under ``TYPE_CHECKING``: a type is a dependency
too). Each such graph must be acyclic, so ``server.runs`` never depends on
``server.ws`` while ``server.ws`` depends on ``server.runs``, and a newcomer can
read the layers bottom-up. The modules are parsed, not imported.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import golden_path

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="each stage of the golden path can be read, changed and tested on its own "
        "because its code depends on the layers below it only",
        revenue_impact="tangled layers make every fix touch three stages at once, which is "
        "how regressions reach paying customers",
    ),
]

ROOT = Path(golden_path.__file__).resolve().parent
PACKAGE = "golden_path"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, name: str) -> set[str]:
    """Every ``golden_path`` module or package that ``path`` (module ``name``) imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # ``from golden_path.db import events``: events may be a module of its own.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def sibling_edges(modules: dict[str, Path]) -> dict[str, dict[str, set[tuple[str, str]]]]:
    """For each package: child → child edges, each with the (importer, imported) behind it."""
    known = set(modules)
    graphs: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for importer, path in modules.items():
        for target in imported_modules(path, importer):
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]  # a name inside a module: that module
            a, b = importer.split("."), target.split(".")
            common = 0
            while common < min(len(a), len(b)) and a[common] == b[common]:
                common += 1
            if common >= min(len(a), len(b)):
                continue  # one contains the other: a package and its own children
            parent = ".".join(a[:common])
            graphs[parent][a[common]].add((b[common], f"{importer} imports {target}"))
    return graphs


def find_cycle(graph: dict[str, set[tuple[str, str]]]) -> list[str] | None:
    """One cycle of ``graph``, as the reasons of its edges in order; ``None`` if acyclic."""
    done: set[str] = set()
    path: list[str] = []  # the nodes being visited, in order
    reasons: list[str] = []  # reasons[i]: why path[i] depends on path[i + 1]

    def visit(node: str) -> list[str] | None:
        path.append(node)
        for child, why in sorted(graph.get(node, ())):
            if child in path:
                return [*reasons[path.index(child) :], why]
            if child not in done:
                reasons.append(why)
                found = visit(child)
                if found:
                    return found
                reasons.pop()
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            found = visit(node)
            if found:
                return found
    return None


def test_no_package_has_an_import_cycle_between_its_children() -> None:
    graphs = sibling_edges(all_modules())
    cycles = {parent: find_cycle(graph) for parent, graph in graphs.items()}
    problems = {parent: cycle for parent, cycle in cycles.items() if cycle}
    assert not problems, "\n".join(
        f"cycle between the children of {parent}:\n  " + "\n  ".join(cycle)
        for parent, cycle in problems.items()
    )


def test_the_checker_finds_a_cycle_when_there_is_one() -> None:
    graph = {
        "runs": {("ws", "runs.service imports ws.hub")},
        "ws": {("runs", "ws.endpoint imports runs.service")},
        "api": {("runs", "api.deps imports runs.service")},
    }
    assert find_cycle(graph) == [
        "runs.service imports ws.hub",
        "ws.endpoint imports runs.service",
    ]
    assert find_cycle({"ws": {("runs", "why")}, "runs": set()}) is None


def test_the_runs_layer_does_not_know_the_socket_layer() -> None:
    modules = all_modules()
    runs = {n: p for n, p in modules.items() if n.startswith("golden_path.server.runs")}
    leaks = {
        name: sorted(t for t in imported_modules(path, name) if ".server.ws" in t)
        for name, path in runs.items()
    }
    assert not {n: t for n, t in leaks.items() if t}
