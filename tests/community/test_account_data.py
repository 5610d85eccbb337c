"""A person's own data: downloading all of it (page and API), and deleting
the account, keeping what others rely on and the money ledger."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agents import services as agent_services
from agents.models import Agent, Conversation, Run, RunStep
from agents.services.forks import agent_fork
from billing.models import MILLI, CreditAccount, EntryKind, LedgerEntry, Purchase
from community import reviews, services
from community.account_export import account_export
from community.messaging import message_send
from community.models import (
    DELETED_USER_USERNAME,
    AuditAction,
    AuditEntry,
    Comment,
    Message,
    Profile,
    Rating,
    Thread,
    User,
)
from files.models import File
from tests.agents.factories import make_agent
from tests.billing.test_stripe_webhooks import subscribe
from tests.community.factories import PASSWORD, UserFactory
from workflows.models import Workflow
from workflows.selectors import workflow_runnable_q
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def add_file(owner, name: str, data: bytes) -> File:
    """A stored upload (not ingested: the export and deletion only need the
    row and its bytes)."""
    file = File(
        owner=owner,
        name=name,
        kind="text",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        chunk_size=200,
        chunk_overlap=40,
    )
    file.blob.save(name, ContentFile(data), save=False)
    file.save()
    return file


def add_run(agent, owner, *, steps: int = 2, status: str = "completed") -> Run:
    run = Run.objects.create(
        agent=agent,
        version=agent.versions.order_by("-number").first(),
        owner=owner,
        status=status,
        input=f"question from {owner.username}",
    )
    RunStep.objects.bulk_create(
        RunStep(run=run, order=order, type="agent-response", payload={"n": order})
        for order in range(steps)
    )
    return run


def shared_workflow(owner, agent, name="Pipeline", visibility="public") -> Workflow:
    graph = {"entry": "w", "nodes": [{"id": "w", "kind": "agent", "agent": agent.pk}]}
    return workflow_create(
        owner=owner, data={"name": name, "graph": graph, "visibility": visibility}
    )


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob")


@pytest.fixture
def life(alice, bob):
    """Alice's things, and Bob's around them."""
    poet = make_agent(alice, name="Alice poet", visibility="public")
    poet = agent_services.agent_update(
        agent=poet, user=alice, data={"instructions": "Write sonnets."}
    )
    secret = make_agent(alice, name="Alice secret helper")
    bobs = make_agent(bob, name="Bob calculator", visibility="public")
    things = {
        "poet": poet,
        "secret": secret,
        "bobs": bobs,
        "run": add_run(poet, alice, steps=3),
        "conversation": Conversation.objects.create(
            owner=alice, agent=poet, title="Alice chat"
        ),
        "workflow": shared_workflow(alice, poet, name="Alice pipeline"),
        "private_workflow": shared_workflow(
            alice, secret, name="Alice private pipeline", visibility="private"
        ),
        "file": add_file(alice, "notes.txt", b"alice's own notes"),
        "bob_file": add_file(bob, "bob.txt", b"bob's notes"),
        "comment": reviews.comment_create(
            agent=bobs, user=alice, body="Alice likes it"
        ),
        "rating": reviews.rating_save(user=alice, stars=5, agent=bobs),
        "sent": message_send(sender=alice, recipient=bob, body="Hi Bob, from Alice"),
        "received": message_send(sender=bob, recipient=alice, body="Bob writes back"),
        "bob_comment": reviews.comment_create(
            agent=poet, user=bob, body="Bob on Alice's poet"
        ),
    }
    reviews.reaction_toggle(user=alice, emoji="🚀", agent=bobs)
    services.follow_create(follower=bob, followee=alice)
    services.follow_create(follower=alice, followee=bob)
    return things


def open_zip(response) -> zipfile.ZipFile:
    body = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(body))


def read(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name))


# --- export -----------------------------------------------------------------


def test_it_exports_everything_of_theirs_from_the_settings_page(alice, life):
    """The download is a zip with one JSON file per kind of thing, the
    uploaded files' bytes, and every row of the person's."""
    client = Client()
    client.force_login(alice)
    assert client.get("/settings/account/").status_code == 200

    response = client.get("/settings/account/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = open_zip(response)
    agents = {agent["name"]: agent for agent in read(archive, "agents.json")}
    assert set(agents) == {"Alice poet", "Alice secret helper"}
    assert [v["number"] for v in agents["Alice poet"]["versions"]] == [1, 2]
    assert agents["Alice poet"]["versions"][1]["definition"]["instructions"] == (
        "Write sonnets."
    )
    (run,) = read(archive, "runs.json")
    assert [step["order"] for step in run["steps"]] == [0, 1, 2]
    assert read(archive, "conversations.json")[0]["title"] == "Alice chat"
    assert {w["name"] for w in read(archive, "workflows.json")} == {
        "Alice pipeline",
        "Alice private pipeline",
    }
    files = read(archive, "files.json")
    (stored,) = files["files"]
    assert archive.read(stored["archive_path"]) == b"alice's own notes"
    assert [c["body"] for c in read(archive, "comments.json")] == ["Alice likes it"]
    assert [r["stars"] for r in read(archive, "ratings.json")] == [5]
    assert [r["emoji"] for r in read(archive, "reactions.json")] == ["🚀"]
    assert [m["body"] for m in read(archive, "messages.json")] == ["Hi Bob, from Alice"]
    notifications = read(archive, "notifications.json")
    assert any("bob started following you" in n["text"] for n in notifications)
    credits = read(archive, "credits.json")
    assert credits["account"]["balance"] == 1000 * MILLI
    assert [entry["amount"] for entry in credits["ledger"]] == [1000 * MILLI]
    profile = read(archive, "profile.json")
    assert profile["account"]["username"] == "alice"
    assert [f["followee__username"] for f in profile["following"]] == ["bob"]
    assert [f["follower__username"] for f in profile["followers"]] == ["bob"]


def test_a_strangers_data_is_not_in_the_export(alice, life):
    """Nothing of Bob's is in Alice's archive: not his agents, files,
    comments or the messages he sent her, nor any password hash."""
    client = Client()
    client.force_login(alice)
    archive = open_zip(client.get("/settings/account/export/"))

    everything = b"".join(archive.read(name) for name in archive.namelist())
    for text in (
        b"Bob calculator",
        b"bob's notes",
        b"Bob writes back",
        b"Bob on Alice's poet",
        b"bob.txt",
    ):
        assert text not in everything, text
    assert alice.password.encode() not in everything


def test_it_exports_over_the_api_and_records_it(alice, life, as_user):
    """GET /api/v1/account/export/ answers the same zip; the export is in
    the audit log, and API keys appear by name only."""
    _, secret = services.api_key_create(user=alice, name="laptop")
    response = as_user(alice).get("/api/v1/account/export/")

    assert response.status_code == 200
    archive = open_zip(response)
    assert {
        "README.txt",
        "profile.json",
        "agents.json",
        "runs.json",
        "conversations.json",
        "workflows.json",
        "files.json",
        "comments.json",
        "ratings.json",
        "reactions.json",
        "messages.json",
        "notifications.json",
        "reports.json",
        "credits.json",
        "security_log.json",
    } <= set(archive.namelist())
    assert [k["name"] for k in read(archive, "profile.json")["api_keys"]] == ["laptop"]
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert secret.split(".", 1)[1].encode() not in everything
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_EXPORTED)
    assert entry.actor == alice


def test_the_export_needs_a_signed_in_person(api_client):
    """Anonymous visitors get a 401/403 from the API and the login page."""
    assert api_client.get("/api/v1/account/export/").status_code in (401, 403)
    response = Client().get("/settings/account/export/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _grow(user, other, count: int) -> None:
    for number in range(count):
        agent = make_agent(user, name=f"Agent {number}", visibility="public")
        agent_services.agent_update(
            agent=agent, user=user, data={"instructions": f"v2 {number}"}
        )
        add_run(agent, user)
        Conversation.objects.create(owner=user, agent=agent, title=f"chat {number}")
        shared_workflow(user, agent, name=f"Flow {number}")
        add_file(user, f"file{number}.txt", f"data {number}".encode())
        others = make_agent(other, name=f"Other {number}", visibility="public")
        reviews.comment_create(agent=others, user=user, body=f"comment {number}")
        reviews.rating_save(user=user, stars=4, agent=others)
        reviews.reaction_toggle(user=user, emoji="👍", agent=others)
        message_send(sender=user, recipient=other, body=f"message {number}")


def _export_queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        account_export(user=user, destination=io.BytesIO())
    return len(captured)


def test_the_exports_queries_do_not_grow_with_the_rows(alice, bob):
    """Each kind of thing is read in a fixed number of queries: four times
    the rows, the same number of queries."""
    _grow(alice, bob, 1)
    few = _export_queries(alice)
    _grow(alice, bob, 3)
    many = _export_queries(alice)

    assert Agent.objects.filter(owner=alice).count() == 4
    assert many == few


# --- deletion ---------------------------------------------------------------


def delete_over_api(as_user, user, **data):
    body = {"shared_items": "transfer", "password": PASSWORD}
    body["confirmation"] = user.username
    body.update(data)
    return as_user(user).post("/api/v1/account/delete/", body, format="json")


def test_deleting_with_transfer_keeps_shared_things_working_for_others(
    alice, bob, life, as_user, django_capture_on_commit_callbacks
):
    """With "transfer", Alice's public agent and workflow move to the
    deleted-user account and still work for Bob (his fork, his run, his
    right to run the workflow); her private things, ratings, follows,
    threads and files go; her comment stays, signed deleted-user."""
    poet, fork = life["poet"], agent_fork(agent=life["poet"], user=bob)[0]
    bobs_run = add_run(poet, bob)
    blob_name = life["file"].blob.name
    assert default_storage.exists(blob_name)

    with django_capture_on_commit_callbacks(execute=True):
        response = delete_over_api(as_user, alice, shared_items="transfer")

    assert response.status_code == 204, response.content
    assert not User.objects.filter(username="alice").exists()
    keeper = User.objects.get(username=DELETED_USER_USERNAME)
    assert not keeper.is_active
    assert not keeper.has_usable_password()
    poet.refresh_from_db()
    assert poet.owner == keeper
    fork.refresh_from_db()
    assert fork.forked_from == poet
    assert Run.objects.filter(pk=bobs_run.pk).exists()
    workflow = Workflow.objects.get(pk=life["workflow"].pk)
    assert workflow.owner == keeper
    assert Workflow.objects.filter(workflow_runnable_q(bob), pk=workflow.pk).exists()
    # Private things are gone.
    assert not Agent.objects.filter(pk=life["secret"].pk).exists()
    assert not Workflow.objects.filter(pk=life["private_workflow"].pk).exists()
    assert not Run.objects.filter(pk=life["run"].pk).exists()
    assert not Conversation.objects.filter(pk=life["conversation"].pk).exists()
    assert not File.objects.filter(pk=life["file"].pk).exists()
    assert not default_storage.exists(blob_name)
    assert default_storage.exists(life["bob_file"].blob.name)
    # Others' pages and counts stay right.
    comment = Comment.objects.get(pk=life["comment"].pk)
    assert (comment.author, comment.body) == (keeper, "Alice likes it")
    assert Comment.objects.filter(pk=life["bob_comment"].pk).exists()
    bobs = Agent.objects.get(pk=life["bobs"].pk)
    assert (bobs.rating_count, bobs.rating_sum) == (0, 0)
    assert not Rating.objects.filter(pk=life["rating"].pk).exists()
    bob_profile = Profile.objects.get(user=bob)
    assert (bob_profile.followers_count, bob_profile.following_count) == (0, 0)
    assert not Thread.objects.exists()
    assert not Message.objects.exists()


def test_deleting_with_remove_takes_the_shared_things_too(alice, bob, life, as_user):
    """With "remove", the public agent and workflow are deleted: Bob's fork
    stays his, pointing nowhere, and his runs of the original go with it."""
    poet = life["poet"]
    fork = agent_fork(agent=poet, user=bob)[0]
    bobs_run = add_run(poet, bob)

    response = delete_over_api(as_user, alice, shared_items="remove")

    assert response.status_code == 204, response.content
    assert not Agent.objects.filter(pk=poet.pk).exists()
    assert not Workflow.objects.filter(pk=life["workflow"].pk).exists()
    assert not Run.objects.filter(pk=bobs_run.pk).exists()
    fork.refresh_from_db()
    assert fork.owner == bob
    assert fork.forked_from is None
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_DELETED)
    assert entry.details["agents_removed"] == 1
    assert entry.details["workflows_removed"] == 1


def test_the_ledger_is_kept_anonymous_and_balanced(alice, life, as_user):
    """The credit account and its entries stay, detached from the person:
    what was left is forfeited by one closing entry, so the entries still
    add up to the (now zero) balance, and purchases stay for the books."""
    account_id = CreditAccount.objects.get(user=alice).pk
    Purchase.objects.create(
        user=alice,
        checkout_session_id="cs_test_kept",
        pack="pack_100",
        credits=100 * MILLI,
        status="paid",
    )
    keys = set(
        LedgerEntry.objects.filter(account_id=account_id).values_list(
            "idempotency_key", flat=True
        )
    )

    assert delete_over_api(as_user, alice).status_code == 204

    account = CreditAccount.objects.get(pk=account_id)
    assert account.user is None
    assert account.closed_at is not None
    assert (account.balance, account.held) == (0, 0)
    entries = LedgerEntry.objects.filter(account=account)
    assert keys < set(entries.values_list("idempotency_key", flat=True))
    closing = entries.get(kind=EntryKind.CLOSURE)
    assert closing.amount == -1000 * MILLI
    assert entries.aggregate(total=Sum("amount"))["total"] == 0
    assert Purchase.objects.get(checkout_session_id="cs_test_kept").user is None


def test_deleting_from_the_page_signs_the_person_out(alice, life):
    """The page asks for the password and the username, deletes, signs out
    and the account's deletion is in the audit log under its old name."""
    client = Client()
    client.force_login(alice)

    response = client.post(
        "/settings/account/delete/",
        {
            "shared_items": "transfer",
            "password": PASSWORD,
            "confirmation": "alice",
        },
    )

    assert response.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    again = client.get("/settings/account/")
    assert again.status_code == 302
    assert "/accounts/login/" in again["Location"]
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_DELETED)
    assert entry.actor is None
    assert entry.actor_username == "alice"
    assert entry.details["agents_transferred"] == 1
    # Signing in as the deleted account, or as deleted-user, does not work.
    for login in ("alice", DELETED_USER_USERNAME):
        refused = Client().post(
            "/accounts/login/", {"login": login, "password": PASSWORD}
        )
        assert refused.status_code == 200


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"password": "wrong"}, {"password"}),
        ({"password": ""}, {"password"}),
        ({"confirmation": "bob"}, {"confirmation"}),
        ({"shared_items": "keep-forever"}, {"shared_items"}),
        (
            {"password": "wrong", "confirmation": "x", "shared_items": "x"},
            {"password", "confirmation", "shared_items"},
        ),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_changes_nothing(
    alice, life, as_user, data, fields
):
    """Each wrong answer is named on its field; the account stays whole."""
    response = delete_over_api(as_user, alice, **data)

    assert response.status_code == 400
    assert set(response.json()) == fields
    assert all(response.json()[field] for field in fields)
    assert User.objects.filter(pk=alice.pk).exists()
    assert Agent.objects.filter(owner=alice).count() == 2
    assert not AuditEntry.objects.filter(action=AuditAction.ACCOUNT_DELETED).exists()


def test_missing_fields_are_a_400_too(alice, as_user):
    """An empty body names each required field."""
    response = as_user(alice).post("/api/v1/account/delete/", {}, format="json")
    assert response.status_code == 400
    assert {"shared_items", "confirmation"} <= set(response.json())


def test_the_page_shows_the_errors_with_a_400(alice):
    """A wrong password on the page: 400, the form again with the message."""
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/settings/account/delete/",
        {"shared_items": "transfer", "password": "nope", "confirmation": "alice"},
    )
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()


def test_a_live_subscription_must_be_cancelled_first(stripe_catalog, deliver, as_user):
    """Someone still paying for a plan is told to cancel it first; nothing
    is deleted and Stripe is not called to cancel it."""
    user = UserFactory(credits=0)
    subscribe(stripe_catalog, deliver, user)

    response = delete_over_api(as_user, user)

    assert response.status_code == 400
    (message,) = response.json()["non_field_errors"]
    assert "Cancel it first" in message
    assert User.objects.filter(pk=user.pk).exists()


def test_unfinished_runs_must_end_first(alice, as_user):
    """A run still going holds credits and writes steps: deletion waits."""
    agent = make_agent(alice)
    add_run(agent, alice, status="running")

    response = delete_over_api(as_user, alice)

    assert response.status_code == 400
    assert "have not finished" in response.json()["non_field_errors"][0]
    assert User.objects.filter(pk=alice.pk).exists()


def test_the_deleted_user_name_cannot_be_taken_at_sign_up():
    """The name that holds deleted accounts' shared things is reserved."""
    response = Client().post(
        "/accounts/signup/",
        {
            "username": DELETED_USER_USERNAME,
            "email": "sneaky@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "reserved for the site" in response.content.decode()
    assert not User.objects.filter(username=DELETED_USER_USERNAME).exists()
