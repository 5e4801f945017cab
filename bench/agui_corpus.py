"""AG-UI's official conformance streams, judged by golden-path's checker as a producer checker.

AG-UI publishes stream fixtures with the outcome the spec requires of a client
(``spec/1.1/conformance/streams/*.json`` in github.com/ag-ui-protocol/ag-ui, MIT).
Nothing of them is kept here: fetch the repository and give the directory::

    python -m bench.agui_corpus PATH/TO/spec/1.1/conformance/streams

Each fixture's ``expect`` is read as a verdict on the stream's producer:

* ``outcome: "failed"`` (a client must reject it): the checker must report an *error*;
* ``outcome: "completed"`` with ``warnings`` (a client survives it, and warns): the
  checker must report something, and only *warnings*;
* otherwise: no error (a warning is listed, not counted against).

Fixtures that test only what a client sends or how it translates an older peer
(``client``/``request`` assertions, the ``era-*`` shims) say nothing of a stream and
are left out. Prints one line per verdict that is not the spec's, then the counts;
exit status 1 if any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from golden_path.testing.agui.contract import check_agui_events

CLIENT_ONLY_KEYS = frozenset({"request", "requestAbsentPaths"})


def client_only(fixture: dict[str, Any]) -> bool:
    """A fixture about the client's own input or era shims, not about the stream."""
    expect = fixture.get("expect", {})
    return "client" in fixture or bool(CLIENT_ONLY_KEYS & set(expect))


def judge(fixture: dict[str, Any]) -> tuple[str, bool, list[str]]:
    """``(kind, right, found)`` for one fixture."""
    violations = check_agui_events(fixture["stream"])
    errors = [v for v in violations if v.severity == "error"]
    found = [f"{v.severity}:{v.rule}" for v in violations]
    expect = fixture["expect"]
    if expect.get("outcome") == "failed":
        return "must be rejected", bool(errors), found
    if expect.get("warnings"):
        return "must be flagged", bool(violations) and not errors, found
    return "must pass", not errors, found


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(__doc__)
        return 2
    counts: dict[str, list[int]] = {}
    wrong = 0
    for path in sorted(Path(argv[0]).glob("*.json")):
        fixture = json.loads(path.read_text())
        if client_only(fixture):
            continue
        kind, right, found = judge(fixture)
        tally = counts.setdefault(kind, [0, 0])
        tally[0] += 1
        tally[1] += right
        if not right or (kind == "must pass" and found):
            wrong += not right
            print(f"{'WRONG' if not right else 'note '} {kind}: {path.stem}: {found or 'nothing'}")
    for kind, (total, right) in counts.items():
        print(f"{kind}: {right} of {total} judged as the spec does")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
