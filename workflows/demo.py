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


WRITERS = [
    {
        "name": "Classifier",
        "description": "Sorts a request: math or history.",
        "instructions": "You sort requests into categories.",
    },
    {
        "name": "Fact Finder",
        "description": "Lists the facts a piece of writing needs.",
        "instructions": "List the key facts for the request, briefly.",
    },
    {
        "name": "Angle Finder",
        "description": "Suggests an angle that makes writing interesting.",
        "instructions": "Suggest one surprising angle for the request.",
    },
    {
        "name": "Writer",
        "description": "Writes a short explainer from notes.",
        "instructions": "Write a short, plain explainer from the notes.",
    },
    {
        "name": "Editor",
        "description": "Reviews drafts: passes them or asks for changes.",
        "instructions": "Review the draft for accuracy and clarity.",
    },
]
WORKFLOW_NAME = "Homework explainer"


def demo_workflow_graph(agents: dict) -> dict:
    """Route by subject to a tutor, gather facts and an angle at once, join
    them, write and edit in a loop, then ask before finishing."""
    return {
        "entry": "subject",
        "nodes": [
            {
                "id": "subject",
                "kind": "router",
                "label": "Which subject?",
                "agent": agents["Classifier"].pk,
                "routes": {"math": "math", "history": "history"},
                "default": "history",
                "position": {"x": 300, "y": 40},
            },
            {
                "id": "math",
                "kind": "agent",
                "agent": agents["Math Tutor"].pk,
                "position": {"x": 120, "y": 40},
            },
            {
                "id": "history",
                "kind": "agent",
                "agent": agents["History Tutor"].pk,
                "position": {"x": 480, "y": 40},
            },
            {
                "id": "gather",
                "kind": "parallel",
                "label": "Facts and angle at once",
                "branches": ["facts", "angle"],
                "position": {"x": 300, "y": 150},
            },
            {
                "id": "facts",
                "kind": "agent",
                "agent": agents["Fact Finder"].pk,
                "position": {"x": 120, "y": 150},
            },
            {
                "id": "angle",
                "kind": "agent",
                "agent": agents["Angle Finder"].pk,
                "position": {"x": 480, "y": 150},
            },
            {
                "id": "notes",
                "kind": "aggregate",
                "mode": "join",
                "position": {"x": 300, "y": 250},
            },
            {
                "id": "polish",
                "kind": "loop",
                "label": "Write, then edit",
                "worker": "write",
                "reviewer": "edit",
                "max_iterations": 2,
                "position": {"x": 300, "y": 350},
            },
            {
                "id": "write",
                "kind": "agent",
                "agent": agents["Writer"].pk,
                "input": (
                    "Question: {{input}}\n\nTutor: {{subject}}\n\nNotes:\n{{previous}}"
                ),
                "position": {"x": 120, "y": 350},
            },
            {
                "id": "edit",
                "kind": "agent",
                "agent": agents["Editor"].pk,
                "position": {"x": 480, "y": 350},
            },
            {
                "id": "ok",
                "kind": "approval",
                "label": "Send it?",
                "message": "Send this explainer to the student?",
                "position": {"x": 300, "y": 450},
            },
        ],
        "edges": [
            {"from": "subject", "to": "gather"},
            {"from": "gather", "to": "notes"},
            {"from": "notes", "to": "polish"},
            {"from": "polish", "to": "ok"},
        ],
    }


def demo_workflow_ensure(users_by_name: dict) -> int:
    """bob's public workflow, using the tutors and five helpers of his."""
    from agents import services as agent_services
    from agents.models import Agent
    from workflows.models import Workflow

    owner = users_by_name.get("bob")
    if (
        owner is None
        or Workflow.objects.filter(owner=owner, name=WORKFLOW_NAME).exists()
    ):
        return 0
    added = 0
    agents = {}
    for data in [*TUTORS, *WRITERS]:
        agent = Agent.objects.filter(owner=owner, name=data["name"]).first()
        if agent is None:
            agent = agent_services.agent_create(owner=owner, data=data)
            added += 1
        agents[data["name"]] = agent
    services.workflow_create(
        owner=owner,
        data={
            "name": WORKFLOW_NAME,
            "description": "Routes by subject, gathers facts and an angle at once, "
            "writes and edits, then asks before sending.",
            "visibility": "public",
            "graph": demo_workflow_graph(agents),
        },
    )
    return added + 1
