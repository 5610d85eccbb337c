"""Demo community for `make run` (loaded by seed_demo after the agents):
profiles, follows, ratings with reviews, comments and reactions on the
published demo agents, so Discover and agents' pages look lived in."""

from __future__ import annotations

from django.db import transaction

from agents.models import Agent
from community import moderation, reviews, selectors, services
from community.models import Comment, Follow, Rating, Report

PROFILES = {
    "alice": ("Alice Martin", "Maths teacher. I build small agents for my class."),
    "bob": ("Bob Okafor", "Backend developer; reviews code for a living."),
    "carol": ("Carol Diaz", "Poet and product manager."),
    "dan": ("Dan Kim", "Student. Mostly here for the quizzes."),
}
FOLLOWS = [("carol", "alice"), ("dan", "alice"), ("dan", "bob"), ("alice", "bob")]
# (rater, owner/slug, stars, review)
RATINGS = [
    ("bob", "alice/arithmetic-tutor", 5, "Shows its working every time."),
    ("carol", "alice/arithmetic-tutor", 4, "Great for homework checks."),
    ("dan", "alice/arithmetic-tutor", 5, ""),
    ("carol", "alice/haiku-poet", 5, "Better than my first drafts, honestly."),
    ("dan", "alice/haiku-poet", 3, "Fun, though the syllables slip sometimes."),
    ("alice", "bob/code-reviewer", 4, "Caught a real off-by-one in my script."),
    ("carol", "bob/meeting-summarizer", 4, "Action items with owners: exactly right."),
    ("dan", "alice/trivia-host", 5, "We played it for an hour."),
    ("bob", "alice/world-clock", 4, ""),
]
# (author, owner/slug, body, reply (author, body) or None)
COMMENTS = [
    (
        "carol",
        "alice/haiku-poet",
        "Could it also write **tanka** (5-7-5-7-7)?",
        ("alice", "Not yet: fork it and change the instructions!"),
    ),
    (
        "dan",
        "alice/arithmetic-tutor",
        "Does it handle percentages? *12.5% of 640* worked for me.",
        ("bob", "It does: the calculator takes any expression."),
    ),
    ("alice", "bob/code-reviewer", "Tip: paste the test too, it reads both.", None),
]

# An open report, so staff find something in the moderation queue:
# (reporter, owner/slug, author of the reported comment, reason, details).
REPORTS = [
    (
        "carol",
        "alice/arithmetic-tutor",
        "dan",
        "other",
        "Is using it for graded homework within the rules?",
    ),
]


def _agent(reference: str) -> Agent | None:
    username, _slash, slug = reference.partition("/")
    return Agent.objects.filter(owner__username=username, slug=slug).first()


@transaction.atomic
def demo_community_ensure(users_by_name: dict) -> int:
    """Add what is missing; returns how many things were added."""
    added = 0
    for username, (name, bio) in PROFILES.items():
        user = users_by_name.get(username)
        if user is not None and not selectors.profile_of(user).bio:
            services.profile_update(user=user, display_name=name, bio=bio)
            added += 1
    for follower, followee in FOLLOWS:
        a, b = users_by_name.get(follower), users_by_name.get(followee)
        if a and b and not Follow.objects.filter(follower=a, followee=b).exists():
            services.follow_create(follower=a, followee=b)
            added += 1
    for rater, reference, stars, review in RATINGS:
        agent, user = _agent(reference), users_by_name.get(rater)
        if (
            agent
            and user
            and not Rating.objects.filter(agent=agent, user=user).exists()
        ):
            reviews.rating_save(agent=agent, user=user, stars=stars, review=review)
            added += 1
    for author, reference, body, reply in COMMENTS:
        agent, user = _agent(reference), users_by_name.get(author)
        if (
            not agent
            or not user
            or Comment.objects.filter(agent=agent, body=body).exists()
        ):
            continue
        comment = reviews.comment_create(agent=agent, user=user, body=body)
        if reply:
            reviews.comment_create(
                agent=agent, user=users_by_name[reply[0]], body=reply[1], parent=comment
            )
        reviews.reaction_toggle(user=users_by_name["bob"], emoji="👍", comment=comment)
        added += 1
    for reporter, reference, author, reason, details in REPORTS:
        agent, user = _agent(reference), users_by_name.get(reporter)
        comment = Comment.objects.filter(
            agent=agent, author__username=author, parent__isnull=True
        ).first()
        if comment and user and not Report.objects.filter(reporter=user).exists():
            moderation.report_create(
                reporter=user,
                target_type="comment",
                target_id=comment.pk,
                reason=reason,
                details=details,
            )
            added += 1
    return added
