"""The audit log: each sensitive action leaves one entry (who, what, when,
from where), written in the action's own transaction; staff read it in the
admin and nobody, not even the database's own user, changes or deletes it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory

from agents import services as agent_services
from agents.services.provider_keys import provider_key_delete, provider_key_save
from billing.models import MILLI
from billing.services import credit_adjust
from community import moderation, reviews
from community.audit import audit_record
from community.models import AuditAction, AuditEntry, Report, User
from community.services import api_key_create
from config import requestid
from tests.agents.factories import make_agent
from tests.community.factories import PASSWORD, UserFactory
from workflows.services import workflow_create, workflow_update

pytestmark = pytest.mark.django_db


def entries(action: str):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def only(action: str) -> AuditEntry:
    found = entries(action)
    assert len(found) == 1, [entry.action for entry in AuditEntry.objects.all()]
    return found[0]


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def public_agent():
    agent = make_agent(name="Poet")
    return agent_services.agent_update(
        agent=agent, user=agent.owner, data={"visibility": "public"}
    )


# --- where a request came from ------------------------------------------------


def test_it_records_a_sign_in_with_the_address_and_agent_of_the_request():
    """A sign-in through the login page is recorded with the socket's
    address, the browser's user agent and the request's id."""
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="TestBrowser/1.0")

    response = client.post(
        "/accounts/login/", {"login": user.username, "password": PASSWORD}
    )

    assert response.status_code == 302
    entry = only(AuditAction.SIGNED_IN)
    assert entry.actor == user
    assert entry.actor_username == user.username
    assert entry.ip_address == "203.0.113.7"
    assert entry.user_agent == "TestBrowser/1.0"
    assert entry.request_id == response["X-Request-ID"]


def test_it_records_a_failed_sign_in_without_the_password():
    """A wrong password leaves a 'sign-in failed' entry naming what was typed
    as the login, with no actor and no trace of the password."""
    user = UserFactory()
    response = Client(REMOTE_ADDR="198.51.100.4").post(
        "/accounts/login/", {"login": user.username, "password": "not-it-at-all"}
    )

    assert response.status_code == 200
    entry = only(AuditAction.SIGN_IN_FAILED)
    assert entry.actor is None
    assert entry.target_label == user.username
    assert entry.ip_address == "198.51.100.4"
    assert "not-it-at-all" not in str(
        AuditEntry.objects.filter(pk=entry.pk).values().get()
    )
    assert not entries(AuditAction.SIGNED_IN)


def test_it_ignores_x_forwarded_for_unless_proxies_are_trusted(settings):
    """Without trusted proxies a forged X-Forwarded-For is ignored; with one,
    the address that proxy appended is the client's, whatever the client
    wrote before it."""
    factory = RequestFactory()
    request = factory.get(
        "/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9",
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert requestid.client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert requestid.client_ip(request) == "198.51.100.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert requestid.client_ip(request) == "1.2.3.4"
    # More proxies than hops: the header did not come through them all.
    settings.TRUSTED_PROXY_COUNT = 3
    assert requestid.client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="nope")
    assert requestid.client_ip(garbage) == "10.0.0.2"


def test_it_takes_the_address_behind_a_trusted_proxy_from_a_real_request(settings):
    """Through the middleware: an API key made behind one trusted proxy is
    recorded with the address that proxy saw."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.44")
    client.force_login(user)

    response = client.post("/settings/api-keys/new/", {"name": "laptop"})

    assert response.status_code == 200
    assert only(AuditAction.API_KEY_CREATED).ip_address == "192.0.2.44"


def test_outside_a_request_it_records_no_address():
    """A service called by a task or a command has no client to record."""
    entry = audit_record(action=AuditAction.SIGNED_IN, actor=UserFactory())
    assert entry.ip_address is None
    assert entry.user_agent == ""
    assert entry.request_id == ""


def test_it_never_keeps_details_that_look_like_secrets():
    """Keys named like secrets are dropped from the details whoever passes
    them; the rest is kept."""
    entry = audit_record(
        action=AuditAction.SIGNED_IN,
        actor=None,
        details={"password": "hunter2", "api_key": "abc", "reason": "ok"},
    )
    assert entry.details == {"reason": "ok"}


# --- every recorded action ----------------------------------------------------


def test_it_records_api_keys_made_and_revoked_but_never_the_key(as_user):
    """Creating a key over the API and revoking it make one entry each, with
    the key's public prefix; revoking again records nothing new."""
    user = UserFactory()
    api = as_user(user)
    made = api.post("/api/v1/tokens/", {"name": "CI"}, format="json").json()

    created = only(AuditAction.API_KEY_CREATED)
    assert created.actor == user
    assert (created.target_type, created.target_id) == ("api_key", made["id"])
    assert created.target_label == "CI"
    secret = made["key"].split(".", 1)[1]
    assert secret not in str(AuditEntry.objects.values().get(pk=created.pk))

    assert api.delete(f"/api/v1/tokens/{made['id']}/").status_code == 204
    assert api.delete(f"/api/v1/tokens/{made['id']}/").status_code == 204
    revoked = only(AuditAction.API_KEY_REVOKED)
    assert revoked.target_id == made["id"]


def test_it_records_provider_keys_added_and_removed_without_the_key():
    """Saving a provider key and deleting it are recorded by provider; the
    key itself appears nowhere in the log."""
    user = UserFactory()
    key = provider_key_save(owner=user, provider="openai", key="sk-test-abcdef123456")

    added = only(AuditAction.PROVIDER_KEY_ADDED)
    assert added.actor == user
    assert added.details == {"provider": "openai", "replaced": False}
    provider_key_delete(provider_key=key)
    assert only(AuditAction.PROVIDER_KEY_REMOVED).details == {"provider": "openai"}
    assert "abcdef123456" not in str(list(AuditEntry.objects.values()))


def test_it_records_staff_credit_adjustments_and_not_refused_ones(staff):
    """A staff adjustment is recorded with the amount and reason, in the
    same transaction: one refused (below zero) leaves no entry."""
    user = UserFactory(credits=5)
    credit_adjust(user=user, amount=2 * MILLI, reason="Goodwill", staff=staff)
    with pytest.raises(Exception):  # noqa: B017, PT011 (a ValidationError)
        credit_adjust(user=user, amount=-50 * MILLI, reason="Too much", staff=staff)

    entry = only(AuditAction.CREDITS_ADJUSTED)
    assert entry.actor == staff
    assert (entry.target_type, entry.target_id) == ("user", str(user.pk))
    assert entry.details["amount"] == 2 * MILLI
    assert entry.details["reason"] == "Goodwill"
    assert entry.details["balance_after"] == 7 * MILLI


def test_it_records_agents_published_shared_and_unpublished():
    """Visibility changes of an agent: to public is 'published', from public
    'unpublished', between private and unlisted 'shared'; other edits
    record nothing."""
    agent = make_agent(name="Helper")
    owner = agent.owner
    for visibility in ("unlisted", "public", "public", "private"):
        agent = agent_services.agent_update(
            agent=agent, user=owner, data={"visibility": visibility}
        )
    agent_services.agent_update(agent=agent, user=owner, data={"description": "x"})
    born_public = make_agent(owner, name="Loud", visibility="public")

    assert [
        (entry.action, entry.target_id, entry.details)
        for entry in AuditEntry.objects.exclude(action=AuditAction.SIGNED_IN).order_by(
            "pk"
        )
    ] == [
        (
            AuditAction.AGENT_SHARED,
            str(agent.pk),
            {"from": "private", "to": "unlisted"},
        ),
        (
            AuditAction.AGENT_PUBLISHED,
            str(agent.pk),
            {"from": "unlisted", "to": "public"},
        ),
        (
            AuditAction.AGENT_UNPUBLISHED,
            str(agent.pk),
            {"from": "public", "to": "private"},
        ),
        (
            AuditAction.AGENT_PUBLISHED,
            str(born_public.pk),
            {"from": "private", "to": "public"},
        ),
    ]


def test_it_records_workflows_published_and_unpublished():
    """The same for workflows."""
    owner = UserFactory()
    agent = make_agent(owner, name="Writer")
    graph = {"entry": "w", "nodes": [{"id": "w", "kind": "agent", "agent": agent.pk}]}
    workflow = workflow_create(
        owner=owner, data={"name": "Flow", "graph": graph, "visibility": "public"}
    )
    workflow_update(workflow=workflow, user=owner, data={"visibility": "private"})

    assert only(AuditAction.WORKFLOW_PUBLISHED).target_id == str(workflow.pk)
    assert only(AuditAction.WORKFLOW_UNPUBLISHED).details == {
        "from": "public",
        "to": "private",
    }


@pytest.mark.parametrize(
    ("url", "action", "recorded"),
    [
        ("/admin/agents/agent/", "hide_agents", AuditAction.AGENT_HIDDEN),
        ("/admin/agents/agent/", "show_agents", AuditAction.AGENT_SHOWN),
        ("/admin/workflows/workflow/", "hide_workflows", AuditAction.WORKFLOW_HIDDEN),
        ("/admin/workflows/workflow/", "show_workflows", AuditAction.WORKFLOW_SHOWN),
        ("/admin/community/comment/", "hide_comments", AuditAction.COMMENT_HIDDEN),
        ("/admin/community/comment/", "show_comments", AuditAction.COMMENT_SHOWN),
        ("/admin/community/rating/", "hide_ratings", AuditAction.RATING_HIDDEN),
        ("/admin/community/rating/", "show_ratings", AuditAction.RATING_SHOWN),
        ("/admin/community/user/", "suspend", AuditAction.USER_SUSPENDED),
        ("/admin/community/user/", "unsuspend", AuditAction.USER_UNSUSPENDED),
        ("/admin/community/user/", "hide", AuditAction.USER_HIDDEN),
        ("/admin/community/user/", "unhide", AuditAction.USER_SHOWN),
    ],
)
def test_it_records_each_moderation_action_of_the_admin(
    url, action, recorded, staff, public_agent
):
    """Every hide/show/suspend action in the admin records the staff member
    and what they acted on."""
    member = UserFactory()
    graph = {
        "entry": "w",
        "nodes": [{"id": "w", "kind": "agent", "agent": public_agent.pk}],
    }
    targets = {
        "agent": public_agent,
        "workflow": workflow_create(
            owner=public_agent.owner,
            data={"name": "Flow", "graph": graph, "visibility": "public"},
        ),
        "comment": reviews.comment_create(agent=public_agent, user=member, body="Nice"),
        "rating": reviews.rating_save(user=member, stars=4, agent=public_agent),
        "user": member,
    }
    target = targets[url.rstrip("/").rsplit("/", 1)[-1]]
    client = Client()
    client.force_login(staff)

    response = client.post(url, {"action": action, "_selected_action": [target.pk]})

    assert response.status_code == 302
    entry = only(recorded)
    assert entry.actor == staff
    assert entry.target_id == str(target.pk)


def test_it_records_a_resolved_report_and_what_it_did(staff, public_agent, as_user):
    """Resolving a report records the resolution and the action it applied."""
    reporter = UserFactory()
    as_user(reporter).post(
        "/api/v1/reports/",
        {"target_type": "agent", "target_id": public_agent.pk, "reason": "spam"},
        format="json",
    )
    moderation.report_resolve(
        report=Report.objects.get(), staff=staff, action="suspend"
    )

    resolved = only(AuditAction.REPORT_RESOLVED)
    assert resolved.actor == staff
    assert resolved.details["action"] == "suspend"
    assert resolved.details["target_id"] == public_agent.pk
    assert only(AuditAction.AGENT_HIDDEN).actor == staff
    suspended = only(AuditAction.USER_SUSPENDED)
    assert suspended.target_id == str(public_agent.owner_id)


# --- read-only for staff, append-only in the database ------------------------


def test_staff_read_the_log_in_the_admin_and_cannot_change_it(staff):
    """The admin lists, filters and searches entries, shows one read-only,
    and offers no way to add, change or delete."""
    user = UserFactory(username="searchable")
    audit_record(action=AuditAction.SIGNED_IN, actor=user, target=user)
    entry = audit_record(action=AuditAction.API_KEY_CREATED, actor=user)
    client = Client()
    client.force_login(staff)
    base = "/admin/community/auditentry/"

    listing = client.get(base)
    assert listing.status_code == 200
    assert b"delete_selected" not in listing.content
    filtered = client.get(base, {"action": AuditAction.API_KEY_CREATED})
    assert filtered.context["cl"].result_count == 1
    by_actor = client.get(base, {"actor__id__exact": user.pk})
    assert by_actor.context["cl"].result_count == 2
    searched = client.get(base, {"q": "searchable"})
    assert searched.context["cl"].result_count == 2
    assert client.get(base, {"created_at__year": "2026"}).status_code == 200

    assert client.get(f"{base}add/").status_code == 403
    detail = client.get(f"{base}{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="action"' not in detail.content  # no editable field
    assert client.post(f"{base}{entry.pk}/change/", {}).status_code == 403
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_people_who_are_not_staff_do_not_see_the_log():
    """The admin is staff-only."""
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin/community/auditentry/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def _refused(statement: str, params) -> None:
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def test_the_database_refuses_to_change_or_delete_an_entry():
    """UPDATE and DELETE are refused by PostgreSQL itself, from raw SQL and
    from the ORM, so no code path or console can rewrite history."""
    entry = audit_record(action=AuditAction.SIGNED_IN, actor=UserFactory())
    # The table's name comes from the model; values are parameters.
    table = AuditEntry._meta.db_table
    change = f"UPDATE {table} SET action = 'account.deleted' WHERE id = %s"  # noqa: S608
    _refused(change, [entry.pk])
    _refused(f"DELETE FROM {table} WHERE id = %s", [entry.pk])  # noqa: S608
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(ip_address="192.0.2.1")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    # Clearing the actor is allowed only alone: with any other change, no.
    both = f"UPDATE {table} SET actor_id = NULL, actor_username = '' WHERE id = %s"  # noqa: S608
    _refused(both, [entry.pk])
    entry.refresh_from_db()
    assert entry.action == AuditAction.SIGNED_IN
    assert entry.actor is not None


def test_deleting_a_person_keeps_their_entries_under_their_old_name():
    """The one change allowed: when an account is deleted its entries lose
    the link to it and keep the username."""
    user = UserFactory(username="leaving", credits=0)
    entry = audit_record(action=AuditAction.SIGNED_IN, actor=user)

    User.objects.filter(pk=user.pk).delete()

    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_username == "leaving"
    assert entry.action == AuditAction.SIGNED_IN


def test_staff_revoke_and_remove_keys_only_through_audited_admin_actions(staff):
    """In the admin, staff cannot delete or edit a person's API key or provider
    key; the revoke and remove actions go through the services and record the
    staff member as the actor, with the owner named."""
    owner = UserFactory()
    api_key, _secret = api_key_create(user=owner, name="laptop")
    provider_key = provider_key_save(owner=owner, provider="openai", key="sk-x" * 8)
    client = Client()
    client.force_login(staff)

    api_keys = "/admin/community/personalapikey/"
    assert client.get(f"{api_keys}{api_key.pk}/delete/").status_code == 403
    response = client.post(
        api_keys, {"action": "revoke", "_selected_action": [api_key.pk]}
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked
    revoked = only(AuditAction.API_KEY_REVOKED)
    assert revoked.actor == staff
    assert revoked.details == {"owner": owner.username}

    provider_keys = "/admin/agents/providerkey/"
    assert client.get(f"{provider_keys}{provider_key.pk}/delete/").status_code == 403
    response = client.post(
        provider_keys, {"action": "remove", "_selected_action": [provider_key.pk]}
    )
    assert response.status_code == 302
    removed = only(AuditAction.PROVIDER_KEY_REMOVED)
    assert removed.actor == staff
    assert removed.details["owner"] == owner.username
