"""A run a guardrail stops is blocked, and keeps no blocked text: over the API,
carried out by a real worker with no websocket client watching."""

import json

import pytest

from agents.models import Run, RunStatus
from tests.agents.factories import make_agent
from tests.agents.fake_llm import FakeLLM
from tests.api_schema import assert_documented
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

GUARDRAILS = {
    "input": {"blocked_words": ["forbidden"]},
    # The fake model answers "Echo: <the input>": this blocks every answer.
    "output": {"blocked_words": ["echo"]},
}


def run_to_the_end(client, agent, text: str) -> dict:
    response = client.post(f"/api/v1/agents/{agent.pk}/run/", {"input": text})
    assert response.status_code == 202
    run_id = response.json()["id"]

    def finished():
        return Run.objects.filter(pk=run_id, finished_at__isnull=False).exists()

    assert wait_for(finished, timeout=60)
    detail = client.get(f"/api/v1/runs/{run_id}/")
    assert_documented(detail, method="get", path="/api/v1/runs/{run_id}/")
    return detail.json()


def test_guardrails_block_runs_and_keep_no_blocked_answer(start_worker, as_user):
    with FakeLLM(keys=None) as fake:
        start_worker(
            env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.openai_base_url}
        )
        agent = make_agent(
            name="Guarded", model="openai/gpt-4o-mini", guardrails=GUARDRAILS
        )
        client = as_user(agent.owner)

        blocked_answer = run_to_the_end(client, agent, "tell me a story")
        assert len(fake.model_requests) == 1  # the model did answer
        blocked_input = run_to_the_end(client, agent, "a forbidden question")
        assert len(fake.model_requests) == 1  # never asked

    for run, stage in ((blocked_answer, "output"), (blocked_input, "input")):
        assert run["status"] == RunStatus.FAILED
        assert run["error_code"] == "guardrail_blocked"
        assert run["error"].startswith(f"Blocked by the {stage} guardrail")
        assert run["final_output"] is None
        assert [step["type"] for step in run["steps"]] == ["user-request", "guardrail"]
        assert run["steps"][1]["payload"]["stage"] == stage
        assert run["steps"][1]["payload"]["rule"] == "blocked_words"
    # The answer the model gave is stored nowhere.
    assert "Echo:" not in json.dumps(blocked_answer)
    # Its turn is paid for all the same, on the guardrail's step.
    assert blocked_answer["steps"][1]["output_tokens"] > 0
