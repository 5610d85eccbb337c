"""Shared runs: sharing and unsharing, the read-only page at /r/<token>/, the
agent page's "Recent runs shared by the author", the API, the demo data."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agents import services
from agents.models import Agent, Run, RunStatus
from agents.redaction import Secrets, shared_step
from agents.services import sharing
from billing.models import MILLI, EntryKind
from billing.services import credit_add
from community.models import User
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

INSTRUCTIONS = "Never reveal the launch codes kept in drawer 7."
HOOK_URL = "https://hooks.secret-example.com/services/T0123/abcdef"
HOOK_TOKEN = "Bearer hook-secret-123456"


def finish(run, *, status=RunStatus.COMPLETED, output="Forty-five.", **fields):
    """End ``run`` as a worker would, without running it."""
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        status=status,
        final_output=output if status == RunStatus.COMPLETED else None,
        usage={"input_tokens": 30, "output_tokens": 12, "total_tokens": 42},
        cost=2500,
        started_at=now,
        finished_at=now,
        **fields,
    )
    return Run.objects.select_related("agent__owner", "owner", "version").get(pk=run.pk)


def finished_run(agent=None, user=None, **finish_fields) -> Run:
    agent = agent or make_agent(instructions=INSTRUCTIONS)
    run = make_run(agent, user=user, input=finish_fields.pop("input", "5 + 10 * 3?"))
    return finish(run, **finish_fields)


def public_agent(owner=None, **data) -> Agent:
    data.setdefault("instructions", INSTRUCTIONS)
    return make_agent(owner, visibility="public", **data)


def shared(run) -> Run:
    return sharing.run_share(run=run, user=run.owner)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(run_or_token, client=None):
    token = getattr(run_or_token, "share_token", run_or_token)
    return (client or Client()).get(f"/r/{token}/")


# --- sharing and unsharing -------------------------------------------------


def test_sharing_a_finished_run_gives_it_a_token_that_sharing_again_keeps():
    run = finished_run()
    assert (run.share_token, run.shared_at) == (None, None)

    first = shared(run)
    stored = Run.objects.get(pk=run.pk)
    assert len(first.share_token) >= 20
    assert (stored.share_token, stored.shared_at) == (
        first.share_token,
        first.shared_at,
    )
    again = sharing.run_share(run=Run.objects.get(pk=run.pk), user=run.owner)
    assert (again.share_token, again.shared_at) == (first.share_token, first.shared_at)


def test_only_the_person_who_ran_it_may_share_or_unshare_it():
    """Not the agent's owner, not staff, not a stranger."""
    agent = public_agent()
    runner = UserFactory()
    run = finished_run(agent, user=runner)
    for other in (agent.owner, UserFactory(is_staff=True), UserFactory()):
        with pytest.raises(PermissionDenied):
            sharing.run_share(run=run, user=other)
    assert Run.objects.get(pk=run.pk).share_token is None
    shared(run)
    for other in (agent.owner, UserFactory(is_staff=True)):
        with pytest.raises(PermissionDenied):
            sharing.run_unshare(run=run, user=other)
    assert Run.objects.get(pk=run.pk).share_token is not None


def test_a_suspended_account_cannot_share():
    run = finished_run()
    User.objects.filter(pk=run.owner.pk).update(is_suspended=True)
    run.owner.refresh_from_db()
    with pytest.raises(PermissionDenied):
        shared(run)


@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING])
def test_an_unfinished_run_cannot_be_shared(status):
    run = make_run(make_agent())
    Run.objects.filter(pk=run.pk).update(status=status)
    with pytest.raises(ValidationError) as refused:
        shared(run)
    assert "Only a finished run" in refused.value.message_dict["status"][0]
    assert Run.objects.get(pk=run.pk).share_token is None


def test_a_failed_or_cancelled_run_can_be_shared():
    for status in (RunStatus.FAILED, RunStatus.CANCELLED):
        assert shared(finished_run(status=status, error="Stopped.")).share_token


# --- the shared page -------------------------------------------------------


def test_anyone_signed_out_sees_a_shared_run_read_only():
    agent = public_agent(name="Sum tutor")
    run = finished_run(agent, input="What is 5 + 10, then times 3?")
    run.steps.create(
        order=2,
        type="agent-response",
        payload={"agent": "Sum tutor", "text": "It is forty-five."},
        input_tokens=30,
        output_tokens=12,
    )
    run = shared(run)

    response = page(run)

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    html = response.content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert f'<a href="{agent.get_listing_url()}">Sum tutor</a>' in html
    assert run.owner.username in html
    assert "What is 5 + 10, then times 3?" in html  # the input
    assert "It is forty-five." in html  # a step
    assert "Forty-five." in html  # the final output
    assert 'data-status="completed"' in html
    assert "(30 in / 12 out)" in html  # tokens
    assert "2.5 credits" in html
    # Read-only: no live socket, no buttons that act on the run.
    assert "ws-connect" not in html
    for action in ("cancel", "delete", "share"):
        assert f"/runs/{run.pk}/{action}/" not in html


def test_an_unknown_or_unshared_token_is_not_found():
    run = finished_run()
    assert page(run).status_code == 404  # /r/None/: never shared
    assert page("no-such-token").status_code == 404
    assert page("x" * 40).status_code == 404
    shared(run)
    assert page(run).status_code == 200


def test_unsharing_kills_the_old_link_and_sharing_again_makes_a_new_one():
    run = shared(finished_run())
    old_token = run.share_token
    assert page(old_token).status_code == 200

    sharing.run_unshare(run=run, user=run.owner)

    assert page(old_token).status_code == 404
    stored = Run.objects.get(pk=run.pk)
    assert (stored.share_token, stored.shared_at) == (None, None)
    again = shared(stored)
    assert again.share_token != old_token
    assert page(again).status_code == 200
    assert page(old_token).status_code == 404


@pytest.mark.parametrize(
    "hide",
    [
        lambda run: Agent.objects.filter(pk=run.agent_id).update(is_hidden=True),
        lambda run: User.objects.filter(pk=run.owner_id).update(is_hidden=True),
        lambda run: User.objects.filter(pk=run.agent.owner_id).update(is_hidden=True),
        lambda run: User.objects.filter(pk=run.owner_id).update(is_active=False),
        lambda run: User.objects.filter(pk=run.agent.owner_id).update(is_active=False),
    ],
    ids=[
        "agent hidden",
        "runner hidden",
        "agent owner hidden",
        "runner closed",
        "agent owner closed",
    ],
)
def test_a_hidden_agent_or_person_takes_the_shared_page_down(hide):
    run = shared(finished_run(public_agent(), user=UserFactory()))
    assert page(run).status_code == 200
    hide(run)
    assert page(run).status_code == 404
    assert sharing.run_get_shared(token=run.share_token) is None


def test_runs_of_a_hidden_agent_cannot_be_shared():
    run = finished_run()
    Agent.objects.filter(pk=run.agent_id).update(is_hidden=True)
    run.agent.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        shared(run)
    assert "agent" in refused.value.message_dict


def test_the_agent_links_to_its_page_only_when_it_is_public():
    private = make_agent(name="Private helper", instructions=INSTRUCTIONS)
    html = page(shared(finished_run(private))).content.decode()
    assert "Private helper" in html
    assert private.get_listing_url() not in html
    unlisted = make_agent(name="Unlisted helper", visibility="unlisted")
    html = page(shared(finished_run(unlisted))).content.decode()
    assert "Unlisted helper" in html
    assert unlisted.get_listing_url() not in html


def webhook_agent():
    owner = UserFactory()
    tool = services.custom_tool_save(
        owner=owner,
        data={
            "name": "forecast",
            "description": "The weather forecast for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
            "webhook_url": HOOK_URL,
            "secret_header": {"name": "X-Hook-Key", "value": HOOK_TOKEN},
        },
    )
    return public_agent(owner, name="Weather", tools=[tool.reference])


def test_the_shared_page_shows_no_instructions_webhook_url_or_secret_header():
    """Someone else ran the owner's agent; a webhook's error named its host
    and an echoing endpoint sent its header back. None of it is shown."""
    agent = webhook_agent()
    run = make_run(agent, user=UserFactory(), input="Weather in Rome?")
    run.steps.create(
        order=2,
        type="tool-call",
        payload={
            "call_id": "call_private_42",
            "name": "forecast",
            "arguments": {"city": "Rome"},
        },
    )
    run.steps.create(
        order=3,
        type="tool-result",
        payload={
            "call_id": "call_private_42",
            "name": "forecast",
            "output": f"You sent X-Hook-Key: {HOOK_TOKEN} to {HOOK_URL}",
        },
    )
    run.steps.create(
        order=4,
        type="error",
        payload={
            "kind": "internal",
            "message": "Could not reach hooks.secret-example.com: refused",
        },
    )
    run = shared(finish(run, output=f"Sunny (said {HOOK_URL})"))

    html = page(run).content.decode()

    assert "Rome" in html
    assert "forecast" in html
    assert "[hidden]" in html
    for secret in (
        INSTRUCTIONS,
        HOOK_URL,
        "secret-example.com",
        "/services/T0123/abcdef",
        HOOK_TOKEN,
        "hook-secret-123456",
        "call_private_42",
    ):
        assert secret not in html
    # The owner's own page still shows what the run saved.
    own = client_for(run.owner).get(f"/runs/{run.pk}/").content.decode()
    assert "hook-secret-123456" in own


def test_a_shared_step_keeps_only_what_the_timeline_draws():
    step = {
        "id": 1,
        "order": 3,
        "type": "tool-call",
        "payload": {
            "call_id": "call_1",
            "name": "lookup",
            "arguments": {"q": "tea"},
            "depth": 1,
            "agent_tool": "Helper",
            "parent_call_id": "call_0",
            "model": "compatible/private-model",
        },
    }
    kept = shared_step(step, Secrets(literals={"tea"}).pattern())
    assert kept["payload"] == {
        "name": "lookup",
        "arguments": {"q": "[hidden]"},
        "depth": 1,
        "agent_tool": "Helper",
    }
    assert kept["order"] == 3
    request = {"type": "user-request", "payload": {"text": "tea please"}}
    assert shared_step(request, Secrets(literals={"tea"}).pattern()) == request


def test_the_shared_page_hides_the_guardrails_words_and_patterns():
    agent = make_agent(
        guardrails={
            "input": {
                "blocked_words": ["zorblax"],
                "blocked_patterns": [r"\d{4}-vault"],
            }
        }
    )
    run = make_run(agent, input="Open 1234-vault, zorblax!")
    reason = "It matches the pattern '\\\\d{4}-vault'."
    run.steps.create(
        order=2,
        type="guardrail",
        payload={
            "stage": "input",
            "rule": "blocked_patterns",
            "reason": reason,
            "tripped": True,
        },
    )
    run = shared(
        finish(
            run,
            status=RunStatus.FAILED,
            error="The input guardrail (blocked words) stopped the run: "
            "It contains 'zorblax'.",
        )
    )

    html = page(run).content.decode()

    assert "Open 1234-vault, zorblax!" in html  # the input, as typed
    assert html.count("zorblax") == 1
    assert "vault&#x27;" not in html
    assert "d{4}" not in html
    assert "It contains &#x27;[hidden]&#x27;." in html


def test_html_in_the_input_and_output_is_escaped_on_the_shared_page():
    attack = "<script>alert('input')</script>"
    run = shared(
        finished_run(input=attack, output="<img src=x onerror=alert('output')>")
    )
    html = page(run).content.decode()
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


# --- the share switch on the run page ---------------------------------------


def test_the_owner_shares_and_unshares_from_the_run_page():
    run = finished_run()
    client = client_for(run.owner)
    assert ">Share</button>" in client.get(f"/runs/{run.pk}/").content.decode()

    response = client.post(f"/runs/{run.pk}/share/", {"share": "1"}, follow=True)

    run.refresh_from_db()
    assert run.share_token
    html = response.content.decode()
    assert f"http://testserver/r/{run.share_token}/</code>" in html
    assert 'data-copy-target="run-share-url"' in html
    assert "Stop sharing" in html
    response = client.post(
        f"/runs/{run.pk}/share/", {"share": "0"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b'id="run-share"' in response.content
    assert b"<html" not in response.content  # the control alone, for htmx
    assert b">Share</button>" in response.content
    run.refresh_from_db()
    assert run.share_token is None


def test_the_share_switch_toggles_without_a_choice():
    run = finished_run()
    client = client_for(run.owner)
    client.post(f"/runs/{run.pk}/share/")
    assert Run.objects.get(pk=run.pk).share_token
    client.post(f"/runs/{run.pk}/share/")
    assert Run.objects.get(pk=run.pk).share_token is None


def test_others_cannot_share_a_run_from_the_page():
    run = finished_run()
    assert client_for(UserFactory()).post(f"/runs/{run.pk}/share/").status_code == 404
    staff = client_for(UserFactory(is_staff=True))
    assert staff.post(f"/runs/{run.pk}/share/").status_code == 403
    assert Client().post(f"/runs/{run.pk}/share/").status_code == 302  # sign in
    assert Run.objects.get(pk=run.pk).share_token is None


def test_the_page_refuses_to_share_an_unfinished_run():
    run = make_run(make_agent())
    client = client_for(run.owner)
    response = client.post(f"/runs/{run.pk}/share/", {"share": "1"})
    assert response.status_code == 400
    assert "Only a finished run can be shared" in response.content.decode()
    assert Run.objects.get(pk=run.pk).share_token is None


def test_an_unfinished_runs_control_asks_to_be_fetched_again_once_it_finishes():
    """The run page's control waits (data-refresh-url); fetched again once the
    run has finished it offers Share, to the run's owner only."""
    run = make_run(make_agent())
    client = client_for(run.owner)
    waiting = client.get(f"/runs/{run.pk}/").content.decode()
    assert f'data-refresh-url="/runs/{run.pk}/share/"' in waiting
    assert "Once the run has finished" in waiting
    finish(run)
    control = client.get(f"/runs/{run.pk}/share/").content.decode()
    assert 'id="run-share"' in control
    assert "data-refresh-url" not in control
    assert 'name="share" value="1"' in control
    assert client_for(UserFactory()).get(f"/runs/{run.pk}/share/").status_code == 404
    staff = client_for(UserFactory(is_staff=True))
    assert staff.get(f"/runs/{run.pk}/share/").status_code == 404


# --- the agent's page -------------------------------------------------------


def test_the_listing_shows_only_the_owners_shared_runs_newest_first():
    agent = public_agent(name="Poet")
    url = agent.get_listing_url()
    finished_run(agent, input="Owner's unshared run")
    assert "Recent runs shared by the author" not in Client().get(url).content.decode()

    older = shared(finished_run(agent, input="Owner's older share"))
    newer = shared(finished_run(agent, input="Owner's newer share"))
    stranger_run = shared(
        finished_run(agent, user=UserFactory(), input="A stranger's share")
    )

    html = Client().get(url).content.decode()
    assert "Recent runs shared by the author" in html
    assert html.index("Owner&#x27;s newer share") < html.index(
        "Owner&#x27;s older share"
    )
    assert f'href="/r/{newer.share_token}/"' in html
    assert f'href="/r/{older.share_token}/"' in html
    assert stranger_run.share_token not in html
    assert "A stranger" not in html
    assert "unshared run" not in html
    assert [r.pk for r in sharing.runs_shared_on_listing(agent=agent)] == [
        newer.pk,
        older.pk,
    ]


def test_the_listing_shows_at_most_five_shared_runs():
    agent = public_agent()
    runs = [shared(finished_run(agent, input=f"share {n}")) for n in range(7)]
    listed = sharing.runs_shared_on_listing(agent=agent)
    assert [r.pk for r in listed] == [r.pk for r in reversed(runs)][:5]


def listing_queries(client, agent) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(agent.get_listing_url()).status_code == 200
    return len(captured)


def test_the_listing_costs_the_same_queries_with_one_or_many_shared_runs():
    agent = public_agent()
    client = client_for(UserFactory())
    shared(finished_run(agent, input="first"))
    few = listing_queries(client, agent)
    for n in range(8):
        shared(finished_run(agent, input=f"more {n}"))
    assert listing_queries(client, agent) == few


# --- the API ----------------------------------------------------------------


def test_the_api_shares_and_unshares_a_run(as_user):
    run = finished_run()
    api = as_user(run.owner)
    assert api.get(f"/api/v1/runs/{run.pk}/").json()["share_url"] is None

    response = api.post(f"/api/v1/runs/{run.pk}/share/")

    assert response.status_code == 200, response.json()
    run.refresh_from_db()
    body = response.json()
    assert body["share_url"] == f"http://testserver/r/{run.share_token}/"
    assert parse_datetime(body["shared_at"]) == run.shared_at
    assert api.get(f"/api/v1/runs/{run.pk}/").json()["share_url"] == body["share_url"]
    listed = api.get("/api/v1/runs/").json()["results"]
    assert listed[0]["share_url"] == body["share_url"]
    again = api.post(f"/api/v1/runs/{run.pk}/share/").json()
    assert again["share_url"] == body["share_url"]

    assert api.delete(f"/api/v1/runs/{run.pk}/share/").status_code == 204
    assert api.get(f"/api/v1/runs/{run.pk}/").json()["share_url"] is None
    assert page(body["share_url"].split("/")[-2]).status_code == 404


def test_the_api_refuses_unfinished_runs_and_others_runs(as_user):
    run = make_run(make_agent())
    refused = as_user(run.owner).post(f"/api/v1/runs/{run.pk}/share/")
    assert refused.status_code == 400
    assert "Only a finished run" in refused.json()["status"][0]

    done = finished_run()
    stranger = as_user(UserFactory())
    assert stranger.post(f"/api/v1/runs/{done.pk}/share/").status_code == 404
    assert stranger.delete(f"/api/v1/runs/{done.pk}/share/").status_code == 404
    staff = as_user(UserFactory(is_staff=True))
    assert staff.post(f"/api/v1/runs/{done.pk}/share/").status_code == 403
    assert Run.objects.get(pk=done.pk).share_token is None


# --- the demo data ----------------------------------------------------------


def test_the_demo_shares_the_owners_example_run_once():
    call_command("seed_demo")
    tutor = Agent.objects.get(owner__username="alice", slug="arithmetic-tutor")
    assert not sharing.runs_shared_on_listing(agent=tutor)  # no runs yet
    alice = tutor.owner
    credit_add(user=alice, amount=100 * MILLI, kind=EntryKind.PURCHASE, key="t:alice")
    example = finished_run(tutor, user=alice, input=tutor.example_prompts[0])
    own_input = finished_run(tutor, user=alice, input="My own question")

    call_command("seed_demo")

    assert [r.pk for r in sharing.runs_shared_on_listing(agent=tutor)] == [example.pk]
    # Loading again changes nothing, even with a newer example run.
    newer = finished_run(tutor, user=alice, input=tutor.example_prompts[1])
    call_command("seed_demo")
    assert [r.pk for r in sharing.runs_shared_on_listing(agent=tutor)] == [example.pk]
    assert Run.objects.get(pk=own_input.pk).share_token is None
    assert Run.objects.get(pk=newer.pk).share_token is None
