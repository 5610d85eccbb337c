"""Reports and moderation: the writes (services) and the reads (selectors).

Anyone signed in reports an agent, a comment or a person with a reason.
Staff work the open reports in the admin: each action (hide, delete, warn,
suspend, dismiss) is applied once to the reported thing and closes every open
report about it. The author hears what was done, by a notification.

What moderation does:
- **Hidden** agents (``Agent.is_hidden``), comments (``hidden_by_staff``) and
  people (``User.is_hidden``) disappear from every public page and the API
  (agents.selectors.agent_published_q and agent_visible_q, comment_visible_q,
  community.selectors.user_get_public). Their owners still see their own
  agents, marked hidden. A hidden person's ratings also leave the counts.
- **Suspended** people (``User.is_suspended``) can sign in and use what they
  own, but cannot publish or share agents, comment, rate, react, report or
  send messages (each of those services checks).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from community.audit import audit_record
from community.models import (
    AuditAction,
    Comment,
    ModerationAction,
    NotificationKind,
    Rating,
    Report,
    ReportReason,
    ReportStatus,
    User,
)
from community.reviews import comment_remove, comment_visible_q, rating_set_hidden
from community.services import notify
from workflows.models import Workflow
from workflows.selectors import workflow_runnable_q

MAX_DETAILS = 2000
# Report floods: at most this many reports per person in the window.
REPORT_RATE = 20
REPORT_WINDOW = timedelta(hours=1)
TARGET_TYPES = ("agent", "comment", "user")


# --- reading what is visible ---------------------------------------------------


def report_target(*, reporter: User, target_type: str, target_id):
    """The thing ``reporter`` reports, if they can see it; else a field error."""
    from agents.selectors import agent_published_q, agent_visible_q

    if target_type not in TARGET_TYPES:
        raise ValidationError(
            {
                "target_type": [
                    _("Report one of: %(types)s.") % {"types": ", ".join(TARGET_TYPES)}
                ]
            }
        )
    not_found = ValidationError(
        {"target_id": [_("There is nothing to report with that id.")]}
    )
    try:
        target_id = int(target_id)
    except (TypeError, ValueError):
        raise not_found from None
    if target_type == "agent":
        target = (
            Agent.objects.select_related("owner")
            .filter(agent_visible_q(reporter) | agent_published_q(), pk=target_id)
            .filter(is_playground=False)
            .first()
        )
    elif target_type == "comment":
        target = (
            Comment.objects.select_related("author", "agent", "workflow")
            .filter(comment_visible_q(), pk=target_id, deleted_at__isnull=True)
            .filter(
                Q(agent__in=Agent.objects.filter(agent_visible_q(reporter)))
                | Q(agent__in=Agent.objects.filter(agent_published_q()))
                | Q(workflow__in=Workflow.objects.filter(workflow_runnable_q(reporter)))
            )
            .first()
        )
    else:
        target = User.objects.filter(
            pk=target_id, is_active=True, is_hidden=False
        ).first()
    if target is None:
        raise not_found
    return target


def author_of(target) -> User | None:
    """Who is answerable for ``target``: an agent's owner, a comment's author,
    or the reported person."""
    if isinstance(target, Agent):
        return target.owner
    if isinstance(target, Comment):
        return target.author
    return target


def _snapshot(target) -> str:
    if isinstance(target, Agent):
        return f"{target.name}\n\n{target.description}\n\n{target.long_description}"
    if isinstance(target, Comment):
        return target.body
    profile = getattr(target, "profile", None)
    return f"{target.username}\n\n{profile.bio if profile else ''}"


# --- reporting -------------------------------------------------------------------


def report_create(
    *, reporter: User, target_type: str, target_id, reason: str, details: str = ""
) -> Report:
    """``reporter`` reports an agent, a comment or a person they can see.

    One open report per person and thing; not your own things; at most
    REPORT_RATE an hour. Suspended people cannot report.
    """
    if not reporter.is_active or reporter.is_suspended or reporter.is_hidden:
        raise PermissionDenied(_("Your account is suspended: you cannot report."))
    errors = {}
    if reason not in ReportReason.values:
        errors["reason"] = [
            _("Choose a reason: %(reasons)s.")
            % {"reasons": ", ".join(ReportReason.values)}
        ]
    if details is None:
        details = ""
    if not isinstance(details, str):
        errors["details"] = [_("This must be text.")]
    elif len(details.strip()) > MAX_DETAILS:
        errors["details"] = [_("At most %(n)d characters.") % {"n": MAX_DETAILS}]
    if errors:
        raise ValidationError(errors)
    target = report_target(
        reporter=reporter, target_type=target_type, target_id=target_id
    )
    if author_of(target).pk == reporter.pk:
        raise ValidationError(
            {"non_field_errors": [_("You cannot report yourself or your own things.")]}
        )
    field = target_type
    if Report.objects.filter(
        reporter=reporter, status=ReportStatus.OPEN, **{field: target}
    ).exists():
        raise ValidationError(
            {
                "non_field_errors": [
                    _("You have reported this already; the moderators will look at it.")
                ]
            }
        )
    recent = Report.objects.filter(
        reporter=reporter, created_at__gte=timezone.now() - REPORT_WINDOW
    ).count()
    if recent >= REPORT_RATE:
        raise ValidationError(
            {"non_field_errors": [_("You have sent many reports: try again later.")]}
        )
    try:
        with transaction.atomic():
            return Report.objects.create(
                reporter=reporter,
                reason=reason,
                details=details.strip(),
                snapshot=_snapshot(target)[:5000],
                **{field: target},
            )
    except IntegrityError:
        # The same report sent twice at once: the other one was saved.
        raise ValidationError(
            {
                "non_field_errors": [
                    _("You have reported this already; the moderators will look at it.")
                ]
            }
        ) from None


def report_list_mine(*, user: User) -> QuerySet[Report]:
    return Report.objects.filter(reporter=user).order_by("-created_at", "-id")


def report_open_count() -> int:
    return Report.objects.filter(status=ReportStatus.OPEN).count()


def report_queue() -> QuerySet[Report]:
    """Open reports, each with how many open reports its target has (the
    most reported first), for the admin."""
    return (
        Report.objects.filter(status=ReportStatus.OPEN)
        .select_related("reporter", "agent__owner", "comment__author", "user")
        .order_by("-created_at")
    )


def reports_on_same_target(report: Report) -> QuerySet[Report]:
    if report.agent_id:
        return Report.objects.filter(agent_id=report.agent_id)
    if report.comment_id:
        return Report.objects.filter(comment_id=report.comment_id)
    if report.user_id:
        return Report.objects.filter(user_id=report.user_id)
    return Report.objects.filter(pk=report.pk)


def open_counts_by_target(reports) -> dict[tuple[str, int], int]:
    """{(target_type, id): open reports} for the targets of ``reports``."""
    counts: dict[tuple[str, int], int] = {}
    for field in TARGET_TYPES:
        ids = {getattr(r, f"{field}_id") for r in reports} - {None}
        if not ids:
            continue
        rows = (
            Report.objects.filter(status=ReportStatus.OPEN, **{f"{field}_id__in": ids})
            .values_list(f"{field}_id")
            .annotate(n=Count("pk"))
        )
        counts.update({(field, pk): n for pk, n in rows})
    return counts


# --- what staff do ---------------------------------------------------------------


@transaction.atomic
def agent_set_hidden(*, agent: Agent, hidden: bool, staff: User | None = None) -> Agent:
    Agent.objects.filter(pk=agent.pk).update(is_hidden=hidden)
    agent.is_hidden = hidden
    audit_record(
        action=AuditAction.AGENT_HIDDEN if hidden else AuditAction.AGENT_SHOWN,
        actor=staff,
        target=agent,
    )
    return agent


@transaction.atomic
def workflow_set_hidden(
    *, workflow: Workflow, hidden: bool, staff: User | None = None
) -> Workflow:
    Workflow.objects.filter(pk=workflow.pk).update(is_hidden=hidden)
    workflow.is_hidden = hidden
    audit_record(
        action=AuditAction.WORKFLOW_HIDDEN if hidden else AuditAction.WORKFLOW_SHOWN,
        actor=staff,
        target=workflow,
    )
    return workflow


@transaction.atomic
def comment_set_hidden_by_staff(
    *, comment: Comment, hidden: bool, staff: User | None = None
) -> Comment:
    """Staff hide a comment; the agent's owner cannot show it again."""
    comment.is_hidden = hidden
    comment.hidden_by_staff = hidden
    comment.save(update_fields=["is_hidden", "hidden_by_staff"])
    audit_record(
        action=AuditAction.COMMENT_HIDDEN if hidden else AuditAction.COMMENT_SHOWN,
        actor=staff,
        target=("comment", comment.pk, comment.body[:80]),
        details={"author_id": comment.author_id},
    )
    return comment


@transaction.atomic
def rating_set_hidden_by_staff(
    *, rating: Rating, hidden: bool, staff: User | None = None
) -> Rating:
    """Staff hide a rating: it leaves the pages and the counts."""
    rating = rating_set_hidden(rating=rating, hidden=hidden)
    audit_record(
        action=AuditAction.RATING_HIDDEN if hidden else AuditAction.RATING_SHOWN,
        actor=staff,
        target=("rating", rating.pk, f"{rating.stars}★ on {rating.target}"),
        details={"author_id": rating.user_id},
    )
    return rating


@transaction.atomic
def user_set_hidden(*, user: User, hidden: bool, staff: User | None = None) -> User:
    """Hide a person: their profile, agents, comments and reviews leave every
    public page, and their ratings leave the agents' counts. Showing them
    again brings all of it back."""
    User.objects.filter(pk=user.pk).update(is_hidden=hidden)
    user.is_hidden = hidden
    for rating in Rating.objects.filter(user=user, is_hidden=not hidden):
        rating_set_hidden(rating=rating, hidden=hidden)
    audit_record(
        action=AuditAction.USER_HIDDEN if hidden else AuditAction.USER_SHOWN,
        actor=staff,
        target=user,
    )
    return user


@transaction.atomic
def user_set_suspended(
    *, user: User, suspended: bool, staff: User | None = None
) -> User:
    User.objects.filter(pk=user.pk).update(is_suspended=suspended)
    user.is_suspended = suspended
    audit_record(
        action=AuditAction.USER_SUSPENDED
        if suspended
        else AuditAction.USER_UNSUSPENDED,
        actor=staff,
        target=user,
    )
    return user


def _delete(target) -> None:
    if isinstance(target, Agent):
        from agents.services.agents import agent_delete

        agent_delete(agent=target)
    else:
        comment_remove(comment=target)


def _describe(target) -> str:
    if isinstance(target, Agent):
        return _("your agent %(name)s") % {"name": target.name}
    if isinstance(target, Comment):
        return _("your comment on %(name)s") % {"name": target.target.name}
    return _("your profile")


def _tell_author(author: User, target, action: str, note: str) -> None:
    what = _describe(target)
    text = {
        ModerationAction.HIDE: _("The moderators hid %(what)s.") % {"what": what},
        ModerationAction.DELETE: _("The moderators deleted %(what)s.") % {"what": what},
        ModerationAction.WARN: _("A warning from the moderators about %(what)s.")
        % {"what": what},
        ModerationAction.SUSPEND: _(
            "The moderators suspended your account over %(what)s."
        )
        % {"what": what},
    }[action]
    if note:
        text = f"{text} {note}"
    notify(
        recipient=author,
        kind=NotificationKind.MODERATION,
        text=text,
        url="/notifications/",
        data={"action": action},
    )


@transaction.atomic
def report_resolve(*, report: Report, staff: User, action: str, note: str = "") -> int:
    """Staff act on a report: the action is applied to what was reported and
    every open report about it is closed with it. Returns how many reports
    were closed (0 if this one was already closed)."""
    if not staff.is_staff:
        raise PermissionDenied(_("Only staff moderate."))
    if action not in ModerationAction.values:
        raise ValidationError({"action": [_("Unknown action.")]})
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.status != ReportStatus.OPEN:
        return 0
    note = (note or report.staff_note or "").strip()[:1000]
    target = report.target
    # Found before acting: a deleted target leaves its reports' links null.
    same = list(
        reports_on_same_target(report)
        .filter(status=ReportStatus.OPEN)
        .values_list("pk", flat=True)
    )
    if target is None and action != ModerationAction.DISMISS:
        raise ValidationError(
            {"action": [_("What was reported is gone: dismiss the report.")]}
        )
    if action != ModerationAction.DISMISS:
        author = author_of(target)
        if action in (ModerationAction.HIDE, ModerationAction.SUSPEND):
            if isinstance(target, Agent):
                agent_set_hidden(agent=target, hidden=True, staff=staff)
            elif isinstance(target, Comment):
                comment_set_hidden_by_staff(comment=target, hidden=True, staff=staff)
            else:
                user_set_hidden(user=target, hidden=True, staff=staff)
        if action == ModerationAction.SUSPEND:
            user_set_suspended(user=author, suspended=True, staff=staff)
        if action == ModerationAction.DELETE:
            if isinstance(target, User):
                raise ValidationError(
                    {
                        "action": [
                            _(
                                "Accounts are not deleted from the queue: "
                                "hide or suspend the person."
                            )
                        ]
                    }
                )
            _tell_author(author, target, action, note)
            _delete(target)
        else:
            _tell_author(author, target, action, note)
    status = (
        ReportStatus.DISMISSED
        if action == ModerationAction.DISMISS
        else ReportStatus.RESOLVED
    )
    audit_record(
        action=AuditAction.REPORT_RESOLVED,
        actor=staff,
        target=report,
        details={
            "action": action,
            "target_type": report.target_type,
            "target_id": getattr(target, "pk", None),
            "reports_closed": len({*same, report.pk}),
        },
    )
    return Report.objects.filter(pk__in={*same, report.pk}).update(
        status=status,
        action=action,
        staff_note=note,
        resolved_by=staff,
        resolved_at=timezone.now(),
    )
