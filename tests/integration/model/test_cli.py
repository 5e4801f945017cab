"""``golden-path model serve`` and ``golden-path model record`` as processes, as a user runs them.

``serve --json`` prints its base URLs once it accepts connections and stops cleanly
(exit 0) on SIGTERM and SIGINT; a bad script file is refused with file, line and
field. ``record`` proxies a conversation to an upstream (another ``serve``, since
there is no internet here) and writes a script file that, served again, replays it;
the API key never reaches the file.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from golden_path.testing.model.files import load_scripts

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="teams whose server is not in Python run the scripted model standalone, "
        "and record a real provider once to replay it in CI for free",
        revenue_impact="a model server only usable from pytest would leave out every team "
        "whose agent is written in another language",
    ),
]
SECRET = "sk-live-do-not-write-me"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


class Running:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "golden_path.cli", "model", *args, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # printed once the socket accepts connections
        if not line:
            raise AssertionError(f"no JSON line; stderr: {self.process.communicate()[1]}")
        self.urls = json.loads(line)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@pytest.fixture
def started() -> Iterator[list[Running]]:
    processes: list[Running] = []
    yield processes
    for running in processes:
        running.stop(signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_urls_answers_and_stops_cleanly(started: list[Running], sig: int) -> None:
    server = Running("serve")
    started.append(server)
    assert set(server.urls) == {"openai_base_url", "anthropic_base_url"}
    with openai.OpenAI(base_url=server.urls["openai_base_url"], api_key="any") as client:
        answer = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hello"}]
        )
    assert answer.choices[0].message.content == 'golden-path model (autopilot) heard: "hello"'
    assert server.stop(sig) == 0


def test_a_bad_script_file_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scripts:\n  - steps:\n      - txt: hello\n")
    done = subprocess.run(
        [sys.executable, "-m", "golden_path.cli", "model", "serve", "--script", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert f"{bad}:3: scripts.0.steps.0.txt: Extra inputs are not permitted" in done.stderr


def test_record_then_replay_a_conversation_without_its_key(
    started: list[Running], tmp_path: Path
) -> None:
    script = tmp_path / "upstream.yaml"
    script.write_text(
        "scripts:\n"
        "  - match: {user: weather, turn: 1}\n"
        "    steps:\n"
        "      - thinking: I will look.\n"
        "      - tool_call: {name: get_weather, arguments: {city: Paris}}\n"
        "  - match: {tool_result: get_weather}\n"
        "    steps: [{text: Sunny in Paris.}]\n"
        "  - match: {wire: anthropic}\n"
        "    steps: [{text: Hello.}]\n"
    )
    upstream = Running("serve", "--script", str(script))
    started.append(upstream)
    out = tmp_path / "recorded.yaml"
    recorder = Running(
        "record", "--upstream", upstream.urls["anthropic_base_url"], "--out", str(out)
    )
    started.append(recorder)
    first_run = converse(recorder.urls["openai_base_url"], streamed=True)
    with anthropic.Anthropic(base_url=recorder.urls["anthropic_base_url"], api_key=SECRET) as c:
        c.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert recorder.stop() == 0
    written = out.read_text()
    assert SECRET not in written
    assert len(load_scripts(out)) == 3
    replay = Running("serve", "--script", str(out))
    started.append(replay)
    assert converse(replay.urls["openai_base_url"], streamed=False) == first_run
    assert first_run == ("get_weather", {"city": "Paris"}, "Sunny in Paris.")


def converse(base_url: str, streamed: bool) -> tuple[str, object, str]:
    """A tool round trip: (the tool called, its arguments, the final text)."""
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather in Paris?"}]
    with openai.OpenAI(base_url=base_url, api_key=SECRET, max_retries=0) as client:
        first = client.chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        call = (first.choices[0].message.tool_calls or [])[0]
        messages.append(first.choices[0].message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
        if streamed:
            chunks = client.chat.completions.create(
                model="m",
                messages=messages,  # type: ignore[arg-type]
                tools=TOOLS,  # type: ignore[arg-type]
                stream=True,
            )
            final = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            second = client.chat.completions.create(model="m", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
            final = second.choices[0].message.content or ""
    return call.function.name, json.loads(call.function.arguments), final  # type: ignore[union-attr]
