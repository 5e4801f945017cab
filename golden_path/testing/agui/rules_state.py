"""AG-UI's state and activity rules: snapshots set what a stream built, deltas patch it.

A ``STATE_DELTA`` (and an ``ACTIVITY_DELTA``) is an RFC 6902 JSON Patch applied,
with the ``jsonpatch`` library, to the state the stream built from its last
``STATE_SNAPSHOT`` (the activity's last ``ACTIVITY_SNAPSHOT``). A client that
cannot apply one keeps the state it had and warns, and skips an
``ACTIVITY_DELTA`` whose activity no snapshot created: both are warnings.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from golden_path.testing.agui.chunks import Item
from golden_path.testing.agui.rules_base import CheckerBase

# The operations RFC 6902 defines; any other ``op`` is an unrecognised member that the
# schema layer reports (``unknown_member``) and a client drops before applying the rest.
RFC6902_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


def apply_patch(document: Any, operations: Sequence[Mapping[str, Any]]) -> tuple[Any, str | None]:
    """``(patched, None)``, or ``(document, why)`` when the patch does not apply as a whole."""
    known = [dict(op) for op in operations if op.get("op") in RFC6902_OPS]
    try:
        return jsonpatch.apply_patch(copy.deepcopy(document), known), None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        return document, str(exc) or type(exc).__name__
    except (TypeError, KeyError, IndexError, ValueError) as exc:  # a malformed document path
        return document, f"{type(exc).__name__}: {exc}"


class StateRules(CheckerBase):
    """``STATE_SNAPSHOT``/``STATE_DELTA`` and ``ACTIVITY_SNAPSHOT``/``ACTIVITY_DELTA``."""

    def seed_state(self, item: Item) -> None:
        """A ``RUN_STARTED`` that echoes its input's ``state`` gives the stream its state."""
        given = item.event.get("input")
        if isinstance(given, Mapping) and "state" in given and not self.has_state:
            self.has_state, self.state_doc = True, given["state"]

    def on_state_snapshot(self, item: Item) -> None:
        self.has_state, self.state_doc = True, item.event.get("snapshot")

    def on_state_delta(self, item: Item) -> None:
        if not self.has_state:
            return  # the state before the stream is the client's: nothing to apply it to
        patched, why = apply_patch(self.state_doc, item.event.get("delta") or [])
        if why is not None:
            self.report(
                "patch_not_applicable",
                f"STATE_DELTA {item.at()} does not apply to the state the stream built "
                f"({why}); a client keeps the state it had",
                item,
            )
            return
        self.state_doc = patched

    def on_activity_snapshot(self, item: Item) -> None:
        key = item.id("messageId")
        if key in self.activities and item.event.get("replace") is False:
            return  # replace: false leaves an existing activity as it stands
        self.activities[key] = item.event.get("content")

    def on_activity_delta(self, item: Item) -> None:
        key = item.id("messageId")
        if key not in self.activities:
            self.report(
                "activity_without_snapshot",
                f"ACTIVITY_DELTA {key} {item.at()} before any ACTIVITY_SNAPSHOT created that "
                "activity; a client skips it",
                item,
            )
            return
        patched, why = apply_patch(self.activities[key], item.event.get("patch") or [])
        if why is not None:
            self.report(
                "patch_not_applicable",
                f"ACTIVITY_DELTA {key} {item.at()} does not apply to the activity's content "
                f"({why}); a client keeps the content it had",
                item,
            )
            return
        self.activities[key] = patched
