"""Staff grant credits to one person, a group or everyone, from the users
admin or the grant_credits command: one ledger entry per person, each in the
audit log."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from billing import services
from billing.models import MILLI, CreditAccount, EntryKind, LedgerEntry
from community.models import AuditAction, AuditEntry
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def balance(user) -> int:
    return CreditAccount.objects.get(user=user).balance


def grants(user) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(account__user=user, kind=EntryKind.GRANT))


def test_a_grant_is_one_entry_per_person_with_the_reason_and_an_audit_entry():
    staff = UserFactory(is_staff=True)
    people = [UserFactory(credits=0), UserFactory(credits=1)]
    entries = services.credits_grant(
        users=people, amount=2500, reason="Beta testers", staff=staff, grant_id="b1"
    )
    assert [entry.amount for entry in entries] == [2500, 2500]
    assert [balance(user) for user in people] == [2500, 3500]
    entry = grants(people[0])[0]
    assert (entry.description, entry.created_by, entry.idempotency_key) == (
        "Beta testers",
        staff,
        f"grant:b1:{people[0].pk}",
    )
    audit = AuditEntry.objects.filter(action=AuditAction.CREDITS_ADJUSTED)
    assert audit.count() == 2
    assert {a.details["grant"] for a in audit} == {"b1"}
    # The same grant again gives nobody anything more.
    services.credits_grant(
        users=people, amount=2500, reason="Beta testers", grant_id="b1"
    )
    assert [balance(user) for user in people] == [2500, 3500]


def test_a_grant_needs_a_reason_and_an_amount():
    with pytest.raises(ValidationError) as caught:
        services.credits_grant(users=[UserFactory()], amount=0, reason=" ")
    assert set(caught.value.message_dict) == {"amount", "reason"}


def test_the_command_grants_to_people_a_group_or_everyone():
    alice = UserFactory(username="alice", credits=0)
    bob = UserFactory(email="bob@example.org", credits=0)
    carol = UserFactory(credits=0)
    UserFactory(credits=0, is_active=False)
    teachers = Group.objects.create(name="teachers")
    carol.groups.add(teachers)
    out = StringIO()
    call_command(
        "grant_credits",
        "--user=alice",
        "--user=BOB@example.org",
        "--amount=5",
        "--reason=Workshop",
        stdout=out,
    )
    assert out.getvalue().strip() == "Granted 5 credits to 2 people."
    assert (balance(alice), balance(bob)) == (5 * MILLI, 5 * MILLI)
    call_command(
        "grant_credits", "--group=teachers", "--amount=1", "--reason=Course", stdout=out
    )
    assert balance(carol) == MILLI
    call_command(
        "grant_credits",
        "--all",
        "--amount=0.5",
        "--reason=Sorry",
        "--grant-id=outage",
        stdout=out,
    )
    call_command(
        "grant_credits",
        "--all",
        "--amount=0.5",
        "--reason=Sorry",
        "--grant-id=outage",
        stdout=out,
    )
    assert (balance(alice), balance(carol)) == (5500, 1500)
    assert LedgerEntry.objects.filter(description="Sorry").count() == 3


def test_the_command_refuses_unknown_people_and_missing_arguments():
    with pytest.raises(CommandError, match="matches: nobody-here"):
        call_command("grant_credits", "--user=nobody-here", "--amount=1", "--reason=x")
    with pytest.raises(CommandError, match="Say who"):
        call_command("grant_credits", "--amount=1", "--reason=x")
    with pytest.raises(CommandError, match="three decimal places"):
        call_command("grant_credits", "--all", "--amount=0.0001", "--reason=x")
    assert not LedgerEntry.objects.filter(kind=EntryKind.GRANT).exists()


def test_the_users_admin_grants_through_a_form(admin_client, admin_user):
    people = [UserFactory(credits=0), UserFactory(credits=0)]
    selected = {
        "action": "grant_credits",
        "_selected_action": [str(user.pk) for user in people],
    }
    page = admin_client.post("/admin/community/user/", selected)
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    assert not grants(people[0])
    response = admin_client.post(
        "/admin/community/user/",
        {**selected, "grant": "1", "credits": "3", "reason": "Thanks"},
    )
    assert response.status_code == 302
    assert [balance(user) for user in people] == [3 * MILLI, 3 * MILLI]
    assert grants(people[1])[0].created_by == admin_user
    # A missing reason comes back on the form, nothing granted.
    response = admin_client.post(
        "/admin/community/user/",
        {**selected, "grant": "1", "credits": "3", "reason": ""},
    )
    assert response.status_code == 200
    assert [balance(user) for user in people] == [3 * MILLI, 3 * MILLI]
