"""Handoffs: adding, changing and removing the agents an agent may hand off
to. Only the agent's owner may, and only to agents they may use."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from agents.models import Handoff, InputFilter

MAX_HANDOFFS = 10
MAX_DESCRIPTION = 300


def _require_owner(agent, user) -> None:
    if agent.owner_id != user.pk:
        raise PermissionDenied(_("Only the agent's owner can change its handoffs."))


def _clean(*, description=None, input_filter=None) -> dict:
    cleaned, errors = {}, {}
    if description is not None:
        if not isinstance(description, str):
            errors["description"] = [_("Text, please.")]
        elif len(description.strip()) > MAX_DESCRIPTION:
            errors["description"] = [
                _("At most %(count)d characters.") % {"count": MAX_DESCRIPTION}
            ]
        else:
            cleaned["description"] = description.strip()
    if input_filter is not None:
        if input_filter not in InputFilter.values:
            errors["input_filter"] = [
                _("One of: %(choices)s.")
                % {"choices": ", ".join(repr(v) for v in InputFilter.values)}
            ]
        else:
            cleaned["input_filter"] = input_filter
    if errors:
        raise ValidationError(errors)
    return cleaned


def handoff_create(
    *, agent, user, target_id, description: str = "", input_filter: str = ""
) -> Handoff:
    """Let ``agent`` hand off to the agent ``target_id``."""
    from agents.models import Agent
    from agents.selectors import agent_tool_candidates

    _require_owner(agent, user)
    fields = _clean(description=description or "", input_filter=input_filter or "")
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise ValidationError({"target": [_("An agent's id.")]}) from None
    if target_id == agent.pk:
        raise ValidationError({"target": [_("An agent cannot hand off to itself.")]})
    target = agent_tool_candidates(owner_id=agent.owner_id).filter(pk=target_id).first()
    if target is None:
        raise ValidationError(
            {"target": [_("No such agent, or it is not yours or shared.")]}
        )
    with transaction.atomic():
        # The agent's row lock makes concurrent adds take turns, so the limit
        # holds and the order is unique.
        Agent.objects.select_for_update().only("pk").get(pk=agent.pk)
        existing = Handoff.objects.filter(agent=agent)
        if existing.filter(target=target).exists():
            message = _("The agent already hands off to %(name)s.")
            raise ValidationError({"target": [message % {"name": target.name}]})
        if existing.count() >= MAX_HANDOFFS:
            raise ValidationError(
                {"target": [_("At most %(count)d handoffs.") % {"count": MAX_HANDOFFS}]}
            )
        position = (existing.aggregate(last=Max("position"))["last"] or 0) + 1
        try:
            return Handoff.objects.create(
                agent=agent, target=target, position=position, **fields
            )
        except IntegrityError as error:  # a concurrent twin
            raise ValidationError(
                {"target": [_("The agent already hands off to that agent.")]}
            ) from error


def handoff_update(
    *, handoff: Handoff, user, description=None, input_filter=None
) -> Handoff:
    _require_owner(handoff.agent, user)
    fields = _clean(description=description, input_filter=input_filter)
    for name, value in fields.items():
        setattr(handoff, name, value)
    if fields:
        handoff.save(update_fields=list(fields))
    return handoff


def handoff_delete(*, handoff: Handoff, user) -> None:
    _require_owner(handoff.agent, user)
    handoff.delete()


# --- workflows -------------------------------------------------------------------

MAX_NAME = 100


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
