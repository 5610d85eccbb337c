"""Deleting one's own account, in one transaction.

What happens to each kind of thing, and why:

- **Shared agents and workflows** (public or unlisted): the person chooses.
  ``transfer`` gives them to the "deleted-user" account (inactive, no usable
  password), so others' forks, runs, workflows and agents that use them keep
  working; their webhook tools go with the account (agents.services
  agent_transfer). ``remove`` deletes them with everything hanging off them.
- **Private things** (agents, the playground, runs, conversations,
  workflows, files and their stored bytes, collections, API keys, provider
  keys, webhook tools, notifications, reactions, blocks, reports made) are
  deleted.
- **Ratings** are deleted through the rating service, so the rated agents'
  and workflows' counts stay right. **Follows** likewise keep the other
  side's follower counts right.
- **Comments** stay, with their text, under "deleted-user": a thread others
  replied to still reads, and a reply no longer names the person.
- **Direct messages**: the threads go, both sides. A thread belongs to the
  pair; moving it to "deleted-user" would merge unrelated people's threads
  with the same correspondent (one thread per pair). The messages the person
  sent are in their export.
- **Credits**: the ledger is money history and stays, anonymous: what is left
  is forfeited by a closing entry and the account and purchases are detached
  (billing.services.account_close).
- **The audit log** keeps its entries; the person's link becomes NULL (the
  one change the table's trigger allows) and the username snapshot stays.
- **A live Stripe subscription** is not cancelled from here: the deletion is
  refused until the person cancels it (a call to Stripe cannot be rolled back
  with the transaction, and a half-deleted account still paying is worse).
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from agents.models import FINISHED_STATUSES, Agent, Run, Visibility
from agents.services.agents import agent_delete, agent_transfer
from billing import payments
from billing.services import account_close, account_close_problems
from community.audit import audit_record
from community.models import (
    DELETED_USER_USERNAME,
    AuditAction,
    Comment,
    Profile,
    Rating,
    User,
)
from community.reviews import rating_delete
from community.services import follow_delete
from community.websocket_auth import websocket_credentials_changed
from files.models import File
from workflows.models import Workflow
from workflows.services import workflow_delete, workflow_transfer

TRANSFER = "transfer"
REMOVE = "remove"
SHARED_CHOICES = (TRANSFER, REMOVE)
SHARED = (Visibility.PUBLIC, Visibility.UNLISTED)


def deleted_user() -> User:
    """The account that holds what deleted accounts shared (made once)."""
    user = User.objects.filter(username=DELETED_USER_USERNAME).first()
    if user is not None:
        return user
    user = User(username=DELETED_USER_USERNAME, is_active=False)
    user.set_unusable_password()
    # A savepoint: another deletion may create it at the same moment.
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        return User.objects.get(username=DELETED_USER_USERNAME)
    return user


def account_delete_problems(*, user: User) -> list[str]:
    """Why the account cannot be deleted now (empty: it can)."""
    problems = []
    if user.username == DELETED_USER_USERNAME:
        problems.append(_("This account cannot be deleted."))
    subscription = payments.live_subscription(user=user)
    if subscription is not None and not subscription.stripe_data.get(
        "cancel_at_period_end"
    ):
        problems.append(
            _(
                "You have a live subscription. Cancel it first (Credits page, "
                "“Manage subscription”), then delete your account."
            )
        )
    if Run.objects.filter(owner=user).exclude(status__in=FINISHED_STATUSES).exists():
        problems.append(
            _(
                "Some of your runs or workflows have not finished. Wait for them "
                "or cancel them, then delete your account."
            )
        )
    problems.extend(account_close_problems(user=user))
    return problems


def _check(*, user: User, password, confirmation, shared_items) -> None:
    errors: dict[str, list[str]] = {}
    if shared_items not in SHARED_CHOICES:
        errors["shared_items"] = [
            _("Choose what happens to your shared agents and workflows: %(c)s.")
            % {"c": " or ".join(SHARED_CHOICES)}
        ]
    if user.has_usable_password():
        if not isinstance(password, str) or not password:
            errors["password"] = [_("Enter your password.")]
        elif not user.check_password(password):
            errors["password"] = [_("That is not your password.")]
    if not isinstance(confirmation, str) or confirmation.strip() != user.username:
        errors["confirmation"] = [
            _("Type your username, %(username)s, to confirm.")
            % {"username": user.username}
        ]
    problems = account_delete_problems(user=user)
    if problems:
        errors[NON_FIELD_ERRORS] = problems
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def account_delete(
    *, user: User, password: str | None, confirmation: str, shared_items: str
) -> dict[str, int]:
    """Delete ``user``'s account as the module docstring says, after checking
    their password (if they have one), the typed username and that nothing
    is in flight. Refusals are one ValidationError by field; nothing changes
    then. Returns counts of what was done (also in the audit entry).
    Signing the person out is the caller's (it has the request)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _check(
        user=user,
        password=password,
        confirmation=confirmation,
        shared_items=shared_items,
    )
    keeper = deleted_user()
    counts = {"agents_transferred": 0, "agents_removed": 0}
    counts.update(workflows_transferred=0, workflows_removed=0)

    # Ratings and follows first, while what they point at still exists.
    for rating in Rating.objects.filter(user=user):
        rating_delete(rating=rating, user=user)
    for followee in User.objects.filter(follower_set__follower=user):
        follow_delete(follower=user, followee=followee)
    for follower in User.objects.filter(following_set__followee=user):
        follow_delete(follower=follower, followee=user)

    shared_agents = Agent.objects.filter(
        owner=user, visibility__in=SHARED, is_playground=False
    ).order_by("pk")
    for agent in shared_agents:
        if shared_items == TRANSFER:
            agent_transfer(agent=agent, owner=keeper)
            counts["agents_transferred"] += 1
        else:
            agent_delete(agent=agent)
            counts["agents_removed"] += 1
    for workflow in Workflow.objects.filter(owner=user, visibility__in=SHARED):
        if shared_items == TRANSFER:
            workflow_transfer(workflow=workflow, owner=keeper)
            counts["workflows_transferred"] += 1
        else:
            workflow_delete(workflow=workflow, user=user)
            counts["workflows_removed"] += 1

    # Comments on what survives keep reading, under "deleted-user".
    counts["comments_kept"] = Comment.objects.filter(author=user).update(author=keeper)
    account_close(user=user)

    # Stored bytes leave only once the deletion has committed.
    blobs = [
        (file.blob.storage, file.blob.name)
        for file in File.objects.filter(owner=user).only("blob")
    ]
    counts["files_deleted"] = len(blobs)
    profile = Profile.objects.filter(user=user).exclude(avatar="").first()
    if profile is not None:
        blobs.append((profile.avatar.storage, profile.avatar.name))
    for storage, name in blobs:
        transaction.on_commit(
            lambda storage=storage, name=name: storage.delete(name), robust=True
        )

    audit_record(
        action=AuditAction.ACCOUNT_DELETED,
        actor=user,
        target=user,
        details={"shared_items": shared_items, **counts},
    )
    # Its sessions and keys go with it: its open websockets close.
    websocket_credentials_changed(user_id=user.pk)
    user.delete()
    return counts
