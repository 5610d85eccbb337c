"""Agents and runs made through the services, so versions exist as in real use."""

from agents import services
from tests.community.factories import UserFactory

SUM_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "number"}, "explanation": {"type": "string"}},
    "required": ["answer"],
}
CALCULATOR_QUESTION = "What is 5 + 10, then multiply by 3?"


def make_agent(owner=None, **data):
    """An agent created by agent_create; keyword arguments override the defaults."""
    owner = owner or UserFactory()
    data.setdefault("name", "Helper")
    data.setdefault("instructions", "You help with arithmetic.")
    return services.agent_create(owner=owner, data=data)


def make_calculator_agent(owner=None, **data):
    data.setdefault("name", "Calculator")
    data.setdefault("tools", ["calculator"])
    data.setdefault("output_type", SUM_SCHEMA)
    return make_agent(owner, **data)


def make_run(agent, user=None, input=CALCULATOR_QUESTION, version=None):
    """A queued run (its task is enqueued only if the test's transaction commits)."""
    return services.run_start(
        agent=agent, user=user or agent.owner, input=input, version=version
    )
