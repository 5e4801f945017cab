"""A team's own WebSocket events, described in a few words, and checked like v1's and AG-UI's.

A :class:`WSContract` says what the harness needs to know of a JSON event stream: the
field naming an event (``type``), the event that begins a run (``run.started``), the
events that end one (``run.done``, ``run.failed``), the field counting events up by one
(``seq``, optional) and which golden-path stage (one of ``gp_stages``) each event
shows. A project sets it with the ``gp_ws_*`` ini options (:func:`contract_from_ini`);
a test may build one. The checker is pure: no I/O, no clock.

Rules (:data:`RULES`), each a :class:`~golden_path.testing.violation.Violation`:
``not_an_object``, ``run_not_started``, ``run_already_started``, ``after_terminal``
(a run event outside a run: before its first event, or after its terminal one),
``no_terminal``, ``missing_seq``, ``seq_gap``, ``seq_not_increasing``,
``missing_stage``. Frames that name no event of the contract are free outside a run
(a greeting, a pong) and inside one (``token`` deltas).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from golden_path.testing.violation import ContractViolation, Violation

__all__ = [
    "INI_OPTIONS",
    "RULES",
    "WSContract",
    "assert_ws_events",
    "check_ws_events",
    "contract_from_ini",
]

RULES: Mapping[str, str] = {
    "not_an_object": "a frame is not a JSON object",
    "run_not_started": "the stream's first run event is not the first event (gp_ws_first_event)",
    "run_already_started": "the first event again while a run is open",
    "after_terminal": "a run event after the run's terminal event, before the next run begins",
    "no_terminal": "the stream ends with a run open (require_complete=True)",
    "missing_seq": "a run event lacks an integer seq field (gp_ws_seq_field)",
    "seq_gap": "seq skips ahead (3, then 5), over every frame that carries it",
    "seq_not_increasing": "seq repeats or goes back, over every frame that carries it",
    "missing_stage": "the stream does not show a stage the test requires",
}
# The ini options that configure the contract, in docs/harness.md's order.
INI_OPTIONS: tuple[str, ...] = (
    "gp_ws_type_field",
    "gp_ws_first_event",
    "gp_ws_terminal_events",
    "gp_ws_seq_field",
    "gp_ws_stages",
)


@dataclass(frozen=True)
class WSContract:
    """What a team's WebSocket events mean: ``WSContract(first="run.started",
    terminal=("run.done",), seq_field="seq", stages={"run.started": "agent", ...})``."""

    first: str = ""
    terminal: tuple[str, ...] = ()
    seq_field: str = ""
    stages: Mapping[str, str] = field(default_factory=dict)
    type_field: str = "type"

    def event_name(self, frame: object) -> str | None:
        """The event a frame names (its ``type_field``), or None."""
        if isinstance(frame, Mapping):
            name = frame.get(self.type_field)
            return name if isinstance(name, str) else None
        return None

    @property
    def run_events(self) -> frozenset[str]:
        """The events that belong to a run: the first, the terminal and the mapped ones."""
        return frozenset({self.first, *self.terminal, *self.stages} - {""})

    def read_stages(self, events: Sequence[object]) -> tuple[str, ...]:
        """The stages the events show, each once, in order of first appearance."""
        seen: dict[str, None] = {}
        for frame in events:
            stage = self.stages.get(self.event_name(frame) or "")
            if stage is not None:
                seen.setdefault(stage, None)
        return tuple(seen)

    def is_terminal(self, frame: object) -> bool:
        return self.event_name(frame) in self.terminal


def contract_from_ini(getini: Mapping[str, Any], known_stages: Collection[str] = ()) -> WSContract:
    """The contract the ``gp_ws_*`` options describe; ``ValueError`` naming the option that
    is wrong. ``known_stages``: the run's stages (``gp_stages``), which the map must use."""

    def text(name: str) -> str:
        return str(getini.get(name) or "").strip()

    stages: dict[str, str] = {}
    for raw in getini.get("gp_ws_stages") or ():
        line = str(raw).strip()
        if not line:
            continue
        event, sep, stage = (part.strip() for part in line.partition("="))
        if not sep or not event or not stage:
            raise ValueError(f"gp_ws_stages line {line!r}: expected event=stage")
        if known_stages and stage not in known_stages:
            raise ValueError(
                f"gp_ws_stages line {line!r}: {stage!r} is not one of gp_stages "
                f"({', '.join(known_stages)})"
            )
        stages[event] = stage
    contract = WSContract(
        first=text("gp_ws_first_event"),
        terminal=tuple(str(t).strip() for t in getini.get("gp_ws_terminal_events") or ()),
        seq_field=text("gp_ws_seq_field"),
        stages=stages,
        type_field=text("gp_ws_type_field") or "type",
    )
    if contract.first and contract.first in contract.terminal:
        raise ValueError(
            f"gp_ws_first_event = {contract.first!r} is also one of gp_ws_terminal_events"
        )
    return contract


def check_ws_events(
    events: Sequence[object],
    contract: WSContract,
    *,
    require_complete: bool = True,
    stages: Collection[str] = (),
) -> list[Violation]:
    """Every way ``events`` (frames as received) break ``contract``, in order.

    ``require_complete``: the last run must have ended (turn off for a stream still
    arriving). ``stages``: the stages (of ``gp_stages``) the stream must show.
    """
    out: list[Violation] = []
    run_events = contract.run_events
    open_run = False
    ended = False  # a run ended and no other began
    last_seq: int | None = None
    last_index: int | None = None
    for index, frame in enumerate(events):
        if not isinstance(frame, Mapping):
            message = f"frame #{index} is not a JSON object"
            out.append(Violation("not_an_object", message, index, None))
            continue
        name = contract.event_name(frame)
        seq = frame.get(contract.seq_field) if contract.seq_field else None
        if contract.seq_field and name in run_events and not _is_int(seq):
            out.append(
                Violation(
                    "missing_seq",
                    f"{name} (event #{index}) has no integer {contract.seq_field}",
                    index,
                    None,
                )
            )
        elif _is_int(seq):  # every frame that counts, run event or not (a token delta)
            problem = _seq_problem(contract.seq_field, last_seq, seq, index)
            if problem is not None:
                out.append(problem)
            last_seq = seq
        if name not in run_events:
            continue
        last_index = index
        if contract.first and name == contract.first:
            if open_run:
                out.append(
                    Violation(
                        "run_already_started",
                        f"{name} (event #{index}) while a run is open",
                        index,
                        None,
                    )
                )
            open_run, ended = True, False
        elif not open_run and contract.first and ended:
            out.append(
                Violation(
                    "after_terminal",
                    f"{name} (event #{index}) after the run's terminal event",
                    index,
                    None,
                )
            )
            continue
        elif not open_run:
            if contract.first:
                out.append(
                    Violation(
                        "run_not_started",
                        f"{name} (event #{index}) before {contract.first}",
                        index,
                        None,
                    )
                )
            open_run, ended = True, False  # without a first event, a run event begins one
        if name in contract.terminal and open_run:
            open_run, ended = False, True
    if require_complete and open_run and contract.terminal:
        out.append(
            Violation(
                "no_terminal",
                f"the stream ends with a run open (none of {', '.join(contract.terminal)})",
                last_index,
                None,
            )
        )
    shown = contract.read_stages(events)
    missing = [s for s in stages if s not in shown]
    if missing:
        out.append(
            Violation(
                "missing_stage",
                f"the stream shows {', '.join(shown) or 'no stage'} but not "
                f"{' and '.join(missing)}",
                last_index,
                None,
            )
        )
    return out


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _seq_problem(field_name: str, last: int | None, seq: int, index: int) -> Violation | None:
    if last is not None and seq > last + 1:
        message = f"{field_name} jumps from {last} to {seq} (event #{index})"
        return Violation("seq_gap", message, index, None)
    if last is not None and seq <= last:
        message = f"{field_name} goes from {last} to {seq} (event #{index})"
        return Violation("seq_not_increasing", message, index, None)
    return None


def assert_ws_events(
    events: Sequence[object],
    contract: WSContract,
    *,
    require_complete: bool = True,
    stages: Collection[str] = (),
) -> None:
    """Raise :class:`ContractViolation` listing every violation :func:`check_ws_events` finds."""
    violations = check_ws_events(events, contract, require_complete=require_complete, stages=stages)
    if violations:
        raise ContractViolation(violations)
