"""Demo handoffs for `make run` (loaded by seed_demo): bob's public Triage
agent hands math questions to Math Tutor and history questions to History
Tutor, each answering in its place."""

from __future__ import annotations

from agents.models import Handoff
from agents.services import handoffs as handoff_services
from workflows import services

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
            handoff_services.handoff_create(
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
        "name": "Writer",
        "description": "Condenses a tutor's answer into a short explainer.",
        "instructions": "Summarize the tutor's answer for the student in at "
        "most three plain sentences, keeping the result.",
    },
    {
        "name": "Editor",
        "description": "Reviews drafts: passes them or asks for changes.",
        "instructions": "Review the draft: it must be at most 80 words long and "
        "must mention the answer.",
    },
]
WORKFLOW_NAME = "Homework explainer"
# What each workflow is shown with; the showcase test runs each of them.
WORKFLOW_EXAMPLE_PROMPTS = {
    "Homework explainer": ["What is 12 times 7, plus 5?", "7, then multiply by 2"],
    "Support desk": [
        "I was charged twice on my invoice this month.",
        "The app crashes when I upload a file",
        "How do I reset my password?",
        "Write a haiku about autumn",
    ],
}


def demo_workflow_graph(agents: dict) -> dict:
    """Route by subject to a tutor, condense its answer and check it in a
    loop, then ask before finishing."""
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
                "id": "polish",
                "kind": "loop",
                "label": "Condense, then check",
                "worker": "write",
                "reviewer": "edit",
                "max_iterations": 2,
                "position": {"x": 300, "y": 200},
            },
            {
                "id": "write",
                "kind": "agent",
                "agent": agents["Writer"].pk,
                "position": {"x": 120, "y": 200},
            },
            {
                "id": "edit",
                "kind": "agent",
                "agent": agents["Editor"].pk,
                "position": {"x": 480, "y": 200},
            },
            {
                "id": "ok",
                "kind": "approval",
                "label": "Send it?",
                "message": "Send this explainer to the student?",
                "position": {"x": 300, "y": 350},
            },
        ],
        "edges": [
            {"from": "subject", "to": "polish"},
            {"from": "polish", "to": "ok"},
        ],
    }


def demo_workflow_ensure(users_by_name: dict) -> int:
    """bob's "Homework explainer" and alice's "Support desk", when missing."""
    return _homework_explainer_ensure(users_by_name) + _support_desk_ensure(
        users_by_name
    )


def _homework_explainer_ensure(users_by_name: dict) -> int:
    """bob's public workflow, using the tutors and three helpers of his."""
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
            "description": "Routes by subject to a tutor, condenses the answer "
            "and checks it, then asks before sending.",
            "visibility": "public",
            "graph": demo_workflow_graph(agents),
        },
    )
    return added + 1


SUPPORT_WORKFLOW_NAME = "Support desk"
SUPPORT_TEAMS = ("billing", "technical", "account")


def support_desk_graph(sorter, answers) -> dict:
    """Sort the ticket by meaning; each team answers from the support FAQ; a
    ticket no team fits waits for a person."""
    nodes = [
        {
            "id": "team",
            "kind": "router",
            "label": "Which team?",
            "agent": sorter.pk,
            "routes": {team: team for team in SUPPORT_TEAMS},
            "default": "person",
            "position": {"x": 300, "y": 40},
        },
        {
            "id": "person",
            "kind": "approval",
            "label": "Needs a person",
            "message": "No team fits this ticket: pass it to a person?",
            "position": {"x": 300, "y": 200},
        },
    ]
    for index, team in enumerate(SUPPORT_TEAMS):
        nodes.append(
            {
                "id": team,
                "kind": "agent",
                "label": f"{team.title()} team",
                "agent": answers.pk,
                "position": {"x": 100 + 200 * index, "y": 120},
            }
        )
    return {"entry": "team", "nodes": nodes, "edges": []}


def _support_desk_ensure(users_by_name: dict) -> int:
    """alice's public workflow over her Ticket sorter and Support answers
    agents (agents.demo, loaded before)."""
    from agents.models import Agent
    from workflows.models import Workflow

    owner = users_by_name.get("alice")
    if (
        owner is None
        or Workflow.objects.filter(owner=owner, name=SUPPORT_WORKFLOW_NAME).exists()
    ):
        return 0
    sorter = Agent.objects.filter(owner=owner, name="Ticket sorter").first()
    answers = Agent.objects.filter(owner=owner, name="Support answers").first()
    if sorter is None or answers is None:
        return 0
    services.workflow_create(
        owner=owner,
        data={
            "name": SUPPORT_WORKFLOW_NAME,
            "description": "Sorts a support ticket by meaning and answers it "
            "from the support FAQ, with the source; a ticket no team fits "
            "waits for a person.",
            "visibility": "public",
            "graph": support_desk_graph(sorter, answers),
        },
    )
    return 1
