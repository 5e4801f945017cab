"""The report folder: ``report.json``, ``report.md`` and ``report.html``, written and read back."""

from __future__ import annotations

import json
from pathlib import Path

from golden_path.testing.bvj.report import READABLE_FORMATS, Report
from golden_path.testing.bvj.report_html import render_html

JSON_FILE = "report.json"


class ReportFileError(ValueError):
    """A folder's ``report.json`` is missing, unreadable or of another format."""


def write_report(report: Report, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / JSON_FILE).write_text(
        json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    (folder / "report.html").write_text(render_html(report), encoding="utf-8")


def read_report(folder: Path) -> Report:
    """The report a ``--gp-report`` run (or a merge) wrote to ``folder``."""
    path = folder / JSON_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportFileError(
            f"{path}: no such file (was that job run with --gp-report={folder}?)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportFileError(f"{path}: not a readable report ({exc})") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found not in READABLE_FORMATS or "tests" not in data:
        raise ReportFileError(
            f"{path}: a report of format {found!r}, this golden-path reads format "
            f"{' or '.join(map(str, READABLE_FORMATS))}; "
            "run that shard again with this version's plugin"
        )
    try:
        return Report.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportFileError(f"{path}: a test entry is malformed ({exc!r})") from None
