"""The site's name in emails comes from SITE_URL (or the first allowed host),
never Django's default example.com."""

import re

import pytest
from django.contrib.sites.models import Site
from django.core import mail
from django.core.management import call_command

from config.sites import site_domain
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


@pytest.fixture
def site_at_agentry_test(settings):
    """The site configured at https://agentry.test, brought in by `migrate`
    as `make run` and compose's one-off do at each start."""
    settings.SITE_URL = "https://agentry.test"
    call_command("migrate", interactive=False, verbosity=0)
    yield
    # The Site row rolls back with the test; its per-process cache does not.
    Site.objects.clear_cache()


def assert_names_the_site(message):
    assert message.subject.startswith("[agentry.test] ")
    assert "agentry.test" in message.body
    assert "example.com" not in message.subject + message.body


def test_migrate_names_the_site_after_site_url(site_at_agentry_test):
    site = Site.objects.get_current()
    assert (site.domain, site.name) == ("agentry.test", "agentry.test")


def test_the_sign_up_confirmation_names_the_site(site_at_agentry_test, client):
    client.post(
        "/accounts/signup/",
        {
            "email": "newcomer@agentry-mail.test",
            "username": "newcomer",
            "password1": STRONG,
            "password2": STRONG,
        },
    )
    assert len(mail.outbox) == 1
    assert "Confirm" in mail.outbox[0].subject
    assert_names_the_site(mail.outbox[0])


def test_the_password_reset_email_names_the_site(site_at_agentry_test, client):
    user = UserFactory(email="member@agentry-mail.test")
    client.post("/accounts/password/reset/", {"email": user.email})
    assert len(mail.outbox) == 1
    assert re.search(r"Password Reset", mail.outbox[0].subject, re.IGNORECASE)
    assert_names_the_site(mail.outbox[0])


def test_without_a_site_url_the_first_allowed_host_names_the_site(settings):
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["*", ".agentry.test", "agents.agentry.test"]
    assert site_domain() == "agents.agentry.test"
