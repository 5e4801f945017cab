"""What every contract checker of the harness reports: :class:`Violation` and the error.

Protocol v1's checker (:mod:`golden_path.testing.v1.contract`), AG-UI's
(:mod:`golden_path.testing.agui.contract`) and a team's own speak this one
vocabulary, so a report, a Locust user or a test reads any of them alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from golden_path.errors import GoldenPathError

__all__ = ["ContractViolation", "ContractWarning", "Severity", "Violation", "report_warnings"]

# "error": the stream breaks a MUST (it is wrong); "warning": it breaks a SHOULD, or a rule
# a conforming client tolerates (it strips or skips the material, and may warn).
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Violation:
    """One way a list of events breaks a contract; ``rule`` is a stable name.

    ``severity`` is ``"error"`` (a MUST is broken) unless the checker says the rule is
    one clients tolerate (``"warning"``); protocol v1's rules are all errors.
    """

    rule: str
    message: str
    index: int | None
    run_id: str | None
    severity: Severity = "error"

    def __str__(self) -> str:
        tag = " (warning)" if self.severity == "warning" else ""
        return f"{self.rule}{tag}: {self.message}"


class ContractWarning(UserWarning):
    """A SHOULD-level violation an ``assert_*`` helper reports without failing."""


def report_warnings(violations: Sequence[Violation]) -> None:
    """Issue one :class:`ContractWarning` per warning-level violation (pytest lists them)."""
    for violation in violations:
        if violation.severity == "warning":
            warnings.warn(str(violation), ContractWarning, stacklevel=3)


class ContractViolation(GoldenPathError, AssertionError):
    """Raised by the ``assert_*`` helpers; ``str()`` lists every violation, one per line."""

    violations: list[Violation]

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("\n".join(str(v) for v in self.violations))
