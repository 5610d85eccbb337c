"""Notifications: notify(), the email, the API, the bell and its live count."""

import re

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from community import services, tasks
from community.emails import notification_email_send
from community.models import Notification, NotificationKind
from tests.community.factories import UserFactory
from tests.sockets import events_socket

XSS = '<script>alert("x")</script>'


@pytest.fixture
def pushed(monkeypatch):
    """Live events sent to users, as (user id, event)."""
    events = []
    monkeypatch.setattr(
        services,
        "user_event_push",
        lambda *, user_id, event: events.append((user_id, event)),
    )
    return events


@pytest.fixture
def queued(monkeypatch):
    """Ids of notifications whose email task was enqueued."""
    ids = []
    monkeypatch.setattr(tasks.notification_email_task, "delay", ids.append)
    return ids


def bell(html: str) -> tuple[str, bool]:
    """The bell badge's number and whether it is hidden."""
    tag, number = re.search(
        r'(<span id="notification-count"[^>]*>)(\d+)</span>', html
    ).groups()
    return number, " hidden" in tag


def note(recipient, text="Something happened.", **fields):
    fields.setdefault("kind", NotificationKind.COMMENT)
    return services.notify(recipient=recipient, text=text, **fields)


# ---------- notify() ----------


@pytest.mark.django_db
def test_notify_saves_then_pushes_the_count_and_queues_the_email_on_commit(
    django_capture_on_commit_callbacks, pushed, queued
):
    recipient, actor = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = note(
            recipient, actor=actor, url="/agents/1/", data={"agent_id": 1}
        )
    assert pushed == []
    assert queued == []
    for callback in callbacks:
        callback()
    assert notification.pk
    assert queued == [notification.pk]
    [(user_id, event)] = pushed
    assert user_id == recipient.pk
    assert event["type"] == "notifications"
    assert event["unread_count"] == 1
    assert event["notification"]["id"] == notification.pk


@pytest.mark.django_db
def test_nobody_is_notified_of_their_own_act(pushed, queued):
    user = UserFactory()
    assert note(user, actor=user) is None
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_no_email_is_queued_for_a_kind_the_recipient_turned_off(
    django_capture_on_commit_callbacks, pushed, queued
):
    recipient = UserFactory()
    services.profile_update(user=recipient, email_preferences={"comment": False})
    with django_capture_on_commit_callbacks(execute=True):
        note(recipient)
        note(recipient, kind=NotificationKind.LOW_BALANCE)  # off by default
    assert queued == []
    assert len(pushed) == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "gossip"},
        {"url": "https://evil.example/"},
        {"url": "//evil.example/"},
    ],
)
def test_notify_refuses_unknown_kinds_and_links_to_other_sites(fields):
    with pytest.raises(ValueError, match="notification"):
        note(UserFactory(), **fields)


@pytest.mark.django_db
def test_a_new_follower_is_notified_and_emailed(
    django_capture_on_commit_callbacks, pushed, monkeypatch
):
    monkeypatch.setattr(
        tasks.notification_email_task,
        "delay",
        lambda notification_id: notification_email_send(
            notification_id=notification_id
        ),
    )
    fan, star = UserFactory(username="fan"), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.follow_create(follower=fan, followee=star)
        services.follow_create(follower=fan, followee=star)  # again: no news
    notification = Notification.objects.get()
    assert notification.recipient == star
    assert notification.kind == "follow"
    assert notification.actor == fan
    assert notification.text == "fan started following you."
    assert notification.url == "/u/fan/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [star.email]
    assert "fan started following you." in mail.outbox[0].body
    assert "/u/fan/" in mail.outbox[0].body


# ---------- The email ----------


@pytest.mark.django_db
def test_the_email_goes_out_unless_read_turned_off_or_addressless(queued):
    recipient = UserFactory()
    first = note(recipient, text="One")
    assert notification_email_send(notification_id=first.pk)
    assert mail.outbox[-1].subject == "Agentry: One"

    read = note(recipient)
    services.notification_mark_read(notification=read)
    assert not notification_email_send(notification_id=read.pk)

    services.profile_update(user=recipient, email_preferences={"comment": False})
    assert not notification_email_send(notification_id=note(recipient).pk)

    addressless = UserFactory(email="")
    assert not notification_email_send(notification_id=note(addressless).pk)
    assert not notification_email_send(notification_id=999_999)
    assert len(mail.outbox) == 1


# ---------- API ----------


@pytest.mark.django_db
def test_the_api_lists_only_your_notifications_newest_first(as_user, queued):
    me, other = UserFactory(), UserFactory()
    older = note(me, text="older")
    note(me, text="newer")
    note(other, text="not yours")
    services.notification_mark_read(notification=older)

    body = as_user(me).get("/api/v1/notifications/").json()
    assert [item["text"] for item in body["results"]] == ["newer", "older"]
    assert body["unread_count"] == 1
    unread = as_user(me).get("/api/v1/notifications/?unread=1").json()
    assert [item["text"] for item in unread["results"]] == ["newer"]


@pytest.mark.django_db
def test_marking_read_one_or_all_through_the_api(as_user, queued):
    me, other = UserFactory(), UserFactory()
    first, second = note(me), note(me)
    theirs = note(other)
    client = as_user(me)

    response = client.post(f"/api/v1/notifications/{first.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read_at"]
    assert response.json()["unread_count"] == 1
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404

    response = client.post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 1, "unread_count": 0}
    second.refresh_from_db()
    theirs.refresh_from_db()
    assert second.read_at is not None
    assert theirs.read_at is None


@pytest.mark.django_db
def test_notifications_need_a_signed_in_member(api_client):
    assert api_client.get("/api/v1/notifications/").status_code == 401
    assert api_client.post("/api/v1/notifications/read-all/").status_code == 401


# ---------- Pages: the bell and the list ----------


@pytest.mark.django_db
def test_the_bell_shows_the_unread_count_and_the_page_lists_them(client, queued):
    me = UserFactory()
    client.force_login(me)
    assert bell(client.get("/").content.decode()) == ("0", True)

    notification = note(me, text=XSS, url="/feed/")
    html = client.get("/notifications/").content.decode()
    assert bell(html) == ("1", False)
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html

    response = client.get(f"/notifications/{notification.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/feed/"
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.django_db
def test_someone_elses_notification_is_a_404_and_read_all_works(client, queued):
    me, other = UserFactory(), UserFactory()
    theirs = note(other)
    note(me)
    client.force_login(me)
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    response = client.post("/notifications/read-all/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not Notification.objects.filter(recipient=me, read_at=None).exists()
    assert Notification.objects.filter(recipient=other, read_at=None).exists()


@pytest.mark.django_db
def test_visitors_have_no_bell_and_the_pages_need_sign_in(client):
    assert 'id="notification-count"' not in client.get("/").content.decode()
    assert client.get("/notifications/").status_code == 302


@pytest.mark.django_db
def test_the_unread_count_costs_one_query_however_many_there_are(client, queued):
    me = UserFactory()
    client.force_login(me)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/")
        return len(queries)

    before = count_queries()
    for _ in range(5):
        note(me)
    Notification.objects.filter(pk=note(me).pk).update(read_at=timezone.now())
    assert count_queries() == before
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    counted = [q for q in queries if "community_notification" in q["sql"]]
    assert len(counted) == 1


# ---------- Live over the websocket ----------


async def test_a_new_follower_reaches_the_followees_open_page_live(
    transactional_db, queued
):
    star = await database_sync_to_async(UserFactory)()
    fan = await database_sync_to_async(UserFactory)(username="fan")
    communicator = await events_socket(star)
    await database_sync_to_async(services.follow_create)(follower=fan, followee=star)
    event = await communicator.receive_json_from(timeout=10)
    assert event["type"] == "notifications"
    assert event["unread_count"] == 1
    assert event["notification"]["text"] == "fan started following you."
    await communicator.disconnect()


@pytest.mark.django_db
def test_following_again_after_unfollowing_does_not_flood_the_followee():
    fan, star = UserFactory(), UserFactory()
    for _ in range(3):
        services.follow_create(follower=fan, followee=star)
        services.follow_delete(follower=fan, followee=star)
    assert Notification.objects.filter(recipient=star).count() == 1
    services.notification_mark_all_read(user=star)
    services.follow_create(follower=fan, followee=star)
    assert Notification.objects.filter(recipient=star).count() == 2
