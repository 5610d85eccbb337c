"""Demo handoffs for `make run` (loaded by seed_demo): bob's public Triage
agent hands math questions to Math Tutor and history questions to History
Tutor, each answering in its place."""

from __future__ import annotations

from workflows import services
from workflows.models import Handoff

TUTORS = [
    {
        "name": "Math Tutor",
        "description": "Math: arithmetic, sums, times, plus, minus, products, "
        "percentages, numbers.",
        "instructions": "You teach math. Work sums out with the calculator and "
        "show each step.",
        "tools": ["calculator"],
        "visibility": "public",
        "category": "education",
        "tags": ["math", "demo", "handoffs"],
    },
    {
        "name": "History Tutor",
        "description": "History: past events, dates, wars, empires, kings, "
        "queens, revolutions.",
        "instructions": "You teach history. Explain events and their causes plainly.",
        "visibility": "public",
        "category": "education",
        "tags": ["history", "demo", "handoffs"],
    },
]
TRIAGE = {
    "name": "Triage",
    "description": "Sends each question to the right tutor: math or history.",
    "instructions": "Decide which tutor should answer and hand the "
    "conversation to them. Do not answer yourself.",
    "visibility": "public",
    "category": "education",
    "tags": ["handoffs", "demo"],
    "example_prompts": [
        "What is 12 times 7, plus 5?",
        "Who was the first emperor of Rome, and how did the empire begin?",
    ],
}


def demo_handoffs_ensure(users_by_name: dict) -> int:
    """Add what is missing; returns how many things were added."""
    from agents import services as agent_services
    from agents.models import Agent

    owner = users_by_name.get("bob")
    if owner is None:
        return 0
    added = 0
    agents = {}
    for data in [*TUTORS, TRIAGE]:
        agent = Agent.objects.filter(owner=owner, name=data["name"]).first()
        if agent is None:
            agent = agent_services.agent_create(owner=owner, data=data)
            added += 1
        agents[data["name"]] = agent
    triage = agents[TRIAGE["name"]]
    for tutor in TUTORS:
        target = agents[tutor["name"]]
        if not Handoff.objects.filter(agent=triage, target=target).exists():
            services.handoff_create(
                agent=triage,
                user=owner,
                target_id=target.pk,
                description=f"Questions about {tutor['description']}",
            )
            added += 1
    return added
