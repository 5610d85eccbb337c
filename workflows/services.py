"""Workflows: creating, changing, sharing and forking them. (Handoffs' are
agents.services.handoffs.)"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

MAX_NAME = 100
MAX_DESCRIPTION = 300


def usable_agents(owner):
    from agents.selectors import agent_tool_candidates

    def usable(ids: set[int]) -> set[int]:
        return set(
            agent_tool_candidates(owner_id=owner.pk)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )

    return usable


def _clean_workflow(data: dict, *, owner, partial: bool) -> dict:
    from agents.models import Visibility
    from workflows.graph import clean_graph

    cleaned, errors = {}, {}
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = [_("Give the workflow a name.")]
        elif len(name.strip()) > MAX_NAME:
            errors["name"] = [_("At most %(count)d characters.") % {"count": MAX_NAME}]
        else:
            cleaned["name"] = name.strip()
    if "description" in data:
        description = data.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            errors["description"] = [
                _("Text, at most %(count)d characters.") % {"count": MAX_DESCRIPTION}
            ]
        else:
            cleaned["description"] = description.strip()
    if "visibility" in data:
        if data["visibility"] not in Visibility.values:
            errors["visibility"] = [
                _("One of: %(choices)s.") % {"choices": ", ".join(Visibility.values)}
            ]
        else:
            cleaned["visibility"] = data["visibility"]
    if "graph" in data or not partial:
        try:
            cleaned["graph"] = clean_graph(
                data.get("graph"), agent_usable=usable_agents(owner)
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _version_create(workflow, user) -> None:
    from workflows.models import WorkflowVersion

    WorkflowVersion.objects.create(
        workflow=workflow,
        number=workflow.version_number,
        graph=workflow.graph,
        created_by=user,
    )


@transaction.atomic
def workflow_create(*, owner, data: dict):
    """A new workflow (version 1) from ``name``, ``graph`` and optional
    ``description`` and ``visibility``. Field errors for anything wrong;
    nothing is saved then."""
    from workflows.models import Workflow

    cleaned = _clean_workflow(data, owner=owner, partial=False)
    workflow = Workflow.objects.create(owner=owner, **cleaned)
    _version_create(workflow, owner)
    _audit_visibility(workflow, user=owner, before="private")
    return workflow


def _audit_visibility(workflow, *, user, before: str) -> None:
    from community.audit import audit_record, visibility_action

    action = visibility_action("workflow", before, workflow.visibility)
    if action is not None:
        audit_record(
            action=action,
            actor=user,
            target=workflow,
            details={"from": before, "to": workflow.visibility},
        )


@transaction.atomic
def workflow_update(*, workflow, user, data: dict):
    """Change any of the fields; a changed graph makes a new version."""
    from workflows.models import Workflow

    if workflow.owner_id != user.pk:
        raise PermissionDenied(_("Only the workflow's owner can change it."))
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    visibility_before = workflow.visibility
    cleaned = _clean_workflow(data, owner=workflow.owner, partial=True)
    changed = [key for key, value in cleaned.items() if getattr(workflow, key) != value]
    if not changed:
        return workflow
    for key in changed:
        setattr(workflow, key, cleaned[key])
    if "graph" in changed:
        workflow.version_number += 1
        changed.append("version_number")
    workflow.save(update_fields=[*changed, "updated_at"])
    if "graph" in changed:
        _version_create(workflow, user)
    _audit_visibility(workflow, user=user, before=visibility_before)
    return workflow


@transaction.atomic
def workflow_transfer(*, workflow, owner):
    """Give ``workflow`` to ``owner`` (account deletion hands shared
    workflows to the "deleted-user" account, so others may still run and
    fork them). Its graph and versions stay as they are."""
    from workflows.models import Workflow

    Workflow.objects.filter(pk=workflow.pk).update(owner=owner)
    workflow.owner = owner
    return workflow


def workflow_delete(*, workflow, user) -> None:
    if workflow.owner_id != user.pk:
        raise PermissionDenied(_("Only the workflow's owner can delete it."))
    workflow.delete()


@transaction.atomic
def workflow_fork(*, workflow, user):
    """Copy a shared workflow's graph into a new private workflow of
    ``user``'s, remembering where it came from. Every agent it uses must be
    one ``user`` may use (their own, or shared): a fork runs with the
    forker's agents' permissions, not the original owner's."""
    from django.db.models import F

    from agents.models import Visibility
    from workflows.graph import clean_graph
    from workflows.models import Workflow

    if workflow.visibility == Visibility.PRIVATE:
        raise ValidationError(
            {"non_field_errors": [_("A private workflow cannot be forked.")]}
        )
    try:
        graph = clean_graph(workflow.graph, agent_usable=usable_agents(user))
    except ValidationError as error:
        raise ValidationError(
            {
                "graph": [
                    _(
                        "It uses agents you cannot use (their owner has not "
                        "shared them), so it cannot be forked: %(problems)s"
                    )
                    % {"problems": " ".join(error.message_dict.get("graph", []))}
                ]
            }
        ) from None
    fork = Workflow.objects.create(
        owner=user,
        name=workflow.name[:MAX_NAME],
        description=workflow.description,
        graph=graph,
        forked_from=workflow,
    )
    _version_create(fork, user)
    Workflow.objects.filter(pk=workflow.pk).update(fork_count=F("fork_count") + 1)
    if workflow.owner_id != user.pk:
        from community.models import NotificationKind
        from community.services import notify

        notify(
            recipient=workflow.owner,
            kind=NotificationKind.FORK,
            actor=user,
            text=_("%(user)s forked your workflow %(name)s")
            % {"user": user.username, "name": workflow.name},
            url=reverse("workflows:detail", args=[workflow.pk]),
            data={"workflow": workflow.pk, "fork": fork.pk},
        )
    return fork
