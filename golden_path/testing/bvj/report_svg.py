"""Small inline SVG charts for ``report.html``: a run's bars and a line, no script, no fonts.

Each chart is a fixed-size ``<svg>`` with a ``<title>`` (what a screen reader and a hover
say) and one mark per run, oldest on the left.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

BAR = 8  # px per run
HEIGHT = 24
PASS, FAIL, NONE, LINE = "#2da44e", "#cf222e", "#d0d7de", "#0969da"


def _svg(width: int, label: str, marks: list[str]) -> str:
    title = html.escape(label, quote=True)
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{title}">'
        f"<title>{title}</title>{''.join(marks)}</svg>"
    )


def rate_bars(rates: Sequence[float | None], label: str) -> str:
    """One bar per run, as tall as its pass rate: green at 100 %, red below, grey if none ran."""
    marks = []
    for index, rate in enumerate(rates):
        x = index * BAR + 1
        if rate is None:
            marks.append(
                f'<rect x="{x}" y="{HEIGHT - 2}" width="{BAR - 2}" height="2" fill="{NONE}"/>'
            )
            continue
        tall = max(2.0, round((HEIGHT - 2) * rate, 1))
        colour = PASS if rate >= 1 else FAIL
        marks.append(
            f'<rect x="{x}" y="{HEIGHT - tall}" width="{BAR - 2}" height="{tall}" fill="{colour}"/>'
        )
    return _svg(max(1, len(rates)) * BAR, label, marks)


def duration_line(durations: Sequence[float], label: str) -> str:
    """The runs' durations as a line scaled to the longest (a dot for a single run)."""
    top = max(durations, default=0.0) or 1.0
    points = [
        (index * BAR + BAR / 2, round(HEIGHT - 2 - (HEIGHT - 4) * value / top, 1))
        for index, value in enumerate(durations)
    ]
    if len(points) == 1:
        (x, y) = points[0]
        marks = [f'<circle cx="{x}" cy="{y}" r="2" fill="{LINE}"/>']
    else:
        path = " ".join(f"{x},{y}" for x, y in points)
        marks = [f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.5"/>']
    return _svg(max(1, len(durations)) * BAR, label, marks)
