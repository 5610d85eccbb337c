"""Direct messages: threads of two, unread counts, blocks, limits, the API,
the pages and their query counts."""

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from community import messaging
from community.models import Block, Message, Notification, NotificationKind, Thread
from config.throttles import RateLimitedError
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script>'


def person(**fields):
    fields.setdefault("credits", 0)
    return UserFactory(**fields)


def send(sender, recipient, body="Hello there"):
    return messaging.message_send(sender=sender, recipient=recipient, body=body)


def refusal(error) -> list[str]:
    return error.value.message_dict["non_field_errors"]


# ---------- Services ----------


def test_two_people_share_one_thread_whoever_writes_first():
    alice, bob = person(), person()
    first = send(alice, bob)
    second = send(bob, alice, "Hi back")
    assert first.thread_id == second.thread_id
    assert Thread.objects.count() == 1
    thread = Thread.objects.get()
    assert thread.last_message_id == second.pk
    assert {thread.user_a_id, thread.user_b_id} == {alice.pk, bob.pk}


def test_the_database_refuses_a_second_thread_for_the_same_pair():
    alice, bob = person(), person()
    low, high = sorted([alice, bob], key=lambda user: user.pk)
    Thread.objects.create(user_a=low, user_b=high)
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(user_a=low, user_b=high)
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(user_a=high, user_b=low)


def test_each_side_counts_its_own_unread_messages_until_it_reads():
    alice, bob = person(), person()
    send(alice, bob)
    send(alice, bob, "Are you there?")
    thread = Thread.objects.get()
    assert thread.unread_for(bob) == 2
    assert thread.unread_for(alice) == 0
    assert messaging.message_unread_count(user=bob) == 2
    assert messaging.message_unread_count(user=alice) == 0

    messaging.thread_mark_read(thread=thread, user=bob)
    assert messaging.message_unread_count(user=bob) == 0
    thread.refresh_from_db()
    assert thread.unread_for(bob) == 0
    assert thread.b_read_at or thread.a_read_at


def test_nobody_can_message_themselves():
    alice = person()
    with pytest.raises(ValidationError) as error:
        send(alice, alice)
    assert refusal(error) == ["You cannot message yourself."]
    assert not Message.objects.exists()


def test_a_blocked_person_cannot_message_the_blocker_and_is_told_little():
    alice, troll = person(), person()
    messaging.block_create(blocker=alice, blocked=troll)
    with pytest.raises(ValidationError) as error:
        send(troll, alice)
    assert refusal(error) == ["You cannot message this person."]


def test_the_blocker_cannot_message_the_blocked_person_either():
    alice, troll = person(), person()
    messaging.block_create(blocker=alice, blocked=troll)
    with pytest.raises(ValidationError) as error:
        send(alice, troll)
    assert refusal(error) == ["Unblock them to send a message."]


def test_unblocking_lets_messages_through_again():
    alice, bob = person(), person()
    messaging.block_create(blocker=alice, blocked=bob)
    assert messaging.block_delete(blocker=alice, blocked=bob)
    assert not messaging.block_delete(blocker=alice, blocked=bob)
    assert send(bob, alice).pk


def test_blocking_is_idempotent_and_never_of_yourself():
    alice, bob = person(), person()
    _, created = messaging.block_create(blocker=alice, blocked=bob)
    assert created
    _, created = messaging.block_create(blocker=alice, blocked=bob)
    assert not created
    with pytest.raises(ValidationError) as error:
        messaging.block_create(blocker=alice, blocked=alice)
    assert error.value.message_dict["username"] == ["You cannot block yourself."]
    with pytest.raises(IntegrityError), transaction.atomic():
        Block.objects.create(blocker=alice, blocked=alice)


def test_a_sender_is_held_to_the_message_rate(settings):
    """RATE_LIMIT_MESSAGES per sender: one more is refused, and nothing of it
    is saved."""
    cache.clear()  # counts from earlier tests
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": "3/min"}
    alice, bob = person(), person()
    for number in range(3):
        send(alice, bob, f"message {number}")
    with pytest.raises(RateLimitedError):
        send(alice, bob, "one too many")
    assert Message.objects.count() == 3


def test_empty_or_overlong_messages_are_refused():
    alice, bob = person(), person()
    with pytest.raises(ValidationError) as error:
        send(alice, bob, "   ")
    assert error.value.message_dict["body"] == ["Write something first."]
    with pytest.raises(ValidationError) as error:
        send(alice, bob, "x" * 5001)
    assert error.value.message_dict["body"] == ["At most 5000 characters."]


def test_inactive_senders_cannot_send():
    alice, bob = person(is_active=False), person()
    with pytest.raises(PermissionDenied):
        send(alice, bob)


def test_a_message_notifies_the_recipient_once_until_they_read_the_thread():
    alice, bob = person(username="alice"), person()
    message = send(alice, bob)
    send(alice, bob, "again")
    notifications = Notification.objects.filter(recipient=bob)
    assert notifications.count() == 1
    notification = notifications.get()
    assert notification.kind == NotificationKind.MESSAGE
    assert notification.actor == alice
    assert notification.text == "alice sent you a message."
    assert notification.url == f"/messages/{message.thread_id}/"

    messaging.thread_mark_read(thread=message.thread, user=bob)
    notification.refresh_from_db()
    assert notification.is_read
    send(alice, bob, "and again")
    assert notifications.count() == 2


def test_only_participants_can_reply_in_a_thread():
    alice, bob, eve = person(), person(), person()
    thread = send(alice, bob).thread
    with pytest.raises(PermissionDenied):
        messaging.message_reply(sender=eve, thread=thread, body="hi")
    assert messaging.message_reply(sender=bob, thread=thread, body="hi").pk


# ---------- API ----------


def test_starting_and_continuing_a_thread_through_the_api(as_user):
    alice, bob = person(username="alice"), person(username="bob")
    client = as_user(alice)
    response = client.post(
        "/api/v1/messages/threads/", {"to": "BOB", "body": "Hi **bob**"}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["other"]["username"] == "bob"
    assert data["message"]["body_html"] == "<p>Hi <strong>bob</strong></p>\n"
    thread_id = data["id"]

    again = client.post("/api/v1/messages/threads/", {"to": "bob", "body": "More"})
    assert again.json()["id"] == thread_id

    client = as_user(bob)
    assert client.get("/api/v1/messages/unread/").json() == {"unread_count": 2}
    listing = client.get("/api/v1/messages/threads/").json()
    assert listing["unread_count"] == 2
    [row] = listing["results"]
    assert row["other"]["username"] == "alice"
    assert row["last_message"]["preview"] == "More"
    assert row["unread_count"] == 2

    detail = client.get(f"/api/v1/messages/threads/{thread_id}/").json()
    assert [m["body"] for m in detail["results"]] == ["More", "Hi **bob**"]
    assert detail["thread"]["unread_count"] == 0
    assert client.get("/api/v1/messages/unread/").json() == {"unread_count": 0}

    reply = client.post(
        f"/api/v1/messages/threads/{thread_id}/messages/", {"body": "Hello alice"}
    )
    assert reply.status_code == 201
    assert reply.json()["sender"] == "bob"


def test_a_thread_is_a_404_for_everyone_but_its_two_people_even_staff(as_user):
    alice, bob = person(), person()
    thread = send(alice, bob).thread
    for outsider in (person(), person(is_staff=True, is_superuser=True)):
        client = as_user(outsider)
        assert client.get(f"/api/v1/messages/threads/{thread.pk}/").status_code == 404
        response = client.post(
            f"/api/v1/messages/threads/{thread.pk}/messages/", {"body": "hi"}
        )
        assert response.status_code == 404
        assert client.get("/api/v1/messages/threads/").json()["results"] == []
    assert Message.objects.count() == 1


def test_messages_need_a_signed_in_user(api_client):
    assert api_client.get("/api/v1/messages/threads/").status_code in (401, 403)
    assert api_client.get("/api/v1/messages/unread/").status_code in (401, 403)


def test_messaging_someone_who_blocked_you_is_a_clear_400(as_user):
    alice, troll = person(username="alice"), person(username="troll")
    assert as_user(alice).post("/api/v1/users/troll/block/").status_code == 201
    assert as_user(alice).post("/api/v1/users/troll/block/").status_code == 200
    response = as_user(troll).post(
        "/api/v1/messages/threads/", {"to": "alice", "body": "let me in"}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["You cannot message this person."]}
    response = as_user(alice).post(
        "/api/v1/messages/threads/", {"to": "troll", "body": "hey"}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unblock them to send a message."]}


def test_a_block_also_stops_replies_in_an_existing_thread(as_user):
    alice, bob = person(), person(username="bob")
    thread = send(alice, bob).thread
    as_user(bob).post(f"/api/v1/users/{alice.username}/block/")
    response = as_user(alice).post(
        f"/api/v1/messages/threads/{thread.pk}/messages/", {"body": "hello?"}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["You cannot message this person."]}


def test_blocking_and_messaging_yourself_through_the_api_are_400s(as_user):
    alice = person(username="alice")
    client = as_user(alice)
    response = client.post("/api/v1/users/alice/block/")
    assert response.status_code == 400
    assert response.json() == {"username": ["You cannot block yourself."]}
    response = client.post("/api/v1/messages/threads/", {"to": "alice", "body": "x"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["You cannot message yourself."]}


def test_messaging_an_unknown_person_is_a_400_on_to(as_user):
    response = as_user(person()).post(
        "/api/v1/messages/threads/", {"to": "nobody-here", "body": "x"}
    )
    assert response.status_code == 400
    assert "to" in response.json()


def test_the_rate_limit_is_a_429_with_retry_after_through_the_api(as_user, settings):
    cache.clear()  # counts from earlier tests
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": "2/min"}
    alice, bob = person(), person(username="bob")
    for number in range(2):
        send(alice, bob, f"message {number}")
    response = as_user(alice).post(
        "/api/v1/messages/threads/", {"to": "bob", "body": "flood"}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many messages sent" in response.json()["detail"]


def test_blocked_list_and_unblock_through_the_api(as_user):
    alice = person()
    person(username="troll")
    client = as_user(alice)
    client.post("/api/v1/users/troll/block/")
    blocked = client.get("/api/v1/users/me/blocked/").json()["results"]
    assert [row["username"] for row in blocked] == ["troll"]
    assert client.delete("/api/v1/users/troll/block/").status_code == 204
    assert client.delete("/api/v1/users/troll/block/").status_code == 204
    assert client.get("/api/v1/users/me/blocked/").json()["results"] == []


def test_script_in_a_message_comes_back_sanitized_or_escaped(as_user, client):
    alice, bob = person(), person(username="bob")
    response = as_user(alice).post(
        "/api/v1/messages/threads/",
        {"to": "bob", "body": f"{XSS} [x](javascript:alert(1))"},
    )
    assert response.status_code == 201
    html = response.json()["message"]["body_html"]
    assert "<script" not in html
    assert 'href="javascript' not in html
    # The preview is plain text (a client escapes it), as the inbox page does.
    preview = as_user(bob).get("/api/v1/messages/threads/").json()["results"][0]
    assert preview["last_message"]["preview"].startswith("<script>")
    client.force_login(bob)
    inbox = client.get("/messages/").content.decode()
    assert "<script>alert" not in inbox
    assert "&lt;script&gt;alert" in inbox


def test_the_agents_conversations_api_is_untouched(as_user):
    response = as_user(person()).get("/api/v1/conversations/")
    assert response.status_code == 200
    assert "other" not in str(response.json().get("results", []))


# ---------- Pages ----------


def test_the_inbox_shows_threads_with_previews_and_unread_counts(client):
    alice, bob = person(username="alice"), person(username="bob")
    send(bob, alice, "**Lunch** tomorrow?")
    client.force_login(alice)
    html = client.get("/messages/").content.decode()
    assert "Lunch tomorrow?" in html
    assert "<strong>Lunch" not in html
    assert "1 new" in html
    assert re.search(r'<span id="message-count"[^>]*>1</span>', html)


def test_the_thread_page_shows_messages_sanitized_and_marks_them_read(client):
    alice, bob = person(), person()
    thread = send(bob, alice, f"hello {XSS}").thread
    client.force_login(alice)
    html = client.get(f"/messages/{thread.pk}/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html or "alert" not in html
    assert messaging.message_unread_count(user=alice) == 0


def test_replying_on_the_thread_page_sends_and_goes_back_to_the_thread(client):
    alice, bob = person(), person()
    thread = send(bob, alice).thread
    client.force_login(alice)
    response = client.post(f"/messages/{thread.pk}/", {"body": "Sure"})
    assert response.status_code == 302
    assert response["Location"] == f"/messages/{thread.pk}/"
    assert thread.messages.filter(sender=alice, body="Sure").exists()


def test_replying_to_someone_who_blocked_you_shows_a_form_error(client):
    alice, bob = person(), person()
    thread = send(bob, alice).thread
    messaging.block_create(blocker=bob, blocked=alice)
    client.force_login(alice)
    response = client.post(f"/messages/{thread.pk}/", {"body": "Hello?"})
    assert response.status_code == 400
    assert "You cannot message this person." in response.content.decode()
    assert thread.messages.count() == 1


def test_the_thread_page_is_a_404_for_outsiders_and_staff(client):
    alice, bob = person(), person()
    thread = send(bob, alice).thread
    client.force_login(person(is_staff=True, is_superuser=True))
    assert client.get(f"/messages/{thread.pk}/").status_code == 404
    assert client.post(f"/messages/{thread.pk}/", {"body": "x"}).status_code == 404


def test_the_message_pages_need_sign_in(client):
    assert client.get("/messages/").status_code == 302


def test_writing_from_a_profile_starts_a_thread(client):
    alice, bob = person(), person(username="bob")
    client.force_login(alice)
    profile = client.get("/u/bob/").content.decode()
    assert 'href="/messages/with/bob/"' in profile
    assert "Block" in profile
    assert client.get("/messages/with/bob/").status_code == 200
    response = client.post("/messages/with/bob/", {"body": "Hi bob"})
    thread = Thread.objects.get()
    assert response["Location"] == f"/messages/{thread.pk}/"
    # Once there is a thread, the button leads to it.
    assert client.get("/messages/with/bob/")["Location"] == f"/messages/{thread.pk}/"
    assert thread.unread_for(bob) == 1


def test_your_own_profile_has_no_message_or_block_button(client):
    alice = person(username="alice")
    client.force_login(alice)
    html = client.get("/u/alice/").content.decode()
    assert "/messages/with/alice/" not in html
    assert "/people/alice/block/" not in html


def test_the_block_button_blocks_and_unblocks(client):
    alice, bob = person(), person(username="bob")
    client.force_login(alice)
    client.post("/people/bob/block/", {"action": "block"})
    assert messaging.has_blocked(blocker=alice, blocked=bob)
    html = client.get("/u/bob/").content.decode()
    assert "Unblock" in html
    assert "/messages/with/bob/" not in html
    compose = client.get("/messages/with/bob/").content.decode()
    assert "Unblock them to send a message." in compose
    client.post("/people/bob/block/", {"action": "unblock"})
    assert not messaging.has_blocked(blocker=alice, blocked=bob)


# ---------- Query counts ----------


def _threads_for(user, count):
    for _number in range(count):
        other = person()
        low, high = sorted([user, other], key=lambda someone: someone.pk)
        thread = Thread.objects.create(user_a=low, user_b=high, a_unread=1)
        message = Message.objects.create(thread=thread, sender=other, body="*hi*")
        Thread.objects.filter(pk=thread.pk).update(last_message=message)


def test_the_inbox_page_makes_as_many_queries_for_60_threads_as_for_10(
    client, django_assert_max_num_queries
):
    user = person()
    _threads_for(user, 10)
    client.force_login(user)
    with django_assert_max_num_queries(10) as few:
        assert client.get("/messages/").status_code == 200
    _threads_for(user, 50)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/messages/").status_code == 200


def test_the_thread_list_api_makes_as_many_queries_for_60_threads_as_for_10(
    as_user, django_assert_max_num_queries
):
    user = person()
    _threads_for(user, 10)
    client = as_user(user)
    with django_assert_max_num_queries(10) as few:
        assert client.get("/api/v1/messages/threads/?page_size=100").status_code == 200
    _threads_for(user, 50)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/messages/threads/?page_size=100")
    assert len(response.json()["results"]) == 60


def test_the_navigation_counts_cost_one_query_for_both_badges(
    client, django_assert_num_queries
):
    alice, bob = person(), person()
    send(bob, alice)
    counts = None
    with django_assert_num_queries(1):
        counts = messaging.navigation_unread_counts(user=alice)
    assert counts == {"notifications": 1, "messages": 1}
