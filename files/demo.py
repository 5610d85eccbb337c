"""Demo files for `make run` (loaded by seed_demo): alice's Acme handbook,
ingested for real, and a public "HR helper" agent that searches it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.files.base import ContentFile

from files import services
from files.models import Attachment, File

HANDBOOK = Path(__file__).resolve().parent / "demo_data" / "acme-handbook.md"
AGENT = {
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
    ],
}


def demo_files_ensure(users_by_name: dict) -> int:
    """Add what is missing; returns how many things were added."""
    from agents import services as agent_services
    from agents.models import Agent

    owner = users_by_name.get("alice")
    if owner is None:
        return 0
    added = 0
    data = HANDBOOK.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    file = File.objects.filter(owner=owner, sha256=digest).first()
    if file is None:
        file = File(
            owner=owner,
            name=HANDBOOK.name,
            kind="markdown",
            size=len(data),
            sha256=digest,
            chunk_size=200,
            chunk_overlap=40,
        )
        file.blob.save(digest, ContentFile(data), save=False)
        file.save()
        added += 1
    if file.status != "ready":
        services.file_ingest(file_id=file.pk)
    agent = Agent.objects.filter(owner=owner, name=AGENT["name"]).first()
    if agent is None:
        agent = agent_services.agent_create(owner=owner, data=AGENT)
        added += 1
    if not Attachment.objects.filter(agent=agent, file=file).exists():
        services.attachment_add(agent=agent, user=owner, file_id=file.pk)
        added += 1
    return added
