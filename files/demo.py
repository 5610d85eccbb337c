"""Demo files for `make run` (loaded by seed_demo): alice's Acme handbook and
support FAQ, ingested for real, and the public "HR helper" and "Support
answers" agents that search them (the second used by the "Support desk"
workflow)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.core.files.base import ContentFile

from files import services
from files.models import Attachment, File

HANDBOOK = Path(__file__).resolve().parent / "demo_data" / "acme-handbook.md"
SUPPORT_FAQ = Path(__file__).resolve().parent / "demo_data" / "acme-support-faq.md"
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
        "What is the dress code?",
        "Summarize what the handbook says about expenses in 2 bullet points",
    ],
}


SUPPORT_AGENT = {
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


def _demo_file(owner, path: Path) -> tuple[File, int]:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    file = File.objects.filter(owner=owner, sha256=digest).first()
    added = 0
    if file is None:
        file = File(
            owner=owner,
            name=path.name,
            kind="markdown",
            size=len(data),
            sha256=digest,
            chunk_size=200,
            chunk_overlap=40,
        )
        file.blob.save(digest, ContentFile(data), save=False)
        file.save()
        added = 1
    if file.status != "ready":
        services.file_ingest(file_id=file.pk)
    return file, added


def demo_files_ensure(users_by_name: dict) -> int:
    """Add what is missing; returns how many things were added."""
    from agents import services as agent_services
    from agents.models import Agent

    owner = users_by_name.get("alice")
    if owner is None:
        return 0
    added = 0
    for path, data in ((HANDBOOK, AGENT), (SUPPORT_FAQ, SUPPORT_AGENT)):
        file, new = _demo_file(owner, path)
        added += new
        agent = Agent.objects.filter(owner=owner, name=data["name"]).first()
        if agent is None:
            agent = agent_services.agent_create(owner=owner, data=data)
            added += 1
        if not Attachment.objects.filter(agent=agent, file=file).exists():
            services.attachment_add(agent=agent, user=owner, file_id=file.pk)
            added += 1
    return added
