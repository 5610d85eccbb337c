"""Demo agents for `make run` (loaded by the seed_demo command), and the two
that search alice's demo files (the public "HR helper" and "Support answers",
the second used by the "Support desk" workflow)."""

from __future__ import annotations

from django.db import transaction

from agents import services
from agents.models import Agent, RunStatus
from agents.services import sharing
from agents.services.agents import LISTING_FIELDS
from agents.services.search import trending_refresh
from files import services as file_services
from files.demo import HANDBOOK, SUPPORT_FAQ, demo_file_ensure
from files.models import Attachment

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
            "tags": ["math", "demo", "education"],
            "visibility": "public",
            "category": "education",
            "long_description": (
                "A tutor that never guesses: every operation goes through the "
                "**calculator** tool, and the answer comes with the working.\n\n"
                "- Ask for sums in plain words\n- Chain steps: *then multiply by 3*\n"
                "- The answer is structured JSON (`answer`, `explanation`)"
            ),
            "example_prompts": [
                "What is 5 + 10, then multiply by 3?",
                "What is 12.5% of 640?",
            ],
        },
    ),
    (
        "alice",
        {
            "name": "World clock",
            "description": "Tells the current time in any time zone.",
            "instructions": "Tell the user the current time where they ask about.",
            "tools": ["current_time"],
            "tags": ["time", "demo", "travel"],
            "visibility": "public",
            "category": "productivity",
            "long_description": (
                "Asks the `current_time` tool, so the answer is the real time in "
                "any IANA time zone, daylight saving included."
            ),
            "example_prompts": ["What time is it in Tokyo?", "Is it morning in Lima?"],
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
            "tags": ["demo", "education"],
            "visibility": "public",
            "category": "education",
            "example_prompts": ["Help me check 17 times 23 for my homework."],
        },
    ),
    (
        "alice",
        {
            "name": "Haiku poet",
            "description": "Turns any topic into a 5-7-5 haiku.",
            "instructions": "Answer with one haiku (5-7-5 syllables) about the topic.",
            "tags": ["poetry", "writing", "fun"],
            "visibility": "public",
            "category": "writing",
            "long_description": (
                "Give it a topic, a feeling or a photo description; it answers "
                "with one haiku.\n\n> An old silent pond\n> A frog jumps into "
                "the pond\n> Splash! Silence again."
            ),
            "example_prompts": ["Autumn rain on a tin roof", "Monday mornings"],
        },
    ),
    (
        "bob",
        {
            "name": "Code reviewer",
            "description": "Reviews a Python snippet for bugs, style and tests.",
            "instructions": (
                "Review the code the user gives: list bugs first, then style, "
                "then missing tests. Be specific and brief."
            ),
            "tags": ["python", "code-review"],
            "visibility": "public",
            "category": "coding",
            "long_description": (
                "Paste a function; get bugs first, then style, then the tests "
                "you are missing. It does not run your code."
            ),
            "example_prompts": ["def add(a, b): return a - b"],
        },
    ),
    (
        "bob",
        {
            "name": "Meeting summarizer",
            "description": "Condenses meeting notes into decisions and action items.",
            "instructions": (
                "Summarize the notes as: Decisions, Action items (owner, due "
                "date), Open questions."
            ),
            "tags": ["productivity", "writing"],
            "visibility": "public",
            "category": "productivity",
            "example_prompts": [
                "Notes: we agreed to ship Friday; Ana owns the release notes.",
                "Summarize in 2 sentences: We met to plan the release. Sales "
                "wants the billing page first. The team agreed to ship the "
                "billing page on April 14. Ana will write the release notes by "
                "April 10. The coffee was cold again.",
            ],
        },
    ),
    (
        "alice",
        {
            "name": "Ticket sorter",
            "description": "Sorts a support ticket into billing, technical or "
            "account, with a confidence.",
            "instructions": "Classify the support ticket into one category.",
            "output_type": {
                "type": "object",
                "properties": {
                    "category": {
                        "type": "string",
                        "enum": ["billing", "technical", "account", "other"],
                    },
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["category", "confidence"],
            },
            "tags": ["support", "demo", "classification"],
            "visibility": "public",
            "category": "productivity",
            "long_description": (
                "Reads a ticket and answers `{category, confidence}`: works "
                "offline, by meaning, and says `other` when nothing fits."
            ),
            "example_prompts": [
                "I was charged twice on my invoice this month.",
                "How do I reset my password?",
                "Write a haiku about autumn",
            ],
        },
    ),
    (
        "alice",
        {
            "name": "Trivia host",
            "description": "Asks a trivia question and keeps score.",
            "instructions": "Ask one trivia question at a time and keep score.",
            "tags": ["fun", "quiz"],
            "visibility": "public",
            "category": "fun",
            "example_prompts": ["Start a quiz about space."],
        },
    ),
]


# Agents whose page shows a run shared by their owner, once there is one.
DEMO_SHARED_RUNS = [("alice", "arithmetic-tutor"), ("alice", "haiku-poet")]


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
        elif not agent.category and data.get("category"):
            # Demo data from before listings: add the listing, once.
            listing = {k: data[k] for k in LISTING_FIELDS if k in data}
            agent = services.agent_update(agent=agent, user=owner, data=listing)
        results.append((agent, created))
    _demo_fork(users_by_name)
    _demo_share_runs(users_by_name)
    trending_refresh()
    return results


def _demo_fork(users_by_name: dict) -> None:
    """Bob's published fork of Alice's Haiku poet, so Discover shows forks."""
    origin = Agent.objects.filter(
        owner=users_by_name["alice"], slug="haiku-poet"
    ).first()
    bob = users_by_name["bob"]
    if origin is None or Agent.objects.filter(owner=bob, forked_from=origin).exists():
        return
    fork, _notes = services.agent_fork(agent=origin, user=bob)
    services.agent_update(
        agent=fork,
        user=bob,
        data={
            "name": "Seasonal haiku",
            "description": "Haiku that always name a season, as tradition asks.",
            "instructions": (
                "Answer with one haiku (5-7-5) about the topic, with a season word."
            ),
            "visibility": "public",
        },
    )


def _demo_share_runs(users_by_name: dict) -> None:
    """Share, on each DEMO_SHARED_RUNS agent's page, the newest completed run
    its owner made of one of its example prompts (the README's walkthrough
    makes one), so the page shows "Recent runs shared by the author".

    Seeding makes no runs: until the owner has run an example prompt, there
    is nothing to share. Once the owner has a shared run of the agent it is
    left alone, so loading the demo data again changes nothing; other runs,
    with inputs of the owner's own, are never shared.
    """
    for username, slug in DEMO_SHARED_RUNS:
        owner = users_by_name.get(username)
        agent = Agent.objects.filter(owner=owner, slug=slug).first()
        if agent is None or not agent.example_prompts:
            continue
        if agent.runs.filter(owner=owner, shared_at__isnull=False).exists():
            continue
        run = (
            agent.runs.filter(
                owner=owner,
                status=RunStatus.COMPLETED,
                input__in=agent.example_prompts,
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if run is not None:
            sharing.run_share(run=run, user=owner)


HR_HELPER = {
    "name": "HR helper",
    "description": "Answers questions about the Acme handbook, with citations.",
    "instructions": "Answer from the attached handbook with file_search; quote "
    "it and cite the source.",
    "tools": ["file_search"],
    "visibility": "public",
    "category": "productivity",
    "tags": ["files", "demo", "hr"],
    "example_prompts": [
        "How many days of paid holiday do we get?",
        "What is the meal allowance on business trips?",
        "What is the dress code?",
        "Summarize what the handbook says about expenses in 2 bullet points",
    ],
}


SUPPORT_ANSWERS = {
    "name": "Support answers",
    "description": "Answers support tickets from the Acme support FAQ.",
    "instructions": "Answer the ticket from the support FAQ with file_search; "
    "quote it and cite the source.",
    "tools": ["file_search"],
    "visibility": "public",
    "category": "productivity",
    "tags": ["files", "demo", "support"],
    "example_prompts": ["How do I reset my password?"],
}


def demo_file_agents_ensure(users_by_name: dict) -> int:
    """alice's demo files and the agents that search them, each attached:
    add what is missing; returns how many things were added."""
    owner = users_by_name.get("alice")
    if owner is None:
        return 0
    added = 0
    for path, data in ((HANDBOOK, HR_HELPER), (SUPPORT_FAQ, SUPPORT_ANSWERS)):
        file, new = demo_file_ensure(owner, path)
        added += new
        agent = Agent.objects.filter(owner=owner, name=data["name"]).first()
        if agent is None:
            agent = services.agent_create(owner=owner, data=data)
            added += 1
        if not Attachment.objects.filter(agent=agent, file=file).exists():
            file_services.attachment_add(agent=agent, user=owner, file_id=file.pk)
            added += 1
    return added
