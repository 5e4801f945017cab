"""What every contract checker of the harness reports: :class:`Violation` and the error.

Protocol v1's checker (:mod:`golden_path.testing.v1.contract`), AG-UI's
(:mod:`golden_path.testing.agui.contract`) and a team's own speak this one
vocabulary, so a report, a Locust user or a test reads any of them alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from golden_path.errors import GoldenPathError

__all__ = ["ContractViolation", "Violation"]


@dataclass(frozen=True)
class Violation:
    """One way a list of events breaks a contract; ``rule`` is a stable name."""

    rule: str
    message: str
    index: int | None
    run_id: str | None

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class ContractViolation(GoldenPathError, AssertionError):
    """Raised by the ``assert_*`` helpers; ``str()`` lists every violation, one per line."""

    violations: list[Violation]

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("\n".join(str(v) for v in self.violations))
