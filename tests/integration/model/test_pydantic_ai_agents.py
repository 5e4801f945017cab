"""pydantic-ai agents (its OpenAI chat, OpenAI responses and Anthropic models) run a tool
loop to a final answer against ``gp_model`` over HTTP, scripted and on autopilot.

The agent's own HTTP client, streaming parser, tool-argument validation and tool loop
all run for real: only the model's answers are scripted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest
from pydantic_ai import Agent
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

from golden_path.testing.model import text, thinking, tool_call
from golden_path.testing.model.handle import ModelHandle

pytestmark = [
    pytest.mark.stage("agent"),
    pytest.mark.bvj(
        segment="all",
        goal="stability",
        value_impact="teams build their agents with frameworks like pydantic-ai; the model "
        "at the wire must carry those agents' tool loops to a final answer on every wire",
        revenue_impact="an agent framework that cannot talk to the scripted model leaves the "
        "team's golden path untestable, the gap golden-path exists to close",
    ),
]

ModelFactory = Callable[[ModelHandle, httpx2.AsyncClient], Model]


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    """The agents' HTTP client, closed with the test's event loop (pydantic-ai's shared
    default client would outlive it and be collected, unclosed, in a later test)."""
    async with httpx2.AsyncClient(timeout=30) as client:
        yield client


def chat(gp_model: ModelHandle, http: httpx2.AsyncClient) -> Model:
    provider = OpenAIProvider(
        base_url=gp_model.openai_base_url, api_key=gp_model.api_key, http_client=http
    )
    return OpenAIChatModel("gpt-test", provider=provider)


def responses(gp_model: ModelHandle, http: httpx2.AsyncClient) -> Model:
    provider = OpenAIProvider(
        base_url=gp_model.openai_base_url, api_key=gp_model.api_key, http_client=http
    )
    return OpenAIResponsesModel("gpt-test", provider=provider)


def claude(gp_model: ModelHandle, http: httpx2.AsyncClient) -> Model:
    provider = AnthropicProvider(
        base_url=gp_model.anthropic_base_url, api_key=gp_model.api_key, http_client=http
    )
    return AnthropicModel("claude-test", provider=provider)


MODELS = [
    pytest.param(chat, id="openai-chat"),
    pytest.param(responses, id="openai-responses"),
    pytest.param(claude, id="anthropic"),
]


def weather_agent(model: Model, calls: list[dict[str, Any]]) -> Agent[None, str]:
    agent: Agent[None, str] = Agent(model, system_prompt="You help a mid-tier user.")

    @agent.tool_plain
    def get_weather(city: str, days: int = 1) -> str:
        """The weather in a city."""
        calls.append({"city": city, "days": days})
        return f"sunny in {city}"

    return agent


@pytest.mark.parametrize("make", MODELS)
async def test_a_scripted_tool_loop_reaches_the_final_answer(
    gp_model: ModelHandle, make: ModelFactory, http: httpx2.AsyncClient
) -> None:
    gp_model.script(
        user="Paris",
        system="mid-tier",
        turn=1,
        steps=[thinking("I should look it up."), tool_call("get_weather", city="Paris", days=2)],
    )
    gp_model.script(tool_result="get_weather", steps=[text("It is sunny in Paris.")])
    calls: list[dict[str, Any]] = []
    result = await weather_agent(make(gp_model, http), calls).run("What is the weather in Paris?")
    assert result.output == "It is sunny in Paris."
    assert calls == [{"city": "Paris", "days": 2}]
    assert [e.script for e in gp_model.journal] == ["script #1", "script #2"]
    assert "sunny in Paris" in str(gp_model.requests[1])  # the tool's result went back


@pytest.mark.parametrize("make", MODELS)
async def test_a_streamed_tool_loop_on_autopilot(
    gp_model: ModelHandle, make: ModelFactory, http: httpx2.AsyncClient
) -> None:
    calls: list[dict[str, Any]] = []
    agent = weather_agent(make(gp_model, http), calls)
    async with agent.run_stream("What is the weather?") as run:
        output = await run.get_output()
    assert calls == [{"city": "example", "days": 1}]  # arguments satisfying the tool's schema
    assert output == "The tools answered: get_weather returned sunny in example"
    assert {e.script for e in gp_model.journal} == {"autopilot"}
