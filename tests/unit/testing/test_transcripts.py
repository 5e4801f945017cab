"""Every client made while a test runs is kept for its report, numbered by kind."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from golden_path.testing import transcripts

pytestmark = [
    pytest.mark.stage("events"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a failing test shows the conversation of every client it made, also one "
        "built by hand, instead of a bare assertion",
        revenue_impact="Indirect: a failure a team can read is fixed the same day",
    ),
]


@dataclass
class Client:
    transcript_kind: str
    url: str

    def format_transcript(self, limit: int = 200) -> str:
        return f"{self.url} (last {limit})"


def test_clients_made_inside_a_test_are_kept_and_outside_are_not() -> None:
    transcripts.track(Client("AG-UI", "http://before"))
    kept: list[transcripts.Transcribed] = []
    with transcripts.collecting(kept):
        transcripts.track(Client("AG-UI", "http://a/agent"))
        transcripts.track(Client("WebSocket", "ws://a/stream"))
        transcripts.track(Client("AG-UI", "http://b/agent"))
    transcripts.track(Client("AG-UI", "http://after"))
    assert transcripts.report_sections(kept, 5) == [
        ("golden-path AG-UI client 0 transcript (http://a/agent)", "http://a/agent (last 5)"),
        ("golden-path WebSocket client 0 transcript (ws://a/stream)", "ws://a/stream (last 5)"),
        ("golden-path AG-UI client 1 transcript (http://b/agent)", "http://b/agent (last 5)"),
    ]
