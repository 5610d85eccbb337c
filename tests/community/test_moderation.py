"""Reports and moderation: who may report what, the staff queue's actions,
hidden things gone from every public page and the API, suspended people
unable to publish, comment, rate, react, report or message."""

from __future__ import annotations

import pytest
from django.test import Client

from agents import services as agent_services
from community import moderation, reviews
from community.messaging import message_send
from community.models import (
    Comment,
    Notification,
    Rating,
    Report,
    ReportStatus,
    User,
)
from tests.agents.factories import make_agent
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    made = make_agent(name="Poet", description="Writes poems")
    return agent_services.agent_update(
        agent=made, user=made.owner, data={"visibility": "public"}
    )


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def comment(agent):
    return reviews.comment_create(
        agent=agent, user=UserFactory(username="troll"), body="Buy cheap pills"
    )


def report(as_user, reporter, target_type, target_id, **extra):
    return as_user(reporter).post(
        "/api/v1/reports/",
        {
            "target_type": target_type,
            "target_id": target_id,
            "reason": "spam",
            **extra,
        },
        format="json",
    )


# --- reporting ---------------------------------------------------------------


def test_anyone_signed_in_reports_an_agent_a_comment_or_a_person(
    agent, comment, as_user
):
    reporter = UserFactory()
    for target_type, target_id in [
        ("agent", agent.pk),
        ("comment", comment.pk),
        ("user", comment.author.pk),
    ]:
        response = report(as_user, reporter, target_type, target_id, details="bad")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["target_type"], body["target_id"]) == (target_type, target_id)
        assert body["status"] == "open"
    mine = as_user(reporter).get("/api/v1/reports/").json()
    assert mine["count"] == 3
    # What was reported is kept as it was then.
    assert Report.objects.get(comment=comment).snapshot == "Buy cheap pills"


def test_reporting_signed_out_is_refused(agent, api_client):
    response = api_client.post(
        "/api/v1/reports/",
        {"target_type": "agent", "target_id": agent.pk, "reason": "spam"},
        format="json",
    )
    assert response.status_code in (401, 403)
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target_type": "planet", "target_id": 1, "reason": "spam"}, "target_type"),
        ({"target_type": "agent", "target_id": "x", "reason": "spam"}, "target_id"),
        ({"target_type": "agent", "target_id": 1, "reason": "boring"}, "reason"),
        (
            {"target_type": "agent", "target_id": 1, "reason": "spam", "details": []},
            "details",
        ),
        (
            {
                "target_type": "agent",
                "target_id": 1,
                "reason": "spam",
                "details": "x" * 2001,
            },
            "details",
        ),
    ],
)
def test_bad_reports_are_field_errors(agent, as_user, payload, field):
    response = as_user(UserFactory()).post("/api/v1/reports/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


def test_what_the_reporter_cannot_see_cannot_be_reported(as_user):
    private = make_agent(name="Secret")
    hidden_comment_agent = make_agent(name="Mine")
    response = report(as_user, UserFactory(), "agent", private.pk)
    assert response.status_code == 400
    assert "target_id" in response.json()
    assert report(as_user, UserFactory(), "agent", 999999).status_code == 400
    assert hidden_comment_agent.pk != private.pk


def test_not_your_own_things_and_not_twice(agent, comment, as_user):
    assert report(as_user, agent.owner, "agent", agent.pk).status_code == 400
    assert report(as_user, comment.author, "comment", comment.pk).status_code == 400
    assert report(as_user, agent.owner, "user", agent.owner.pk).status_code == 400
    reporter = UserFactory()
    assert report(as_user, reporter, "agent", agent.pk).status_code == 201
    again = report(as_user, reporter, "agent", agent.pk)
    assert again.status_code == 400
    assert "already" in again.json()["non_field_errors"][0]
    assert Report.objects.count() == 1


def test_report_floods_are_limited(agent, as_user, monkeypatch):
    monkeypatch.setattr(moderation, "REPORT_RATE", 2)
    reporter = UserFactory()
    others = [UserFactory() for _ in range(3)]
    assert report(as_user, reporter, "user", others[0].pk).status_code == 201
    assert report(as_user, reporter, "user", others[1].pk).status_code == 201
    third = report(as_user, reporter, "user", others[2].pk)
    assert third.status_code == 400
    assert Report.objects.count() == 2


def test_the_report_page_sends_a_report_and_goes_back(agent, comment, client):
    reporter = UserFactory()
    client.force_login(reporter)
    url = f"/report/comment/{comment.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert b"Buy cheap pills" in page.content

    missing = client.post(url, {"details": "no reason"})
    assert missing.status_code == 400
    assert not Report.objects.exists()

    sent = client.post(url, {"reason": "spam", "next": "https://evil.example/"})
    assert sent.status_code == 302
    # Never off-site: back to the comment on the agent's page.
    assert sent["Location"] == f"{agent.get_listing_url()}#comment-{comment.pk}"
    assert Report.objects.filter(reporter=reporter, comment=comment).exists()

    twice = client.post(url, {"reason": "spam"})
    assert twice.status_code == 400
    assert b"already" in twice.content
    assert client.get("/report/agent/999999/").status_code == 404


# --- staff act on reports ----------------------------------------------------


def test_hiding_a_reported_comment_closes_every_report_on_it(
    agent, comment, as_user, staff, client
):
    first, second = UserFactory(), UserFactory()
    report(as_user, first, "comment", comment.pk)
    report(as_user, second, "comment", comment.pk)
    closed = moderation.report_resolve(
        report=Report.objects.first(), staff=staff, action="hide"
    )
    assert closed == 2
    assert set(Report.objects.values_list("status", "action")) == {
        (ReportStatus.RESOLVED, "hide")
    }
    comment.refresh_from_db()
    assert comment.is_hidden
    assert comment.hidden_by_staff
    # Gone from the page and the API.
    page = Client().get(agent.get_listing_url())
    assert b"Buy cheap pills" not in page.content
    listed = Client().get(f"/api/v1/agents/{agent.pk}/comments/").json()
    assert listed["count"] == 0
    reacted = as_user(UserFactory()).post(
        f"/api/v1/comments/{comment.pk}/reactions/", {"emoji": "👍"}, format="json"
    )
    assert reacted.status_code == 404
    # The agent's owner cannot show it again.
    with pytest.raises(reviews.PermissionDenied):
        reviews.comment_set_hidden(comment=comment, user=agent.owner, hidden=False)
    # The author was told.
    notice = Notification.objects.get(recipient=comment.author, kind="moderation")
    assert "hid your comment" in notice.text


def test_warning_tells_the_author_with_the_note_and_keeps_the_content(
    agent, comment, as_user, staff
):
    report(as_user, UserFactory(), "comment", comment.pk)
    moderation.report_resolve(
        report=Report.objects.get(),
        staff=staff,
        action="warn",
        note="No advertising, please.",
    )
    comment.refresh_from_db()
    assert not comment.is_hidden
    notice = Notification.objects.get(recipient=comment.author, kind="moderation")
    assert "warning" in notice.text
    assert "No advertising" in notice.text


def test_deleting_a_reported_agent(agent, as_user, staff):
    report(as_user, UserFactory(), "agent", agent.pk)
    the_report = Report.objects.get()
    assert (
        moderation.report_resolve(report=the_report, staff=staff, action="delete") == 1
    )
    assert not type(agent).objects.filter(pk=agent.pk).exists()
    the_report.refresh_from_db()
    assert the_report.status == ReportStatus.RESOLVED
    assert the_report.target is None


def test_suspending_a_reported_person_also_hides_them(as_user, staff):
    person = UserFactory(username="impostor")
    report(as_user, UserFactory(), "user", person.pk)
    moderation.report_resolve(
        report=Report.objects.get(), staff=staff, action="suspend"
    )
    person.refresh_from_db()
    assert person.is_suspended
    assert person.is_hidden
    assert Client().get("/u/impostor/").status_code == 404


def test_people_are_not_deleted_from_the_queue(agent, as_user, staff):
    person = UserFactory()
    report(as_user, UserFactory(), "user", person.pk)
    with pytest.raises(moderation.ValidationError):
        moderation.report_resolve(
            report=Report.objects.get(), staff=staff, action="delete"
        )
    assert User.objects.filter(pk=person.pk).exists()
    assert Report.objects.get().status == ReportStatus.OPEN


def test_only_staff_resolve_and_a_closed_report_stays_closed(agent, as_user, staff):
    report(as_user, UserFactory(), "agent", agent.pk)
    the_report = Report.objects.get()
    with pytest.raises(moderation.PermissionDenied):
        moderation.report_resolve(report=the_report, staff=UserFactory(), action="hide")
    assert (
        moderation.report_resolve(report=the_report, staff=staff, action="dismiss") == 1
    )
    assert moderation.report_resolve(report=the_report, staff=staff, action="hide") == 0
    agent.refresh_from_db()
    assert not agent.is_hidden


def test_a_hidden_agent_is_gone_for_everyone_but_its_owner(agent, as_user, staff):
    moderation.agent_set_hidden(agent=agent, hidden=True)
    visitor = Client()
    assert visitor.get(agent.get_listing_url()).status_code == 404
    assert agent.name.encode() not in visitor.get("/discover/").content
    api = visitor.get("/api/v1/community/agents/").json()
    assert all(item["id"] != agent.pk for item in api["results"])
    stranger = UserFactory()
    assert as_user(stranger).get(f"/api/v1/agents/{agent.pk}/").status_code == 404
    fork = as_user(stranger).post(f"/api/v1/agents/{agent.pk}/clone/")
    assert fork.status_code == 404
    assert (
        as_user(stranger)
        .post(f"/api/v1/agents/{agent.pk}/run/", {"input": "hi"}, format="json")
        .status_code
        == 404
    )
    profile = visitor.get(agent.owner.get_absolute_url())
    assert agent.name.encode() not in profile.content
    # Its owner still has it, marked hidden.
    owner = Client()
    owner.force_login(agent.owner)
    page = owner.get(f"/agents/{agent.pk}/")
    assert page.status_code == 200
    assert b"hidden-notice" in page.content
    assert as_user(agent.owner).get(f"/api/v1/agents/{agent.pk}/").status_code == 200


def test_a_hidden_person_and_all_they_wrote_disappear_and_come_back(agent, as_user):
    person = UserFactory(username="spammer")
    theirs = agent_services.agent_update(
        agent=make_agent(owner=person, name="Spam bot"),
        user=person,
        data={"visibility": "public"},
    )
    reviews.rating_save(agent=agent, user=person, stars=1, review="Awful spam")
    reviews.comment_create(agent=agent, user=person, body="Visit my site")
    agent.refresh_from_db()
    assert (agent.rating_count, agent.rating_sum) == (1, 1)

    moderation.user_set_hidden(user=person, hidden=True)
    visitor = Client()
    assert visitor.get("/u/spammer/").status_code == 404
    assert visitor.get("/api/v1/users/spammer/").status_code == 404
    assert visitor.get(theirs.get_listing_url()).status_code == 404
    page = visitor.get(agent.get_listing_url()).content
    assert b"Visit my site" not in page
    assert b"Awful spam" not in page
    assert b"Spam bot" not in visitor.get("/discover/").content
    ratings = visitor.get(f"/api/v1/agents/{agent.pk}/ratings/").json()
    assert ratings["count"] == 0
    agent.refresh_from_db()
    assert (agent.rating_count, agent.rating_sum) == (0, 0)

    moderation.user_set_hidden(user=person, hidden=False)
    agent.refresh_from_db()
    assert (agent.rating_count, agent.rating_sum) == (1, 1)
    assert visitor.get("/u/spammer/").status_code == 200
    assert b"Visit my site" in visitor.get(agent.get_listing_url()).content


def test_suspending_hides_the_content_and_stops_the_author(
    agent, comment, as_user, staff
):
    report(as_user, UserFactory(), "comment", comment.pk)
    moderation.report_resolve(
        report=Report.objects.get(), staff=staff, action="suspend"
    )
    troll = User.objects.get(pk=comment.author.pk)
    assert troll.is_suspended
    comment.refresh_from_db()
    assert comment.is_hidden

    client = as_user(troll)
    commented = client.post(
        f"/api/v1/agents/{agent.pk}/comments/", {"body": "again"}, format="json"
    )
    assert commented.status_code == 403
    assert "suspended" in commented.json()["detail"]
    rated = client.post(
        f"/api/v1/agents/{agent.pk}/ratings/", {"stars": 1}, format="json"
    )
    assert rated.status_code == 403
    reacted = client.post(
        f"/api/v1/agents/{agent.pk}/reactions/", {"emoji": "👍"}, format="json"
    )
    assert reacted.status_code == 403
    assert report(as_user, troll, "agent", agent.pk).status_code == 403
    with pytest.raises(moderation.PermissionDenied):
        message_send(sender=troll, recipient=agent.owner, body="hello")

    theirs = make_agent(owner=troll, name="Troll bot")
    published = client.patch(
        f"/api/v1/agents/{theirs.pk}/", {"visibility": "public"}, format="json"
    )
    assert published.status_code == 400
    assert "suspended" in published.json()["visibility"][0]
    theirs.refresh_from_db()
    assert theirs.visibility == "private"
    assert Comment.objects.filter(author=troll).count() == 1
    assert not Rating.objects.filter(user=troll).exists()

    # Signed in, they see why.
    page = Client()
    page.force_login(troll)
    assert b"suspended-banner" in page.get("/agents/").content

    moderation.user_set_suspended(user=troll, suspended=False)
    troll.refresh_from_db()
    assert (
        as_user(troll)
        .patch(f"/api/v1/agents/{theirs.pk}/", {"visibility": "public"}, format="json")
        .status_code
        == 200
    )


# --- the admin queue -----------------------------------------------------------


def test_the_admin_queue_lists_open_reports_and_acts_on_them(
    agent, comment, as_user, staff, client
):
    report(as_user, UserFactory(), "comment", comment.pk)
    report(as_user, UserFactory(), "comment", comment.pk)
    report(as_user, UserFactory(), "agent", agent.pk)
    client.force_login(staff)
    queue = client.get("/admin/community/report/", follow=True)
    assert queue.status_code == 200
    assert queue.redirect_chain
    assert "status__exact=open" in queue.redirect_chain[0][0]
    assert b"Comment on Poet" in queue.content
    assert b"Agent: Poet" in queue.content

    one = Report.objects.filter(comment=comment).first()
    page = client.get(f"/admin/community/report/{one.pk}/change/")
    assert page.status_code == 200
    assert b'name="_hide"' in page.content
    acted = client.post(
        f"/admin/community/report/{one.pk}/change/",
        {"staff_note": "Spam is not allowed.", "_warn": "Warn"},
    )
    assert acted.status_code == 302
    assert Report.objects.filter(status="resolved", action="warn").count() == 2
    notice = Notification.objects.get(recipient=comment.author, kind="moderation")
    assert "Spam is not allowed." in notice.text

    agent_report = Report.objects.get(agent=agent)
    listed = client.post(
        "/admin/community/report/?status__exact=open",
        {"action": "hide_content", "_selected_action": [agent_report.pk]},
    )
    assert listed.status_code == 302
    agent.refresh_from_db()
    assert agent.is_hidden
    assert not Report.objects.filter(status="open").exists()


def test_staff_suspend_and_hide_people_from_the_user_admin(client, staff, agent):
    person = UserFactory()
    reviews.rating_save(agent=agent, user=person, stars=5)
    client.force_login(staff)
    for action in ("suspend", "hide"):
        response = client.post(
            "/admin/community/user/",
            {"action": action, "_selected_action": [person.pk]},
        )
        assert response.status_code == 302
    person.refresh_from_db()
    assert person.is_suspended
    assert person.is_hidden
    agent.refresh_from_db()
    assert agent.rating_count == 0
    # The flags are read-only on the form: the actions keep the counts right.
    page = client.get(f"/admin/community/user/{person.pk}/change/")
    assert b'name="is_hidden"' not in page.content
