"""The low-balance warning: a threshold each member sets on the Credits page
or over the API, a banner on every page while the balance is below it, and
one email per dip."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agents.services.runs import run_claim, run_step_record
from billing import notifications, services
from billing.models import MILLI, CreditAccount, EntryKind
from config.celery import app as celery_app
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from tests.worker import wait_for

pytestmark = pytest.mark.django_db


def account(user) -> CreditAccount:
    return CreditAccount.objects.get(user=user)


def spend(user, credits, key):
    return services.credit_spend(user=user, amount=int(credits * MILLI), key=key)


def top_up(user, credits, key):
    return services.credit_add(
        user=user, amount=int(credits * MILLI), kind=EntryKind.PURCHASE, key=key
    )


@pytest.fixture
def tasks_run_in_process():
    """Celery runs a task where it is sent, so the email lands in this
    process's outbox (the worker test below covers a real worker)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


# ---------- The banner ----------


@pytest.mark.parametrize("path", ["/", "/agents/", "/runs/", "/credits/"])
def test_the_banner_shows_on_every_page_while_the_balance_is_below_it(client, path):
    user = UserFactory(credits=5)
    spend(user, 3.5, "run:a")  # 1.5 left, below the default 2
    client.force_login(user)
    html = client.get(path).content.decode()
    banner = html.split('id="low-balance-banner"')[1].split("</div>")[0]
    assert "Your balance is 1.5 credits, below the 2 you asked to be warned at." in (
        " ".join(banner.split())
    )
    assert 'href="/credits/"' in banner


def test_no_banner_at_or_above_the_threshold_nor_when_the_warning_is_off(client):
    user = UserFactory(credits=2)
    client.force_login(user)
    assert 'id="low-balance-banner"' not in client.get("/agents/").content.decode()
    spend(user, 1, "run:a")
    assert 'id="low-balance-banner"' in client.get("/agents/").content.decode()
    services.account_threshold_set(user=user, threshold="0")
    assert 'id="low-balance-banner"' not in client.get("/agents/").content.decode()


def test_the_banner_costs_one_query_and_none_for_visitors(client):
    def account_queries(path) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return [q["sql"] for q in queries if "billing_creditaccount" in q["sql"]]

    assert account_queries("/") == []
    user = UserFactory(credits=1)
    client.force_login(user)
    assert len(account_queries("/agents/")) == 1
    assert len(account_queries("/runs/")) == 1


# ---------- Setting the threshold ----------


def test_the_credits_page_sets_the_threshold_in_credits(client):
    user = UserFactory(credits=10)
    client.force_login(user)
    page = client.get("/credits/").content.decode()
    assert 'name="low_balance_threshold"' in page
    assert 'value="2"' in page.split('id="id_low_balance_threshold"')[1][:200]
    response = client.post("/credits/threshold/", {"low_balance_threshold": "12.5"})
    assert response.status_code == 302
    assert account(user).low_balance_threshold == 12500
    page = client.get(response["Location"]).content.decode()
    assert "You will be warned when your balance is below 12.5 credits." in page
    assert 'id="low-balance-banner"' in page
    client.post("/credits/threshold/", {"low_balance_threshold": "0"})
    assert account(user).low_balance_threshold == 0
    assert "The low-balance warning is off." in client.get("/credits/").content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "Give 0 or more credits"),
        ("lots", "Give an amount of credits"),
        ("", "Give an amount of credits"),
        ("1.2345", "at most three decimal places"),
        ("5000000", "Give at most 1,000,000 credits."),
    ],
)
def test_a_bad_threshold_is_refused_next_to_the_field_and_nothing_is_saved(
    client, value, message
):
    user = UserFactory(credits=10)
    client.force_login(user)
    response = client.post("/credits/threshold/", {"low_balance_threshold": value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved." in html
    errors = html.split('id="id_low_balance_threshold_error"')[1].split("</small>")[0]
    assert message in errors
    field = html.split('id="id_low_balance_threshold"')[1].split(">")[0]
    assert f'value="{value}"' in field
    assert 'aria-invalid="true"' in field
    assert account(user).low_balance_threshold == 2 * MILLI


def test_visitors_cannot_set_a_threshold(client):
    response = client.post("/credits/threshold/", {"low_balance_threshold": "5"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_api_sets_the_threshold_and_answers_with_the_balance(as_user):
    user = UserFactory(credits=4)
    client = as_user(user)
    response = client.patch(
        "/api/v1/credits/balance/", {"low_balance_threshold": "5"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["balance"], body["low_balance_threshold"], body["low"]) == (4, 5, True)
    assert account(user).low_balance_threshold == 5 * MILLI
    response = client.patch(
        "/api/v1/credits/balance/", {"low_balance_threshold": 0.25}, format="json"
    )
    assert response.json()["low_balance_threshold"] == 0.25


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"low_balance_threshold": "-2"}, "low_balance_threshold"),
        ({"low_balance_threshold": "two"}, "low_balance_threshold"),
        ({"low_balance_threshold": None}, "low_balance_threshold"),
        ({"low_balance_threshold": "0.0001"}, "low_balance_threshold"),
        ({}, "low_balance_threshold"),
        ({"low_balance_threshold": "5", "balance": "900"}, "balance"),
    ],
)
def test_the_api_refuses_a_bad_threshold_with_field_messages(as_user, body, field):
    user = UserFactory(credits=4)
    response = as_user(user).patch("/api/v1/credits/balance/", body, format="json")
    assert response.status_code == 400
    assert response.json()[field]
    assert account(user).low_balance_threshold == 2 * MILLI
    assert account(user).balance == 4 * MILLI


# ---------- One email per dip ----------


def test_an_email_goes_out_once_per_dip_and_again_after_a_top_up(
    django_capture_on_commit_callbacks, tasks_run_in_process
):
    user = UserFactory(credits=5)
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, 2, "run:1")  # 3 left: above 2
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, 1.5, "run:2")  # 1.5: the dip
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert "running low" in email.subject
    assert "Your balance is 1.5 credits, below the 2" in email.body
    assert "/credits/" in email.body
    assert account(user).low_balance_warned_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, 1, "run:3")  # still in the same dip
    assert len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        top_up(user, 10, "pack:1")  # 10.5: the dip is over
    assert account(user).low_balance_warned_at is None
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, 9, "run:4")  # 1.5 again: a new dip
    assert len(mail.outbox) == 2


def test_a_run_charge_that_crosses_the_threshold_warns_after_commit(
    django_capture_on_commit_callbacks, tasks_run_in_process
):
    user = UserFactory(credits=3)
    run = make_run(make_agent(user))
    run_claim(run_id=run.pk, worker="test")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_step_record(
            run=run, order=2, type="agent-thought", payload={"text": "Hm."}, cost=1500
        )
    # Decided under the lock, sent only once the charge has committed.
    assert account(user).low_balance_warned_at is not None
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_step_record(
            run=run, order=3, type="agent-thought", payload={"text": "Hm."}, cost=500
        )
    assert callbacks == []


def test_a_threshold_of_zero_sends_nothing(
    django_capture_on_commit_callbacks, tasks_run_in_process
):
    user = UserFactory(credits=3)
    services.account_threshold_set(user=user, threshold=0)
    with django_capture_on_commit_callbacks(execute=True):
        spend(user, 3, "run:1")
    assert mail.outbox == []
    assert account(user).low_balance_warned_at is None


def test_a_threshold_at_or_below_the_balance_ends_the_dip():
    user = UserFactory(credits=3)
    spend(user, 2, "run:1")
    assert account(user).low_balance_warned_at is not None
    services.account_threshold_set(user=user, threshold="0.5")
    assert account(user).low_balance_warned_at is None
    # Raising it above the balance again starts no dip by itself...
    services.account_threshold_set(user=user, threshold="4")
    assert account(user).low_balance_warned_at is None
    # ...the next charge does.
    spend(user, 0.5, "run:2")
    assert account(user).low_balance_warned_at is not None


def test_no_email_when_the_dip_is_over_before_it_is_sent():
    user = UserFactory(credits=3)
    spend(user, 2, "run:1")
    warned = account(user)
    top_up(user, 5, "pack:1")
    assert notifications.low_balance_email_send(account_id=warned.pk) is False
    assert mail.outbox == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_email_queued_by_a_dip(start_worker):
    """The task is registered under its name and sends: the worker (its own
    process and outbox) reports the task returning True."""
    worker = start_worker()
    user = UserFactory(credits=3)
    spend(user, 2, "run:1")  # commits, and queues the task

    def sent() -> bool:
        return any(
            "billing.low_balance_email" in line
            and "succeeded" in line
            and line.rstrip().endswith(": True")
            for line in worker.output().splitlines()
        )

    assert wait_for(sent, timeout=30), worker.output()
