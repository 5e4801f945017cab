"""``gp_model`` in a team's project: their server, started with ``{openai_base_url}`` and
``{model_api_key}`` in ``gp_app_env``, calls the scripted model over HTTP.

An inner pytest run (two xdist workers, each with its own model server and its own
team server, one test file each) proves that each test's scripts are its own and
gone when it ends, that a request no script matches or a script calling a tool the
request did not offer fails the test with the model's journal in its report, and
that with no script the autopilot answers.
"""

from __future__ import annotations

import textwrap

import pytest

from golden_path.services.model import Services, dsn_with_database

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="conversion",
        value_impact="a team points its real server at the scripted model with one ini line "
        "and tests its golden path end to end, the model's answers per test",
        revenue_impact="teams adopt golden-path for AI products only if the model, their "
        "product's core, is testable without mocks or a paid nondeterministic API",
    ),
]

TEAM_SERVER = """
import os
import openai
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

client = openai.AsyncOpenAI(
    base_url=os.environ["TEAM_OPENAI_BASE_URL"], api_key=os.environ["TEAM_MODEL_KEY"],
    max_retries=0,
)
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {
    "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]

async def health(request):
    return JSONResponse({"ok": True, "anthropic": os.environ["TEAM_ANTHROPIC_BASE_URL"]})

async def ask(request):
    tools = TOOLS if request.query_params.get("tools") else openai.NOT_GIVEN
    try:
        answer = await client.chat.completions.create(
            model="team-model", tools=tools,
            messages=[{"role": "system", "content": "You serve a free-tier user."},
                      {"role": "user", "content": request.query_params["q"]}],
        )
    except openai.APIStatusError as exc:
        return JSONResponse({"error": exc.status_code}, status_code=502)
    message = answer.choices[0].message
    calls = [c.function.name for c in message.tool_calls or []]
    return JSONResponse({"text": message.content, "calls": calls})

app = Starlette(routes=[Route("/health", health), Route("/ask", ask)])
"""
TEAM_TESTS = """
import httpx
from golden_path.testing.model import text, tool_call

async def ask(base_url, q, **params):
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        return (await http.get("/ask", params={"q": q, **params})).json()

async def test_a_scripted_answer(gp_base_url, gp_model):
    gp_model.script(user="ping", system="free-tier", steps=[text("pong from test A")])
    assert await ask(gp_base_url, "ping") == {"text": "pong from test A", "calls": []}
    (entry,) = gp_model.journal
    assert entry.script == "script #1"
    assert entry.headers["authorization"] == "[redacted]"
    assert entry.body["messages"][0]["content"] == "You serve a free-tier user."

async def test_another_tests_scripts_are_not_seen(gp_base_url, gp_model):
    gp_model.script(user="ping", steps=[text("pong from test B")])
    assert (await ask(gp_base_url, "ping"))["text"] == "pong from test B"

async def test_with_no_script_the_autopilot_answers(gp_base_url, gp_model):
    answer = await ask(gp_base_url, "ping")
    assert answer["text"] == 'golden-path model (autopilot) heard: "ping"'
    assert (await ask(gp_base_url, "ping", tools="1"))["calls"] == ["lookup"]
"""
FAILING_TESTS = """
import httpx
from golden_path.testing.model import text, tool_call

async def ask(base_url, q, **params):
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        return (await http.get("/ask", params={"q": q, **params})).json()

async def test_an_unmatched_request_fails_the_test(gp_base_url, gp_model):
    gp_model.script(name="the weather one", user="weather", steps=[text("sunny")])
    assert await ask(gp_base_url, "ping") == {"error": 400}  # the team's server saw the 400

async def test_an_unoffered_tool_fails_the_test(gp_base_url, gp_model):
    gp_model.script(steps=[tool_call("drop_tables")])
    assert (await ask(gp_base_url, "ping"))["calls"] == ["drop_tables"]
"""
INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
gp_server_command = {python} -m uvicorn team_server:app --port {port}
gp_health_path = /health
gp_app_env =
    TEAM_OPENAI_BASE_URL={openai_base_url}
    TEAM_ANTHROPIC_BASE_URL={anthropic_base_url}
    TEAM_MODEL_KEY={model_api_key}
"""


@pytest.mark.timeout(180)  # two inner workers, each starting a team server that imports openai
def test_gp_model_scripts_a_teams_server_per_test(
    pytester: pytest.Pytester,
    gp_services: Services,
    redis_admin_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "GOLDEN_PATH_POSTGRES_DSN", dsn_with_database(gp_services.postgres_dsn, "postgres")
    )
    monkeypatch.setenv("GOLDEN_PATH_REDIS_URL", redis_admin_url)
    monkeypatch.setenv("GOLDEN_PATH_SERVICES", "external")
    (pytester.path / "pytest.ini").write_text(INI)
    (pytester.path / "team_server.py").write_text(textwrap.dedent(TEAM_SERVER))
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_team.py").write_text(textwrap.dedent(TEAM_TESTS))
    (pytester.path / "tests" / "test_failing.py").write_text(textwrap.dedent(FAILING_TESTS))
    # One file per worker, in order: test_team.py's tests share one model server and one
    # team server, one after the other, so a script that outlived its test would show.
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-n", "2", "--dist", "loadfile", "-rf"
    )
    result.assert_outcomes(passed=3, failed=2)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*golden-path model journal*",
            "*no script matched this request; closest script 'the weather one': user 'weather'*",
        ]
    )
    assert "calls ['drop_tables'], which the request did not offer" in output
    assert "FAILED tests/test_failing.py::test_an_unmatched_request_fails_the_test" in output
    assert "FAILED tests/test_failing.py::test_an_unoffered_tool_fails_the_test" in output
    assert "gp-model-" not in output  # the key never reaches a report
