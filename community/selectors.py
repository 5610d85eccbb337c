"""Reads for accounts, API keys, profiles, follows and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from agents.models import Agent, Run, Visibility
from community.models import Follow, Notification, PersonalApiKey, Profile, User
from config.sqlonce import CompiledQuery, RelatedColumns
from files.models import Attachment


def api_key_list_for_user(*, user: User) -> QuerySet[PersonalApiKey]:
    return PersonalApiKey.objects.filter(user=user).order_by("revoked", "-created")


def api_key_get_for_user(*, user: User, prefix: str) -> PersonalApiKey | None:
    return PersonalApiKey.objects.filter(user=user, prefix=prefix).first()


def api_key_get_usable(*, key: str) -> PersonalApiKey | None:
    """The active, unexpired key matching the presented secret, or None."""
    prefix, _, _ = key.partition(".")
    api_key = (
        PersonalApiKey.objects.select_related("user")
        .filter(prefix=prefix, revoked=False)
        .first()
    )
    if api_key is None or not api_key.is_valid(key):
        return None
    if api_key.has_expired or not api_key.user.is_active:
        return None
    return api_key


def api_key_is_usable(*, api_key_id: int) -> bool:
    """Whether a key found usable earlier still is: not revoked, not expired,
    its owner active (what a websocket opened with it re-checks)."""
    return (
        PersonalApiKey.objects.filter(
            pk=api_key_id, revoked=False, user__is_active=True
        )
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=timezone.now()))
        .exists()
    )


# ---------- People ----------

PROFILE_AGENTS_SHOWN = 30


def user_get_public(*, username: str) -> User | None:
    """An active account by username (any case), with its profile if it has
    one; None for unknown, deactivated or hidden (by moderators) accounts."""
    rows = _PUBLIC_USER.rows(username=username)
    return _USER_AND_PROFILE.instance(rows[0]) if rows else None


# As select_related("profile") reads them: without a profile, reading
# user.profile raises Profile.DoesNotExist.
_USER_AND_PROFILE = RelatedColumns(User, "profile")
# At most one row (usernames are unique ignoring case), so no ORDER BY:
# ordering makes Django hash every selected column of both tables. The SQL
# is built once per process (config.sqlonce): building it cost the profile
# page more CPU than running it.
_PUBLIC_USER = CompiledQuery(
    lambda username: (
        User.objects.filter(username__iexact=username, is_active=True, is_hidden=False)
        .order_by()
        .values_list(*_USER_AND_PROFILE.names)[:1]
    ),
    username="\x00username\x00",
)


def profile_of(user: User) -> Profile:
    """The user's profile, or an unsaved one with the defaults (profiles are
    made on first write, so reading one never writes)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)


def agent_list_published(*, owner: User) -> QuerySet:
    """The agents ``owner`` has published (public), newest change first."""
    from agents.models import Agent
    from agents.selectors import agent_published_q

    return Agent.objects.filter(agent_published_q(), owner=owner).order_by(
        "-updated_at", "-id"
    )


def author_stats(*, owner: User) -> dict:
    """Runs of ``owner``'s published agents and their average rating (one
    query over the agents' kept counts)."""
    from django.db.models import Sum

    totals = agent_list_published(owner=owner).aggregate(
        runs=Sum("run_count"), stars=Sum("rating_sum"), ratings=Sum("rating_count")
    )
    ratings = totals["ratings"] or 0
    return {
        "runs": totals["runs"] or 0,
        "ratings": ratings,
        "rating_average": round(totals["stars"] / ratings, 2) if ratings else None,
    }


def author_page(*, owner: User) -> tuple[list[AuthorAgent], dict]:
    """The first PROFILE_AGENTS_SHOWN + 1 of ``owner``'s published agents
    (pk, slug, name, description) and author_stats(owner=owner), in one
    query: the totals are window sums over every published agent, computed
    before the LIMIT. A second query (the aggregate) cost the profile page
    about a fifth of its CPU, and building this one more than running it,
    so its SQL is built once per process (config.sqlonce). With no
    published agent there is no row, and the totals are those of an empty
    aggregate."""
    rows = _AUTHOR_PAGE.rows(owner_id=owner.pk)
    shown = [AuthorAgent(*row[:4]) for row in rows]
    runs, stars, ratings = rows[0][4:] if rows else (0, 0, 0)
    ratings = ratings or 0
    stats = {
        "runs": runs or 0,
        "ratings": ratings,
        "rating_average": round(stars / ratings, 2) if ratings else None,
    }
    return shown, stats


@dataclass
class AuthorAgent:
    """One of an author's published agents as their profile lists it."""

    pk: int
    slug: str
    name: str
    description: str
    summary: str = ""


def _author_page_query(owner_id: int, limit: int) -> QuerySet:
    from django.db.models import Sum, Window

    return (
        agent_list_published(owner=owner_id)
        .annotate(
            total_runs=Window(Sum("run_count")),
            total_stars=Window(Sum("rating_sum")),
            total_ratings=Window(Sum("rating_count")),
        )
        .values_list(
            "pk",
            "slug",
            "name",
            "description",
            "total_runs",
            "total_stars",
            "total_ratings",
        )[:limit]
    )


_AUTHOR_PAGE = CompiledQuery(
    lambda owner_id: _author_page_query(owner_id, PROFILE_AGENTS_SHOWN + 1),
    owner_id=-730_117,
)


# ---------- Home ----------

# A sign-in this long after joining is a return visit (signing up signs in).
RETURNING_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class HomeChecklist:
    """The four first steps on the home page, each done or not from the
    person's own data, and what they would say "welcome back" for."""

    display_name: str
    built: bool  # an agent of their own
    ran: bool  # a run of anything
    gave_file: bool  # a file or collection attached to one of their agents
    published: bool  # one of their agents public
    # Their most recently changed agent: where the next steps are done.
    agent_id: int | None
    returning: bool

    @property
    def complete(self) -> bool:
        return self.built and self.ran and self.gave_file and self.published

    @property
    def done_count(self) -> int:
        return sum((self.built, self.ran, self.gave_file, self.published))


def home_checklist(*, user: User) -> HomeChecklist:
    """The home page's checklist for ``user``, in one query whatever they own."""
    own_agents = Agent.objects.filter(owner=OuterRef("pk"), is_playground=False)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            built=Exists(own_agents),
            ran=Exists(Run.objects.filter(owner=OuterRef("pk"))),
            gave_file=Exists(
                Attachment.objects.filter(
                    agent__owner=OuterRef("pk"), agent__is_playground=False
                )
            ),
            published=Exists(own_agents.filter(visibility=Visibility.PUBLIC)),
            latest_agent=Subquery(
                own_agents.order_by("-updated_at", "-pk").values("pk")[:1]
            ),
            display_name=Subquery(
                Profile.objects.filter(user=OuterRef("pk")).values("display_name")[:1]
            ),
        )
        .values(
            "built",
            "ran",
            "gave_file",
            "published",
            "latest_agent",
            "display_name",
            "date_joined",
            "last_login",
        )
        .get()
    )
    signed_in_again = bool(
        row["last_login"] and row["last_login"] - row["date_joined"] > RETURNING_AFTER
    )
    return HomeChecklist(
        display_name=row["display_name"] or user.username,
        built=row["built"],
        ran=row["ran"],
        gave_file=row["gave_file"],
        published=row["published"],
        agent_id=row["latest_agent"],
        returning=signed_in_again or row["built"] or row["ran"],
    )


def is_following(*, follower: User, followee: User) -> bool:
    if not follower.is_authenticated or follower.pk == followee.pk:
        return False
    return Follow.objects.filter(follower=follower, followee=followee).exists()


def follower_list(*, user: User) -> QuerySet[User]:
    """Active people following ``user``, most recent follow first."""
    return (
        User.objects.filter(
            following_set__followee=user, is_active=True, is_hidden=False
        )
        .select_related("profile")
        .order_by("-following_set__created_at", "-id")
    )


def following_list(*, user: User) -> QuerySet[User]:
    """Active people ``user`` follows, most recent follow first."""
    return (
        User.objects.filter(
            follower_set__follower=user, is_active=True, is_hidden=False
        )
        .select_related("profile")
        .order_by("-follower_set__created_at", "-id")
    )


def feed_agents(*, user: User) -> QuerySet:
    """Public agents of the people ``user`` follows, newest change first."""
    from agents.models import Agent
    from agents.selectors import agent_published_q

    followed = Follow.objects.filter(follower=user).values("followee_id")
    return (
        Agent.objects.filter(agent_published_q(), owner__in=followed)
        .select_related("owner", "owner__profile")
        .order_by("-updated_at", "-id")
    )


# ---------- Notifications ----------


def notification_list(
    *, user: User, unread_only: bool = False
) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_get_for_user(*, user: User, notification_id) -> Notification | None:
    try:
        notification_id = int(notification_id)
    except (TypeError, ValueError):
        return None
    return Notification.objects.filter(pk=notification_id, recipient=user).first()


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
