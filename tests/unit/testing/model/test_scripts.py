"""Scripts match on the conversation; the autopilot answers deterministically; files say where.

Pure logic of the model at the wire: which script answers a request (and, when none
does, which one came closest and why), the autopilot's tool arguments satisfying a
schema, a script file's errors naming file, line and field, credentials redacted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from golden_path.testing.model import Script, Step, text, tool_call
from golden_path.testing.model.autopilot import autopilot, example_value
from golden_path.testing.model.conversation import Conversation, Tool, ToolResult
from golden_path.testing.model.files import ScriptFileError, dump_scripts, parse_scripts
from golden_path.testing.model.journal import REDACTED, redact
from golden_path.testing.model.script import Entry, Match, choose, closest

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="a team scripts what the model does per test; the wrong script "
        "answering, or a silent fallback, would make their golden-path tests lie",
        revenue_impact="scripted-model tests that pass for the wrong reason are worse than "
        "none: the harness's promise is that a green run means the path works",
    ),
]


def conv(**fields: object) -> Conversation:
    base: dict[str, object] = {
        "wire": "openai_chat",
        "model": "m",
        "last_user": "weather in Paris?",
    }
    return Conversation(**{**base, **fields})  # type: ignore[arg-type]


def entries(*scripts: Script) -> list[Entry]:
    return [Entry(s, s.name or f"#{i + 1}") for i, s in enumerate(scripts)]


def test_every_condition_must_hold() -> None:
    match = Match(user="Paris", system="free", tools=["get_weather"], turn=1, wire="openai_chat")
    offered = [Tool("get_weather")]
    assert match.failures(conv(system="free tier", tools=offered)) == []
    assert match.failures(conv(system="pro tier", tools=offered))
    assert match.failures(conv(system="free", tools=[]))
    assert match.failures(conv(system="free", tools=offered, turn=2))
    assert match.failures(conv(system="free", tools=offered, wire="anthropic"))
    assert Match(user_regex=r"weather in \w+").failures(conv()) == []
    assert (
        Match(tool_result="get_weather").failures(
            conv(tool_results=[ToolResult("get_weather", "c1", "sunny")])
        )
        == []
    )
    assert Match(tool_result="get_weather").failures(conv())


def test_the_first_unused_matching_script_answers_and_times_bounds_it() -> None:
    found = entries(
        Script(name="once", match=Match(user="Paris"), steps=[text("a")], times=1),
        Script(name="always", match=Match(user="Paris"), steps=[text("b")]),
    )
    first = choose(found, conv())
    assert first is not None
    assert first.label == "once"
    first.used += 1
    second = choose(found, conv())
    assert second is not None
    assert second.label == "always"


def test_closest_names_the_nearest_script_and_what_it_missed() -> None:
    found = entries(
        Script(name="far", match=Match(user="Rome", turn=3), steps=[text("a")]),
        Script(name="near", match=Match(user="Paris", turn=2), steps=[text("b")]),
    )
    assert choose(found, conv()) is None
    message = closest(found, conv())
    assert message.startswith("closest script near:")
    assert "turn 2 (this is turn 1)" in message


def test_a_step_is_exactly_one_thing() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Step(text="a", hang=1)
    with pytest.raises(ValidationError, match="exactly one"):
        Step()
    with pytest.raises(ValidationError, match="regular expression"):
        Match(user_regex="(")


def test_autopilot_calls_the_first_tool_then_quotes_its_results_then_the_user() -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 10},
            "days": {"type": "integer", "minimum": 3},
            "unit": {"enum": ["C", "F"]},
            "when": {"$ref": "#/$defs/When"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "note": {"anyOf": [{"type": "null"}, {"type": "number", "exclusiveMinimum": 0}]},
            "optional": {"type": "string"},
        },
        "required": ["city", "days", "unit", "when", "tags", "note"],
        "$defs": {"When": {"type": "string", "format": "date"}},
    }
    first = autopilot(conv(tools=[Tool("get_weather", "", schema), Tool("other")]))
    call = first.tool_calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.text) == {
        "city": "examplexxx",
        "days": 3,
        "unit": "C",
        "when": "2026-01-01",
        "tags": ["example"],
        "note": 1,
    }
    again = autopilot(conv(tools=[Tool("get_weather", "", schema)])).tool_calls[0]
    assert (again.name, again.text) == (call.name, call.text)
    after = autopilot(
        conv(tools=[Tool("get_weather")], tool_results=[ToolResult("get_weather", "c", "sunny")])
    )
    assert "get_weather returned sunny" in after.text
    assert "weather in Paris?" in autopilot(conv()).text
    assert example_value({"type": "object"}, {}) == {}


def test_a_script_file_error_names_file_line_and_field(tmp_path: Path) -> None:
    source = (
        "scripts:\n"
        "  - name: weather\n"
        "    match: {user: Paris}\n"
        "    steps:\n"
        "      - text: hello\n"
        "      - tool_call:\n"
        "          arguments: {city: Paris}\n"
    )
    with pytest.raises(ScriptFileError) as caught:
        parse_scripts(source, "weather.yaml")
    assert str(caught.value) == "weather.yaml:6: scripts.0.steps.1.tool_call.name: Field required"
    with pytest.raises(ScriptFileError, match=r"^bad\.yaml:3: not YAML"):
        parse_scripts("scripts:\n  - [\n", "bad.yaml")


def test_a_script_file_round_trips_and_json_reads_too() -> None:
    scripts = [
        Script(name="w", match=Match(user="Paris"), steps=[tool_call("get_weather", city="P")]),
        Script(steps=[text("hi")], times=2),
    ]
    assert parse_scripts(dump_scripts(scripts)) == scripts
    as_json = json.dumps({"scripts": [s.model_dump(exclude_none=True) for s in scripts]})
    assert parse_scripts(as_json) == scripts


def test_credentials_are_redacted_from_the_journal() -> None:
    headers = {"Authorization": "Bearer sk-1", "x-api-key": "sk-2", "content-type": "json"}
    assert redact(headers) == {
        "Authorization": REDACTED,
        "x-api-key": REDACTED,
        "content-type": "json",
    }
