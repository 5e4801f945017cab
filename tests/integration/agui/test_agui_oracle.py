"""The AG-UI checker agrees with the official TypeScript client's own ``verifyEvents``.

Generated streams, valid and singly mutated, go to both: golden-path's checker and
``verifyEvents`` from npm ``@ag-ui/client`` 1.0 (run by node, the versions pinned by
``oracle/package-lock.json``, installed once into a cache directory). Both must
accept the same streams, and on a rejected one point at the same event. Only the
verifier's own rules are compared: the checker's extras (a ``TOOL_CALL_RESULT``
for an unknown call, ids the client did not ask for, schema validation, a stream
without its end) are golden-path's, and the mutations here keep every event valid.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_path.testing.agui.contract import check_agui_events, expand_chunks
from golden_path.testing.agui.strategies import agui_runs, agui_streams, chunked_agui_runs

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact=(
            "A checker stricter than the AG-UI clients fails agents that work in every AG-UI "
            "UI; a laxer one passes streams those UIs reject. Agreement with the official "
            "verifier on generated streams shows neither happens."
        ),
        revenue_impact=(
            "Indirect: customers trust AG-UI verdicts that match what their own UI does; no "
            "direct revenue."
        ),
    ),
]

ORACLE = Path(__file__).resolve().parent / "oracle"
SCRIPTS = ("verify.mjs", "expand.mjs")
# The rules verifyEvents itself enforces (the rest are golden-path's own).
VERIFIER_RULES = frozenset(
    {
        "run_not_started",
        "run_already_active",
        "after_terminal",
        "message_already_started",
        "message_not_started",
        "message_not_ended",
        "tool_call_already_started",
        "tool_call_not_started",
        "tool_call_not_ended",
        "step_already_started",
        "step_not_started",
        "step_not_finished",
        "reasoning_already_started",
        "reasoning_not_started",
        "reasoning_not_ended",
        "subagent_already_started",
        "subagent_not_started",
        "subagent_not_finished",
    }
)
Event = dict[str, Any]


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "golden-path"


@pytest.fixture(scope="session")
def oracle_dir() -> Path:
    """The oracle with its pinned node modules, installed once per lock file and cached."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the official AG-UI verifier")
    lock = (ORACLE / "package-lock.json").read_bytes()
    scripts = b"".join((ORACLE / name).read_bytes() for name in SCRIPTS)
    digest = hashlib.sha256(lock + scripts).hexdigest()[:12]
    target = _cache_root() / f"agui-oracle-{digest}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"agui-oracle-{digest}.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)  # xdist workers install it once between them
        if not (target / "node_modules" / "@ag-ui" / "client").is_dir():
            target.mkdir(exist_ok=True)
            for name in ("package.json", "package-lock.json", *SCRIPTS):
                shutil.copy(ORACLE / name, target / name)
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=target,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if installed.returncode != 0:
                shutil.rmtree(target / "node_modules", ignore_errors=True)
                pytest.fail(f"npm ci of the AG-UI oracle failed:\n{installed.stderr[-2000:]}")
    return target


def verify(
    oracle: Path, streams: list[list[Event]], script: str = "verify.mjs"
) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", str(oracle / script)],
        input=json.dumps(streams),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=oracle,
    )
    verdicts: list[dict[str, Any]] = json.loads(result.stdout)
    return verdicts


def first_verifier_violation(events: list[Event]) -> int | None:
    indices = [
        v.index
        for v in check_agui_events(events, require_complete=False)
        if v.rule in VERIFIER_RULES and v.index is not None
    ]
    return min(indices) if indices else None


@st.composite
def cases(draw: st.DrawFn) -> list[Event]:
    """A valid stream, or one with a single structural mutation (every event stays valid)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(agui_streams(max_runs=2))
    run = draw(agui_runs())
    how = draw(st.sampled_from(("keep", "drop", "duplicate", "after_terminal", "retarget")))
    pos = draw(st.integers(0, len(run) - 1))
    if how == "drop":
        return run[:pos] + run[pos + 1 :]
    if how == "duplicate":
        return [*run[: pos + 1], copy.deepcopy(run[pos]), *run[pos + 1 :]]
    if how == "after_terminal" and 0 < pos < len(run) - 1:
        return [*run[:pos], *run[pos + 1 :], run[pos]]
    if how == "retarget":
        mutated = copy.deepcopy(run)
        for key in ("messageId", "toolCallId", "stepName"):
            if key in mutated[pos] and mutated[pos]["type"] != "TOOL_CALL_RESULT":
                mutated[pos][key] = "nowhere-0"
        return mutated
    return run


SOME = settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SOME
@given(st.lists(cases(), min_size=50, max_size=50))
def test_the_checker_and_the_official_verifier_agree(
    oracle_dir: Path, streams: list[list[Event]]
) -> None:
    for events, verdict in zip(streams, verify(oracle_dir, streams), strict=True):
        mine = first_verifier_violation(events)
        if verdict["ok"]:
            assert mine is None, (events, check_agui_events(events, require_complete=False))
        else:
            assert mine == verdict["passed"], (verdict, events, check_agui_events(events))


def _key(event: Event) -> tuple[Any, ...]:
    return tuple(event.get(k) for k in ("type", "messageId", "toolCallId", "toolCallName", "delta"))


@SOME
@given(st.lists(chunked_agui_runs(), min_size=50, max_size=50))
def test_chunks_expand_as_the_official_client_expands_them(
    oracle_dir: Path, pairs: list[tuple[list[Event], list[Event]]]
) -> None:
    streams = [chunked for chunked, _ in pairs]
    for events, theirs in zip(streams, verify(oracle_dir, streams, "expand.mjs"), strict=True):
        assert theirs["error"] is None, (theirs, events)
        assert [_key(e) for e in expand_chunks(events)] == [_key(e) for e in theirs["out"]]
        assert check_agui_events(events) == []


def test_the_oracle_does_reject_what_it_should(oracle_dir: Path) -> None:
    """The oracle itself is alive: a stream opening with text is refused at event 0."""
    bad = [
        [{"type": "TEXT_MESSAGE_START", "messageId": "m"}],
        [{"type": "RUN_ERROR", "message": "x"}],
    ]
    verdicts = verify(oracle_dir, bad)
    assert verdicts[0] == {"ok": False, "passed": 0, "error": "First event must be 'RUN_STARTED'"}
    assert verdicts[1]["ok"] is True
