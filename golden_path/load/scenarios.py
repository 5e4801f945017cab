"""The scenarios a simulated user runs, their mix, and the check of an abandoned run.

Each run of a simulated user is one of:

* ``golden``: the golden path (a share of these drop their connection and resume);
* ``drop``: a user that drops its connection mid-run and never comes back for that run.
  The server must clean up: the run goes on without its client, ends, and is persisted
  (docs/protocol.md §6, §12 "Disconnects and limits"). The user proves it over the
  protocol: it reads the run's history, ``GET /runs/{run_id}`` (§9), until the run is no
  longer ``running``; the run must have ``succeeded`` and its persisted events must pass
  the contract, complete. (A server that kept the dropped socket would also, in time,
  refuse the user's next socket with 4429: its open-socket limit; that is a failure too.)
* ``slow``: a slow reader, which waits before each read of its socket (and asks the
  kernel for a small receive buffer). The server must deliver everything, or close the
  socket as §4.7 allows (1013, slow consumer), after which the reader reconnects and
  resumes as §6.2 says: either is protocol-correct, and the run is checked whole.

``--mix golden=8,drop=1,slow=1`` weighs them (each run draws one); the default is
``golden=1``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from golden_path.load.auth import Answer
from golden_path.load.timing import RunOutcome
from golden_path.testing.v1.contract import check_events

SCENARIOS = ("golden", "drop", "slow")
# What each user sends by default (--message): a question the reference agent answers with
# the five stages every run is checked for (thinking, a tool, its result, the answer).
MESSAGE = "We send 2M tokens/day to gpt-4o. How can we save?"
DEFAULT_MIX = "golden=1"
RUNNING = "running"
SUCCEEDED = "succeeded"
POLL_S = 0.2  # how often an abandoned run's history is read until it has ended

Get = Callable[[str], Answer]


class MixError(ValueError):
    """A ``--mix`` that names no scenario, an unknown one, or a weight that is no count."""


def parse_mix(text: str) -> dict[str, int]:
    """``golden=8,drop=1,slow=1`` as weights by scenario; :class:`MixError` for bad input."""
    mix: dict[str, int] = {}
    for part in text.split(","):
        name, sep, raw = part.strip().partition("=")
        name = name.strip()
        if not sep or not name:
            raise MixError(f"--mix {text!r}: expected name=weight pairs, e.g. golden=8,drop=1")
        if name not in SCENARIOS:
            raise MixError(f"--mix: unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        if name in mix:
            raise MixError(f"--mix: {name} is named twice")
        try:
            weight = int(raw.strip())
        except ValueError:
            raise MixError(f"--mix: {name}={raw.strip()!r} is not a whole number") from None
        if weight < 0:
            raise MixError(f"--mix: {name}={weight} is below 0")
        mix[name] = weight
    if not any(mix.values()):
        raise MixError(f"--mix {text!r}: at least one scenario needs a weight above 0")
    return mix


def pick(mix: Mapping[str, int], rng: random.Random | None = None) -> str:
    """One scenario, drawn by weight."""
    names = [n for n, w in mix.items() if w > 0]
    weights = [mix[n] for n in names]
    return (rng or random).choices(names, weights)[0]


def run_id_of(event: Mapping[str, Any]) -> str | None:
    """The server's run id in a first event: v1's ``run_id``, or AG-UI's ``RUN_STARTED``
    ``metadata.golden_path.run_id`` (docs/protocol.md §12)."""
    found = event.get("run_id")
    if not isinstance(found, str):
        metadata = event.get("metadata")
        ours = metadata.get("golden_path") if isinstance(metadata, Mapping) else None
        found = ours.get("run_id") if isinstance(ours, Mapping) else None
    return found if isinstance(found, str) and found else None


def follow_abandoned(
    get: Get,
    live: RunOutcome,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = POLL_S,
) -> RunOutcome:
    """The run ``live`` abandoned, as the server's history says it once it has ended.

    Completed when ``GET /runs/{run_id}`` says ``succeeded`` within ``timeout`` seconds and
    its events pass the contract, complete; the violations of the live part are kept.
    """
    events = live.arrivals.events
    run_id = run_id_of(events[0]) if events else None
    if run_id is None:
        return RunOutcome(
            live.arrivals,
            live.violations,
            False,
            error="the dropped run's first event names no run id (v1's run_id, or AG-UI's "
            "RUN_STARTED metadata.golden_path.run_id): its history cannot be read",
        )
    deadline = time.monotonic() + timeout
    while True:
        answer = get(f"/runs/{run_id}")
        if answer.status_code != 200:
            error = f"GET /runs/{run_id} answered {answer.status_code}: {answer.text[:200]}"
            return RunOutcome(live.arrivals, live.violations, False, error=error)
        body = answer.json()
        status = body.get("status") if isinstance(body, dict) else None
        if status != RUNNING:
            break
        if time.monotonic() >= deadline:
            error = f"the dropped run {run_id} was still running after {timeout:.0f} s"
            return RunOutcome(live.arrivals, live.violations, False, error=error)
        sleep(poll_s)
    persisted = body.get("events")
    if not isinstance(persisted, list):
        persisted = []
    violations = [*live.violations, *check_events(persisted, require_complete=True)]
    completed = status == SUCCEEDED
    ended = None if completed else f"the dropped run ended {status} ({body.get('error_code')})"
    return RunOutcome(live.arrivals, violations, completed, error=ended)
