"""A person's data, all of it, as one zip of JSON files and their uploads.

``account_export`` writes the archive into a file the caller gives (a
temporary file, so a large account never sits in memory) and records the
export in the audit log. Each JSON file is one query (two where rows carry
their children: agents with versions, runs with steps, workflows with
versions), read in chunks and written as it is read, so the number of
queries does not grow with the number of rows. Secrets are never exported:
API keys and provider keys appear as their names and masks only.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterable
from typing import IO, Any

from allauth.account.models import EmailAddress
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import get_valid_filename

from agents.definitions import DEFINITION_FIELDS
from agents.models import (
    Agent,
    AgentVersion,
    Conversation,
    CustomTool,
    ProviderKey,
    Run,
    RunStep,
)
from billing.models import CreditAccount, LedgerEntry, Purchase
from community.audit import audit_list_for_actor, audit_record
from community.models import (
    AuditAction,
    Block,
    Comment,
    Follow,
    Message,
    Notification,
    PersonalApiKey,
    Profile,
    Rating,
    Reaction,
    Report,
    User,
)
from files.models import Collection, File
from files.selectors import file_list_downloadable
from workflows.models import Workflow, WorkflowVersion

CHUNK = 500
README = """Your data from Agentry, exported {when}.

Each .json file holds one kind of thing, as a JSON array or object:
profile.json (your account, profile, email addresses, follows, blocks, API
keys and provider keys by name only), agents.json (with every version),
runs.json (with every step), conversations.json, workflows.json (with every
version), files.json (and your uploads under files/), comments.json,
ratings.json, reactions.json, messages.json (the messages you sent),
notifications.json, reports.json (reports you made), credits.json (your
credit account, its ledger and your purchases) and security_log.json (the
sensitive actions recorded for your account).
"""


def _write_json(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    with archive.open(name, "w") as handle:
        handle.write(
            json.dumps(
                data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1
            ).encode()
        )


def _write_json_array(archive: zipfile.ZipFile, name: str, rows: Iterable) -> None:
    """Write ``rows`` as a JSON array one row at a time."""
    with archive.open(name, "w") as handle:
        handle.write(b"[")
        for position, row in enumerate(rows):
            if position:
                handle.write(b",")
            handle.write(b"\n")
            handle.write(
                json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
            )
        handle.write(b"\n]\n")


def _profile(user: User) -> dict:
    profile = Profile.objects.filter(user=user).first()
    return {
        "account": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_suspended": user.is_suspended,
            "is_hidden": user.is_hidden,
        },
        "profile": {
            "display_name": profile.display_name,
            "bio": profile.bio,
            "links": profile.links,
            "avatar": profile.avatar.name or None,
            "email_preferences": profile.email_preferences,
            "updated_at": profile.updated_at,
        }
        if profile
        else None,
        "email_addresses": list(
            EmailAddress.objects.filter(user=user).values(
                "email", "verified", "primary"
            )
        ),
        "following": list(
            Follow.objects.filter(follower=user)
            .order_by("created_at")
            .values("followee__username", "created_at")
        ),
        "followers": list(
            Follow.objects.filter(followee=user)
            .order_by("created_at")
            .values("follower__username", "created_at")
        ),
        "blocked": list(
            Block.objects.filter(blocker=user)
            .order_by("created_at")
            .values("blocked__username", "created_at")
        ),
        # Names and dates only: the keys themselves are never exported.
        "api_keys": list(
            PersonalApiKey.objects.filter(user=user)
            .order_by("created")
            .values(
                "prefix", "name", "created", "expiry_date", "revoked", "last_used_at"
            )
        ),
        "provider_keys": list(
            ProviderKey.objects.filter(owner=user)
            .order_by("provider")
            .values("provider", "masked", "base_url", "model_names", "created_at")
        ),
        "custom_tools": list(
            CustomTool.objects.filter(owner=user)
            .order_by("name")
            .values(
                "id",
                "name",
                "description",
                "parameters",
                "webhook_url",
                "secret_header_name",
                "created_at",
                "updated_at",
            )
        ),
    }


# An agent's own fields: its definition (as versions keep it) and its listing.
AGENT_FIELDS = (
    "slug",
    *DEFINITION_FIELDS,
    "tags",
    "visibility",
    "category",
    "long_description",
    "example_prompts",
    "published_at",
    "forked_from_id",
    "forked_from_version",
    "is_playground",
    "is_hidden",
    "created_at",
    "updated_at",
)


def _agents(user: User):
    agents = (
        Agent.objects.filter(owner=user)
        .order_by("pk")
        .prefetch_related(
            Prefetch("versions", queryset=AgentVersion.objects.order_by("number"))
        )
    )
    for agent in agents.iterator(chunk_size=CHUNK):
        row = {"id": agent.pk, **{f: getattr(agent, f) for f in AGENT_FIELDS}}
        row["versions"] = [
            {
                "number": version.number,
                "definition": version.definition,
                "created_at": version.created_at,
            }
            for version in agent.versions.all()
        ]
        yield row


def _runs(user: User):
    runs = (
        Run.objects.filter(owner=user)
        .order_by("pk")
        .prefetch_related(Prefetch("steps", queryset=RunStep.objects.order_by("order")))
    )
    for run in runs.iterator(chunk_size=CHUNK):
        yield {
            "id": run.pk,
            "agent_id": run.agent_id,
            "version_id": run.version_id,
            "conversation_id": run.conversation_id,
            "status": run.status,
            "input": run.input,
            "final_output": run.final_output,
            "error": run.error,
            "usage": run.usage,
            "cost_millicredits": run.cost,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "shared_at": run.shared_at,
            "steps": [
                {
                    "order": step.order,
                    "type": step.type,
                    "payload": step.payload,
                    "input_tokens": step.input_tokens,
                    "output_tokens": step.output_tokens,
                    "latency_ms": step.latency_ms,
                    "cost_millicredits": step.cost,
                    "created_at": step.created_at,
                }
                for step in run.steps.all()
            ],
        }


def _workflows(user: User):
    workflows = (
        Workflow.objects.filter(owner=user)
        .order_by("pk")
        .prefetch_related(
            Prefetch("versions", queryset=WorkflowVersion.objects.order_by("number"))
        )
    )
    for workflow in workflows.iterator(chunk_size=CHUNK):
        yield {
            "id": workflow.pk,
            "name": workflow.name,
            "description": workflow.description,
            "visibility": workflow.visibility,
            "graph": workflow.graph,
            "forked_from_id": workflow.forked_from_id,
            "is_hidden": workflow.is_hidden,
            "created_at": workflow.created_at,
            "updated_at": workflow.updated_at,
            "versions": [
                {
                    "number": version.number,
                    "graph": version.graph,
                    "created_at": version.created_at,
                }
                for version in workflow.versions.all()
            ],
        }


def _values(queryset, *fields):
    return queryset.order_by("pk").values(*fields).iterator(chunk_size=CHUNK)


def _archive_name(file: File) -> str:
    return f"files/{file.pk}-{get_valid_filename(file.name) or 'file'}"


def _write_files(archive: zipfile.ZipFile, user: User) -> None:
    """files.json, and each upload's original bytes under files/."""
    rows = []
    files = (
        file_list_downloadable(user=user).select_related("collection").order_by("pk")
    )
    for file in files.iterator(chunk_size=CHUNK):
        stored_as = _archive_name(file)
        try:
            with (
                file.blob.storage.open(file.blob.name, "rb") as source,
                archive.open(stored_as, "w") as out,
            ):
                shutil.copyfileobj(source, out)
        except OSError:
            stored_as = None  # the bytes are gone from storage; say so
        rows.append(
            {
                "id": file.pk,
                "name": file.name,
                "kind": file.kind,
                "size": file.size,
                "sha256": file.sha256,
                "status": file.status,
                "collection": file.collection.name if file.collection else None,
                "page_count": file.page_count,
                "chunk_count": file.chunk_count,
                "created_at": file.created_at,
                "archive_path": stored_as,
            }
        )
    collections = list(
        Collection.objects.filter(owner=user)
        .order_by("pk")
        .values("id", "name", "description", "created_at")
    )
    _write_json(archive, "files.json", {"collections": collections, "files": rows})


def _credits(user: User) -> dict:
    account = CreditAccount.objects.filter(user=user).first()
    entries = (
        LedgerEntry.objects.filter(account__user=user)
        .order_by("pk")
        .values(
            "kind",
            "amount",
            "balance_after",
            "description",
            "run_id",
            "created_at",
        )
    )
    return {
        "unit": "milli-credits (1 credit = 1000)",
        "account": {
            "balance": account.balance,
            "held": account.held,
            "low_balance_threshold": account.low_balance_threshold,
            "created_at": account.created_at,
        }
        if account
        else None,
        "ledger": list(entries),
        "purchases": list(
            Purchase.objects.filter(user=user)
            .order_by("pk")
            .values(
                "pack",
                "credits",
                "amount_cents",
                "currency",
                "status",
                "amount_refunded_cents",
                "credits_refunded",
                "created_at",
                "paid_at",
            )
        ),
    }


def _write_avatar(archive: zipfile.ZipFile, user: User) -> None:
    profile = Profile.objects.filter(user=user).exclude(avatar="").first()
    if profile is None:
        return
    name = get_valid_filename(profile.avatar.name.rsplit("/", 1)[-1]) or "avatar"
    try:
        with (
            profile.avatar.storage.open(profile.avatar.name, "rb") as source,
            archive.open(f"avatar/{name}", "w") as out,
        ):
            shutil.copyfileobj(source, out)
    except OSError:
        return  # missing from storage: profile.json still names it


def _security_log(user: User):
    return audit_list_for_actor(user=user).values(
        "action",
        "target_type",
        "target_id",
        "target_label",
        "details",
        "ip_address",
        "user_agent",
        "created_at",
    )


def account_export(*, user: User, destination: IO[bytes]) -> None:
    """Write ``user``'s data as a zip into ``destination`` (a binary file
    open for writing), then record the export in the audit log."""
    now = timezone.now()
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(when=now.isoformat()))
        _write_json(archive, "profile.json", _profile(user))
        _write_avatar(archive, user)
        _write_json_array(archive, "agents.json", _agents(user))
        _write_json_array(archive, "runs.json", _runs(user))
        _write_json_array(
            archive,
            "conversations.json",
            _values(
                Conversation.objects.filter(owner=user),
                "id",
                "agent_id",
                "title",
                "created_at",
                "updated_at",
            ),
        )
        _write_json_array(archive, "workflows.json", _workflows(user))
        _write_files(archive, user)
        _write_json_array(
            archive,
            "comments.json",
            _values(
                Comment.objects.filter(author=user),
                "id",
                "agent_id",
                "workflow_id",
                "parent_id",
                "body",
                "is_hidden",
                "edited_at",
                "deleted_at",
                "created_at",
            ),
        )
        _write_json_array(
            archive,
            "ratings.json",
            _values(
                Rating.objects.filter(user=user),
                "id",
                "agent_id",
                "workflow_id",
                "stars",
                "review",
                "is_hidden",
                "created_at",
                "updated_at",
            ),
        )
        _write_json_array(
            archive,
            "reactions.json",
            _values(
                Reaction.objects.filter(user=user),
                "emoji",
                "agent_id",
                "workflow_id",
                "comment_id",
                "created_at",
            ),
        )
        _write_json_array(
            archive,
            "messages.json",
            _values(
                Message.objects.filter(sender=user),
                "id",
                "thread_id",
                "thread__user_a__username",
                "thread__user_b__username",
                "body",
                "created_at",
            ),
        )
        _write_json_array(
            archive,
            "notifications.json",
            _values(
                Notification.objects.filter(recipient=user),
                "kind",
                "text",
                "url",
                "data",
                "read_at",
                "created_at",
            ),
        )
        _write_json_array(
            archive,
            "reports.json",
            _values(
                Report.objects.filter(reporter=user),
                "reason",
                "details",
                "agent_id",
                "comment_id",
                "user__username",
                "status",
                "action",
                "created_at",
                "resolved_at",
            ),
        )
        _write_json(archive, "credits.json", _credits(user))
        _write_json_array(archive, "security_log.json", _security_log(user))
    audit_record(action=AuditAction.ACCOUNT_EXPORTED, actor=user, target=user)
