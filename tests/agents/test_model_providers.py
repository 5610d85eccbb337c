"""Real provider code paths against a local fake server (tests/agents/fake_llm.py):
an OpenAI-compatible endpoint over Chat Completions (the openai client),
Anthropic and Gemini through the SDK's LiteLLM extension (litellm), with
users' keys, tool calls, errors, timeouts and fallbacks."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from agents import services
from agents.models import ProviderKey, RunStatus
from tests.agents.factories import make_agent, make_run
from tests.agents.fake_llm import FakeLLM, call, fail, garbage, hang, text
from tests.community.factories import UserFactory
from tests.config.test_outbound import FakeDNS

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "sk-endpoint-0123456789abcdef"
LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture
def fast_retries(settings):
    settings.AGENT_PROVIDER_RETRIES = 1
    settings.AGENT_PROVIDER_RETRY_DELAY = 0.0


def run_now(agent, input="What is 2 + 3?", user=None):
    run = make_run(agent, user=user, input=input)
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    return run


def compatible_user(fake, settings, key=KEY):
    settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
    user = UserFactory()
    saved = services.provider_key_save(
        owner=user, provider="compatible", key=key, base_url=fake.openai_base_url
    )
    services.provider_key_test(provider_key=saved)
    return user


def test_a_users_endpoint_is_tested_then_its_models_run_with_tools(settings, as_user):
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
        saved = ProviderKey.objects.get(owner=user)
        assert saved.test_ok is True, saved.test_message
        assert saved.model_names == ["gpt-4.1-mini", "llama3.1"]
        assert fake.requests[0]["path"] == "/v1/models"
        assert fake.requests[0]["key"] == KEY
        # The endpoint's models are offered to that user only.
        listed = as_user(user).get("/api/v1/models/providers/compatible/models/")
        assert "compatible/llama3.1" in [m["id"] for m in listed.json()["results"]]
        other = as_user(UserFactory()).get(
            "/api/v1/models/providers/compatible/models/"
        )
        assert other.json()["count"] == 0

        agent = make_agent(user, model="compatible/llama3.1", tools=["calculator"])
        fake.script = [
            call("calculator", {"operation": "add", "a": 2, "b": 3}),
            text("It is 5."),
        ]
        run = run_now(agent)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == "It is 5."
    result = run.steps.get(type="tool-result")
    assert result.payload["output"] == "5"
    first, second = fake.model_requests
    assert first["path"] == "/v1/chat/completions"
    assert first["key"] == KEY
    assert first["body"]["model"] == "llama3.1"
    assert first["body"]["stream"] is True
    assert [t["function"]["name"] for t in first["body"]["tools"]] == ["calculator"]
    # The tool's answer went back to the model in the second request.
    tool_message = next(m for m in second["body"]["messages"] if m["role"] == "tool")
    assert tool_message["content"] == "5"
    assert run.usage["input_tokens"] > 0


def test_an_endpoint_model_the_user_never_listed_is_refused(settings):
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
    agent = make_agent(user)
    with pytest.raises(ValidationError) as caught:
        services.agent_update(
            agent=agent, user=user, data={"model": "compatible/gpt-5-secret"}
        )
    assert "Unknown model" in str(caught.value)
    stranger = UserFactory()
    with pytest.raises(ValidationError) as caught:
        make_agent(stranger, model="compatible/llama3.1")
    assert "Unknown model" in str(caught.value)


def test_a_keyless_local_server_needs_no_key(settings):
    with FakeLLM(keys=None) as fake:
        user = compatible_user(fake, settings, key="")
        saved = ProviderKey.objects.get(owner=user)
        assert saved.test_ok is True
        assert saved.masked == "(no key)"
        agent = make_agent(user, model="compatible/llama3.1")
        run = run_now(agent, input="Hello")
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == "Echo: Hello"


def test_endpoint_urls_must_be_public_http_addresses(settings, as_user):
    user = UserFactory()
    api = as_user(user)
    for url, message in (
        ("http://127.0.0.1:11434/v1", "not a public address"),
        ("http://localhost:11434/v1", "not a public address"),
        ("http://169.254.169.254/latest", "not a public address"),
        ("ftp://example.com/v1", "Only http and https"),
        ("http://user:pw@example.com/v1", "credentials"),
        ("", "base URL"),
    ):
        response = api.post(
            "/api/v1/users/api-keys/",
            {"provider": "compatible", "key": KEY, "base_url": url},
            format="json",
        )
        assert response.status_code == 400, url
        assert message in response.json()["base_url"][0], url
    response = api.post(
        "/api/v1/users/api-keys/",
        {"provider": "openai", "key": KEY, "base_url": "https://example.com"},
        format="json",
    )
    assert response.status_code == 400
    assert "Only an OpenAI-compatible endpoint" in response.json()["base_url"][0]
    assert not ProviderKey.objects.exists()


def test_an_endpoint_that_became_private_is_refused_at_run_time(settings):
    """Checked again before each run: a name may resolve elsewhere later."""
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
        agent = make_agent(user, model="compatible/llama3.1")
        settings.OUTBOUND_ALLOWED_NETWORKS = []
        run = run_now(agent, input="Hello")
        assert fake.model_requests == []
    assert run.status == RunStatus.FAILED
    assert "Your OpenAI-compatible endpoint cannot be used" in run.error
    assert "not a public address" in run.error


def refused_run_error(run) -> str:
    """The message of a run that failed because its endpoint was refused."""
    assert run.status == RunStatus.FAILED
    error = run.steps.get(type="error")
    assert error.payload["kind"] == "model_unavailable"
    assert error.payload["message"] == run.error
    return run.error


def test_a_users_endpoint_that_redirects_inside_is_refused_at_run_time(settings):
    """The endpoint passes the check before the run, then answers with a
    redirect to an address that is not allowed (127.0.0.2, outside the one
    allowed network): the client may not follow it, and the run says why."""
    with FakeLLM(keys={KEY}, host="127.0.0.2") as inside, FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
        agent = make_agent(user, model="compatible/llama3.1")
        fake.redirect_to = inside.base_url
        run = run_now(agent, input="Hello")
        assert [r["path"] for r in fake.model_requests] == ["/v1/chat/completions"]
        assert inside.requests == []
    assert refused_run_error(run) == (
        "Your OpenAI-compatible endpoint cannot be used: 127.0.0.2 is not a public "
        "address (private, loopback, link-local or reserved), so it may not be "
        "called."
    )


def test_a_users_endpoint_whose_name_turns_inside_after_the_check_is_refused(
    settings, monkeypatch
):
    """DNS rebinding: the name answers an allowed address to the check before
    the run, then an internal one. The client connects only to an address it
    checked itself, so the second answer is refused, never connected to."""
    with (
        FakeLLM(keys={KEY}) as fake,
        FakeLLM(keys={KEY}, host="127.0.0.2", port=fake.port) as inside,
    ):
        dns = FakeDNS(monkeypatch, {"llm.test": ["127.0.0.1"]})
        settings.OUTBOUND_ALLOWED_NETWORKS = LOOPBACK
        user = UserFactory()
        saved = services.provider_key_save(
            owner=user,
            provider="compatible",
            key=KEY,
            base_url=f"http://llm.test:{fake.port}/v1",
        )
        assert services.provider_key_test(provider_key=saved).test_ok is True
        agent = make_agent(user, model="compatible/llama3.1")
        dns.answers["llm.test"] = ["127.0.0.1", "127.0.0.2"]
        run = run_now(agent, input="Hello")
        assert inside.requests == []
        assert fake.model_requests == []
    assert "llm.test resolves to 127.0.0.2, which is not a public address" in (
        refused_run_error(run)
    )


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4.1-mini"),
        ("anthropic", "claude-haiku-4-5"),
        ("gemini", "gemini-2.5-flash"),
    ],
)
def test_the_sites_endpoint_is_trusted_but_not_where_it_redirects(
    settings, provider, model
):
    """An operator's base URL may be internal (here loopback, which no
    network setting allows); a redirect from it to another internal host is
    refused all the same, for the openai client and LiteLLM alike."""
    with FakeLLM(keys={KEY}, host="127.0.0.2") as inside, FakeLLM(keys={KEY}) as fake:
        base = fake.openai_base_url if provider == "openai" else fake.base_url
        setattr(settings, f"{provider.upper()}_BASE_URL", base)
        setattr(settings, f"{provider.upper()}_API_KEY", KEY)
        agent = make_agent(model=f"{provider}/{model}")
        assert run_now(agent, input="Hi").final_output == "Echo: Hi"
        fake.redirect_to = inside.base_url
        run = run_now(agent, input="Hello")
        assert inside.requests == []
    label = {"openai": "OpenAI", "anthropic": "Anthropic", "gemini": "Google Gemini"}
    assert refused_run_error(run).startswith(
        f"The site's {label[provider]} endpoint cannot be used: 127.0.0.2 is not "
        "a public address"
    )


def test_the_database_never_holds_an_endpoint_key_in_clear(settings):
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
    saved = ProviderKey.objects.get(owner=user)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(k)::text FROM agents_providerkey k WHERE id = %s",
            [saved.pk],
        )
        row = cursor.fetchone()[0]
    assert KEY not in row
    assert KEY[-4:] in saved.masked


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        (fail(429, "Slow down"), "rate-limiting requests (429) after 2 attempts"),
        (fail(500, "Boom"), "server error (500) after 2 attempts"),
        (fail(400, "Bad tool schema"), "refused the request (400)"),
        (garbage(), "could not be read"),
        (hang(3), "did not answer in time"),
    ],
)
def test_endpoint_failures_end_the_run_with_a_readable_step(
    settings, fast_retries, turn, expected
):
    settings.AGENT_MODEL_REQUEST_TIMEOUT = 0.5
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
        agent = make_agent(user, model="compatible/llama3.1")
        fake.script = [turn, turn]
        run = run_now(agent, input="Hello")
    assert run.status == RunStatus.FAILED
    assert expected in run.error
    error = run.steps.get(type="error")
    assert error.payload["kind"] == "provider"
    assert expected in error.payload["message"]


def test_a_failing_endpoint_hands_the_run_to_the_fallback_model(settings, fast_retries):
    with FakeLLM(keys={KEY}) as fake:
        user = compatible_user(fake, settings)
        agent = make_agent(
            user, model="compatible/llama3.1", fallback_model="local/demo"
        )
        fake.script = [fail(503, "Overloaded"), fail(503, "Overloaded")]
        run = run_now(agent, input="Hello there")
        assert len(fake.model_requests) == 2
    assert run.status == RunStatus.COMPLETED, run.error
    steps = list(run.steps.order_by("order"))
    fallback = next(s for s in steps if s.type == "fallback")
    assert fallback.payload["from"] == "compatible/llama3.1"
    assert fallback.payload["to"] == "local/demo"
    assert "(503)" in fallback.payload["reason"]
    assert steps[-1].type == "agent-response"
    assert not run.steps.filter(type="error").exists()


@pytest.mark.parametrize(
    ("provider", "model", "path"),
    [
        ("anthropic", "claude-haiku-4-5", "/v1/messages"),
        (
            "gemini",
            "gemini-2.5-flash",
            "/models/gemini-2.5-flash:streamGenerateContent",
        ),
    ],
)
def test_litellm_providers_test_keys_and_run_tools(settings, provider, model, path):
    with FakeLLM(keys={KEY}) as fake:
        setattr(settings, f"{provider.upper()}_BASE_URL", fake.base_url)
        user = UserFactory()
        saved = services.provider_key_save(owner=user, provider=provider, key=KEY)
        saved = services.provider_key_test(provider_key=saved)
        assert saved.test_ok is True, saved.test_message
        bad = services.provider_key_save(
            owner=UserFactory(), provider=provider, key="nope"
        )
        bad = services.provider_key_test(provider_key=bad)
        assert bad.test_ok is False
        assert "rejected this key (401)" in bad.test_message

        agent = make_agent(user, model=f"{provider}/{model}", tools=["calculator"])
        fake.script = [
            call("calculator", {"operation": "multiply", "a": 6, "b": 7}),
            text("It is 42."),
        ]
        run = run_now(agent, input="What is 6 times 7?")
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == "It is 42."
    assert run.steps.get(type="tool-result").payload["output"] == "42"
    first = fake.model_requests[0]
    assert first["path"] == path
    assert first["key"] == KEY


@pytest.mark.parametrize("provider", ["anthropic", "gemini"])
def test_litellm_failures_end_the_run_with_a_readable_step(
    settings, fast_retries, provider
):
    model = {"anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}[provider]
    with FakeLLM(keys={KEY}) as fake:
        setattr(settings, f"{provider.upper()}_BASE_URL", fake.base_url)
        setattr(settings, f"{provider.upper()}_API_KEY", KEY)
        agent = make_agent(model=f"{provider}/{model}")
        fake.script = [fail(429, "Slow down"), fail(429, "Slow down")]
        run = run_now(agent, input="Hello")
        assert len(fake.model_requests) == 2
    assert run.status == RunStatus.FAILED
    assert "rate-limiting requests (429) after 2 attempts" in run.error


def test_without_any_key_litellm_models_say_how_to_fix_it():
    agent = make_agent(model="anthropic/claude-haiku-4-5")
    run = run_now(agent, input="Hello")
    assert run.status == RunStatus.FAILED
    assert "No Anthropic API key" in run.error
    assert "ANTHROPIC_API_KEY" in run.error
