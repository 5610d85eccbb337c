"""Demo agents for `make run` (loaded by the seed_demo command)."""

from __future__ import annotations

from django.db import transaction

from agents import services
from agents.models import Agent

DEMO_AGENTS = [
    (
        "alice",
        {
            "name": "Arithmetic tutor",
            "description": "Works sums out step by step with the calculator.",
            "instructions": (
                "You are a patient arithmetic tutor. Use the calculator for every "
                "operation and give the final number."
            ),
            "tools": ["calculator"],
            "output_type": {
                "type": "object",
                "properties": {
                    "answer": {"type": "number"},
                    "explanation": {"type": "string"},
                },
                "required": ["answer", "explanation"],
            },
            "tags": ["math", "demo"],
            "visibility": "public",
        },
    ),
    (
        "alice",
        {
            "name": "World clock",
            "description": "Tells the current time in any time zone.",
            "instructions": "Tell the user the current time where they ask about.",
            "tools": ["current_time"],
            "tags": ["time", "demo"],
            "visibility": "public",
        },
    ),
    (
        "bob",
        {
            "name": "Polite greeter",
            "description": "Answers briefly and refuses rude requests.",
            "instructions": "Greet the user warmly and answer in one sentence.",
            "guardrails": {"input": {"blocked_words": ["stupid"], "max_length": 500}},
            "tags": ["demo"],
        },
    ),
    (
        "bob",
        {
            "name": "Study helper",
            "description": (
                "Asks Alice's Arithmetic tutor for sums (an agent used as a tool). "
                "Runs on GPT-4.1 mini when the site has a key, and falls back to "
                "the Offline demo model when it has not."
            ),
            "instructions": "Help with homework; ask the arithmetic tutor for sums.",
            "model": "openai/gpt-4.1-mini",
            "fallback_model": "local/demo",
            # Resolved to agent/<id> when seeded: ids differ between databases.
            "tools": ["agent:alice/arithmetic-tutor"],
            "tags": ["demo"],
            "visibility": "public",
        },
    ),
]


def _resolve_agent_tools(data: dict, users_by_name: dict) -> dict:
    tools = []
    for name in data.get("tools", []):
        if name.startswith("agent:"):
            username, _slash, slug = name.removeprefix("agent:").partition("/")
            other = Agent.objects.get(owner=users_by_name[username], slug=slug)
            name = other.tool_reference
        tools.append(name)
    return {**data, "tools": tools}


@transaction.atomic
def demo_agents_ensure(users_by_name: dict) -> list[tuple[Agent, bool]]:
    """Create the demo agents that are missing; leave existing ones alone."""
    results = []
    for username, data in DEMO_AGENTS:
        owner = users_by_name[username]
        agent = Agent.objects.filter(owner=owner, name=data["name"]).first()
        created = agent is None
        if created:
            agent = services.agent_create(
                owner=owner, data=_resolve_agent_tools(data, users_by_name)
            )
        results.append((agent, created))
    return results
