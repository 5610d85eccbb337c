"""The conversation around agents and workflows: ratings with reviews,
threaded comments and reactions — the writes (services) and the reads
(selectors) in one place. Each function takes ``agent=`` or ``workflow=``
(the *target*); both keep the same counts and have the same page.

Every write runs in a transaction, checks who may do it, and keeps the
target's counts (``rating_count``, ``rating_sum``) right with F() so pages
never aggregate. Comment and review text is markdown, shown sanitized
(config.markdown); nothing a person types is ever rendered raw.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent, Visibility
from community import page_cache
from community.models import (
    REACTIONS,
    Comment,
    NotificationKind,
    Rating,
    Reaction,
    User,
)
from community.services import notify
from config import throttles
from config.markdown import render_markdown
from workflows.models import Workflow

MAX_TEXT = 5000


def _require_active(user: User) -> None:
    if not user.is_active or user.is_suspended or user.is_hidden:
        raise PermissionDenied(
            _("Your account is suspended: you cannot post, rate or react.")
        )


def _target(agent=None, workflow=None):
    """The agent or the workflow a call is about: exactly one of them."""
    if (agent is None) == (workflow is None):
        raise ValueError("Give an agent or a workflow.")
    return agent if agent is not None else workflow


def _is_workflow(target) -> bool:
    return isinstance(target, Workflow)


def _where(target) -> dict:
    """The lookup that selects the target's ratings, comments, reactions."""
    return {"workflow": target} if _is_workflow(target) else {"agent": target}


def _require_shared(target) -> None:
    if target.visibility == Visibility.PRIVATE or getattr(
        target, "is_playground", False
    ):
        message = (
            _("Private workflows have no ratings or comments.")
            if _is_workflow(target)
            else _("Private agents have no ratings or comments.")
        )
        raise ValidationError({"non_field_errors": [message]})


def _lock(target) -> None:
    """Lock the target's row: its counts move with its ratings."""
    type(target).objects.select_for_update().filter(pk=target.pk).first()


def _counts(target):
    return type(target).objects.filter(pk=target.pk)


def _data(target, **more) -> dict:
    key = "workflow" if _is_workflow(target) else "agent"
    return {key: target.pk, **more}


def _clean_text(value, *, field: str, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("This must be text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("Write something first.")]})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {field: [_("At most %(n)d characters.") % {"n": MAX_TEXT}]}
        )
    return value


# --- ratings -----------------------------------------------------------------


def _clean_stars(value) -> int:
    try:
        stars = int(value)
    except (TypeError, ValueError):
        stars = 0
    if str(value).strip() != str(stars) or not 1 <= stars <= 5:
        raise ValidationError({"stars": [_("Give 1 to 5 stars.")]})
    return stars


@transaction.atomic
def rating_save(
    *, user: User, stars, review: str = "", agent=None, workflow=None
) -> Rating:
    """Rate an agent or a workflow (1 to 5 stars, an optional review); rating
    it again edits the same rating. Not your own, not a private one."""
    target = _target(agent, workflow)
    _require_active(user)
    _require_shared(target)
    if target.owner_id == user.pk:
        message = (
            _("You cannot rate your own workflow.")
            if _is_workflow(target)
            else _("You cannot rate your own agent.")
        )
        raise ValidationError({"stars": [message]})
    stars = _clean_stars(stars)
    review = _clean_text(review, field="review", required=False)
    _lock(target)
    rating = Rating.objects.filter(**_where(target), user=user).first()
    if rating is None:
        rating = Rating.objects.create(
            **_where(target),
            user=user,
            stars=stars,
            review=review,
            review_html=render_markdown(review),
        )
        if not rating.is_hidden:
            _counts(target).update(
                rating_count=F("rating_count") + 1, rating_sum=F("rating_sum") + stars
            )
        notify(
            recipient=target.owner,
            kind=NotificationKind.RATING,
            actor=user,
            text=_("%(user)s rated %(agent)s %(stars)d★")
            % {"user": user.username, "agent": target.name, "stars": stars},
            url=target.get_listing_url() + "#reviews",
            data=_data(target, stars=stars),
        )
        return rating
    delta = stars - rating.stars
    rating.stars, rating.review = stars, review
    rating.review_html = render_markdown(review)
    rating.save(update_fields=["stars", "review", "review_html", "updated_at"])
    if delta and not rating.is_hidden:
        _counts(target).update(rating_sum=F("rating_sum") + delta)
    return rating


@transaction.atomic
def rating_delete(*, rating: Rating, user: User) -> None:
    if rating.user_id != user.pk:
        raise PermissionDenied(_("Only its author can delete a rating."))
    target = rating.target
    _lock(target)
    if not rating.is_hidden:
        _counts(target).update(
            rating_count=F("rating_count") - 1,
            rating_sum=F("rating_sum") - rating.stars,
        )
    rating.delete()


@transaction.atomic
def rating_set_hidden(*, rating: Rating, hidden: bool) -> Rating:
    """Staff hide a rating (moderation): it leaves the pages and the counts."""
    target = rating.target
    _lock(target)
    rating = Rating.objects.select_for_update().get(pk=rating.pk)
    if rating.is_hidden == hidden:
        return rating
    sign = -1 if hidden else 1
    _counts(target).update(
        rating_count=F("rating_count") + sign,
        rating_sum=F("rating_sum") + sign * rating.stars,
    )
    rating.is_hidden = hidden
    rating.save(update_fields=["is_hidden"])
    return rating


def rating_list(*, agent=None, workflow=None) -> QuerySet[Rating]:
    return (
        Rating.objects.filter(
            **_where(_target(agent, workflow)), is_hidden=False, user__is_hidden=False
        )
        .select_related("user")
        .order_by("-updated_at", "-pk")
    )


def rating_distribution(*, agent=None, workflow=None) -> list[dict]:
    """How many ratings of each star, 5 down to 1, with their share (one
    query, over the target's ratings only)."""
    counts = dict(
        Rating.objects.filter(**_where(_target(agent, workflow)), is_hidden=False)
        .values_list("stars")
        .annotate(n=Count("pk"))
        .values_list("stars", "n")
    )
    total = sum(counts.values())
    return [
        {
            "stars": stars,
            "count": counts.get(stars, 0),
            "percent": round(100 * counts.get(stars, 0) / total) if total else 0,
        }
        for stars in range(5, 0, -1)
    ]


# --- comments ----------------------------------------------------------------


@transaction.atomic
def comment_create(
    *,
    user: User,
    body: str,
    parent: Comment | None = None,
    agent=None,
    workflow=None,
) -> Comment:
    """A comment on an agent or a workflow, or a reply to one (one level: a
    reply to a reply joins its thread). Rate-limited (RATE_LIMIT_COMMENTS)."""
    target = _target(agent, workflow)
    _require_active(user)
    _require_shared(target)
    body = _clean_text(body, field="body", required=True)
    if parent is not None:
        if not _same(parent.target, target) or parent.is_hidden or parent.deleted_at:
            raise ValidationError({"parent": [_("That comment cannot be replied to.")]})
        parent = parent.parent or parent
    # Per person (or API key), RATE_LIMIT_COMMENTS: 429 with Retry-After.
    throttles.check(user=user, action="comment")
    comment = Comment.objects.create(
        **_where(target),
        author=user,
        body=body,
        body_html=render_markdown(body),
        parent=parent,
    )
    url = f"{target.get_listing_url()}#comment-{comment.pk}"
    notify(
        recipient=target.owner,
        kind=NotificationKind.COMMENT,
        actor=user,
        text=_("%(user)s commented on %(agent)s")
        % {"user": user.username, "agent": target.name},
        url=url,
        data=_data(target, comment=comment.pk),
    )
    if parent is not None and parent.author_id != target.owner_id:
        notify(
            recipient=parent.author,
            kind=NotificationKind.REPLY,
            actor=user,
            text=_("%(user)s replied to your comment on %(agent)s")
            % {"user": user.username, "agent": target.name},
            url=url,
            data=_data(target, comment=comment.pk),
        )
    return comment


def _same(first, second) -> bool:
    return type(first) is type(second) and first.pk == second.pk


@transaction.atomic
def comment_edit(*, comment: Comment, user: User, body: str) -> Comment:
    if comment.author_id != user.pk or comment.deleted_at:
        raise PermissionDenied(_("Only its author can edit a comment."))
    comment.body = _clean_text(body, field="body", required=True)
    comment.body_html = render_markdown(comment.body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "body_html", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, user: User) -> None:
    """The author deletes their comment. One with replies stays as
    "deleted" so the thread still reads; its text is gone either way."""
    if comment.author_id != user.pk:
        raise PermissionDenied(_("Only its author can delete a comment."))
    comment_remove(comment=comment)


def comment_remove(*, comment: Comment) -> None:
    """Delete a comment; one with replies stays, empty, as "deleted" so its
    thread still reads. Callers check who may."""
    if comment.replies.exists():
        comment.body = comment.body_html = ""
        comment.deleted_at = timezone.now()
        comment.save(update_fields=["body", "body_html", "deleted_at"])
    else:
        comment.delete()


@transaction.atomic
def comment_set_hidden(*, comment: Comment, user: User, hidden: bool) -> Comment:
    """The agent's (or workflow's) owner, or staff, hides a comment on it: it
    disappears from every public page and the API."""
    if not (user.is_staff or comment.target.owner_id == user.pk):
        raise PermissionDenied(_("Only the owner can hide its comments."))
    if comment.hidden_by_staff and not user.is_staff:
        raise PermissionDenied(_("The moderators hid this comment."))
    comment.is_hidden = hidden
    comment.save(update_fields=["is_hidden"])
    return comment


def comment_visible_q(prefix: str = "") -> Q:
    """Comments anyone may see: not hidden (by the owner or staff), on an
    agent or workflow not hidden, by an author not hidden."""
    shown = Q(**{f"{prefix}is_hidden": False, f"{prefix}author__is_hidden": False})
    on_agent = Q(
        **{
            f"{prefix}agent__is_hidden": False,
            f"{prefix}agent__owner__is_hidden": False,
        }
    )
    on_workflow = Q(
        **{
            f"{prefix}workflow__is_hidden": False,
            f"{prefix}workflow__owner__is_hidden": False,
        }
    )
    return shown & (on_agent | on_workflow)


def comment_threads(*, agent=None, workflow=None, user=None) -> QuerySet[Comment]:
    """Top-level visible comments, newest first, each with its visible
    replies (oldest first) and everyone's reactions, in a fixed number of
    queries however many there are."""
    # The agent is the caller's, already checked: only the comments' own
    # flags and their authors' are left to filter on.
    visible = Q(is_hidden=False, author__is_hidden=False)
    replies = (
        Comment.objects.filter(visible)
        .select_related("author")
        .prefetch_related("reactions")
        .order_by("created_at", "pk")
    )
    return (
        Comment.objects.filter(
            visible, **_where(_target(agent, workflow)), parent__isnull=True
        )
        .select_related("author")
        .prefetch_related(Prefetch("replies", queryset=replies), "reactions")
        .order_by("-created_at", "-pk")
    )


def comment_threads_fingerprint(*, agent=None, workflow=None) -> str:
    """A digest of what the target's comment threads show a visitor, in one
    query over the target's comments: their count and newest id (a new
    comment or reply, a removed one), the latest edit and deletion (each sets
    its time to now), which are hidden (by the owner, staff, or with their
    author), the authors' names, and the count and newest id of their
    reactions (a reaction is toggled by deleting or adding a row). Any of
    those changing changes the digest, so a rendering cached under it is
    never stale."""
    target = _target(agent, workflow)
    column = "workflow_id" if _is_workflow(target) else "agent_id"
    comments, users, reactions = (
        Comment._meta.db_table,
        User._meta.db_table,
        Reaction._meta.db_table,
    )
    sql = f"""
        SELECT COUNT(*), MAX(c.id), MAX(c.edited_at), MAX(c.deleted_at),
               md5(COALESCE(string_agg(c.id::text, ',' ORDER BY c.id)
                   FILTER (WHERE c.is_hidden OR u.is_hidden), '')),
               md5(COALESCE(string_agg(DISTINCT u.username, ','), '')),
               (SELECT concat_ws('/', COUNT(*), MAX(r.id))
                FROM {reactions} AS r JOIN {comments} AS rc ON rc.id = r.comment_id
                WHERE rc.{column} = %s)
        FROM {comments} AS c JOIN {users} AS u ON u.id = c.author_id
        WHERE c.{column} = %s
    """  # noqa: S608 (table and column names from the models; values are parameters)
    row = page_cache.prepared_row(sql, [target.pk, target.pk])
    return "-".join(str(value) for value in row)


# --- reactions ---------------------------------------------------------------


@transaction.atomic
def reaction_toggle(
    *,
    user: User,
    emoji: str,
    agent: Agent | None = None,
    comment: Comment | None = None,
    workflow=None,
) -> bool:
    """Add the reaction (to an agent, a workflow or a comment), or take it
    back if it is there. Returns whether it is on now."""
    _require_active(user)
    if emoji not in REACTIONS:
        raise ValidationError(
            {"emoji": [_("React with one of: %(set)s.") % {"set": " ".join(REACTIONS)}]}
        )
    given = {
        key: value
        for key, value in (
            ("agent", agent),
            ("comment", comment),
            ("workflow", workflow),
        )
        if value is not None
    }
    if len(given) != 1:
        raise ValidationError(
            {"non_field_errors": [_("React to an agent, a workflow or a comment.")]}
        )
    _require_shared(comment.target if comment is not None else agent or workflow)
    target = given
    deleted, _counts = Reaction.objects.filter(
        user=user, emoji=emoji, **target
    ).delete()
    if deleted:
        return False
    Reaction.objects.create(user=user, emoji=emoji, **target)
    return True


def reaction_summary(reactions, *, user=None) -> list[dict]:
    """Counts per emoji (in the fixed order) and whether ``user`` reacted,
    from already-loaded reactions."""
    counts = dict.fromkeys(REACTIONS, 0)
    mine = set()
    for reaction in reactions:
        counts[reaction.emoji] += 1
        if user is not None and reaction.user_id == getattr(user, "pk", None):
            mine.add(reaction.emoji)
    return [
        {"emoji": emoji, "count": counts[emoji], "mine": emoji in mine}
        for emoji in REACTIONS
    ]
