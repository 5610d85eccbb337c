"""The site's own model servers: an Ollama or an OpenAI-compatible server the
operator runs is found (its models listed in the builder, the playground and
the API), and Azure OpenAI deployments are offered; runs on them go through the
real openai clients to the fake provider server (tests/agents/fake_llm.py)."""

import os
import socket
import subprocess
import sys
import threading
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from agents import services
from agents.models import LanguageModel, RunStatus
from agents.runtime import discovery
from billing.models import RunBudget
from billing.pricing import DEFAULT_PER_1K, model_turn_cost, tool_call_cost
from billing.selectors import tool_prices
from config.devserver import print_site_models
from tests.agents.factories import make_agent, make_run
from tests.agents.fake_llm import FakeLLM, Listing, call, text
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

OLLAMA_MODELS = ["llama3.2:latest", "qwen2.5:0.5b"]
KEY = "sk-site-0123456789abcdef"


@pytest.fixture(autouse=True)
def _forget_discoveries():
    """Each test finds the servers afresh (the cache outlives a test)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ollama(settings):
    with FakeLLM(keys=None, models=OLLAMA_MODELS) as fake:
        settings.OLLAMA_BASE_URL = fake.base_url
        yield fake


def listed_ids(api) -> list[str]:
    response = api.get("/api/v1/models/?page_size=100")
    assert response.status_code == 200
    return [model["id"] for model in response.json()["results"]]


def provider_state(api, provider_id: str) -> dict:
    providers = api.get("/api/v1/models/providers/").json()["results"]
    return next(p for p in providers if p["id"] == provider_id)


def catalog_ids() -> list[str]:
    return [model.identifier for model in LanguageModel.objects.filter(is_active=True)]


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_now(agent, input="Hello"):
    run = make_run(agent, input=input)
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    return run


def run_with_the_calculator(fake, agent, *, a: int, b: int, answer: str):
    """Run ``agent`` while ``fake`` plays a model that adds ``a`` and ``b``
    with the calculator, then answers."""
    fake.script = [
        call("calculator", {"operation": "add", "a": a, "b": b}),
        text(answer),
    ]
    return run_now(agent, input=f"What is {a} + {b}?")


def assert_answered_by_the_deployment(run, fake, deployment: str, answer: str):
    """The run went to Azure OpenAI's URL for ``deployment`` with the key
    in Azure's header, called the calculator, and answered ``answer``."""
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == answer
    first, _second = fake.model_requests
    assert first["path"] == f"/openai/deployments/{deployment}/chat/completions"
    assert first["query"] == {"api-version": "2024-10-21"}
    assert first["headers"]["api-key"] == KEY


def test_the_sites_ollama_models_are_offered_in_the_builder_and_the_api(
    ollama, client, as_user
):
    user = UserFactory()
    ids = listed_ids(as_user(user))
    assert ids[: len(catalog_ids())] == catalog_ids()
    assert ids[len(catalog_ids()) :] == [
        "ollama/llama3.2:latest",
        "ollama/qwen2.5:0.5b",
    ]
    model = as_user(user).get("/api/v1/models/providers/ollama/models/").json()
    assert [m["id"] for m in model["results"]] == ids[len(catalog_ids()) :]
    first = model["results"][0]
    assert first["available"] is True
    # The price shown is the one runs are charged: the open-source rate.
    assert Decimal(first["input_price_per_1k"]) == DEFAULT_PER_1K
    assert Decimal(first["output_price_per_1k"]) == DEFAULT_PER_1K
    assert provider_state(as_user(user), "ollama")["available"] is True

    client.force_login(user)
    builder = client.get("/agents/new/").content.decode()
    assert 'value="ollama/llama3.2:latest"' in builder
    assert "llama3.2:latest (Ollama on this site)" in builder
    playground = client.get("/playground/").content.decode()
    assert 'value="ollama/qwen2.5:0.5b"' in playground


def test_the_list_is_asked_for_once_a_minute_not_on_every_page(ollama, as_user):
    api = as_user(UserFactory())
    for _ in range(3):
        assert "ollama/qwen2.5:0.5b" in listed_ids(api)
    assert [r["path"] for r in ollama.requests] == ["/api/tags"]
    ollama.models = ["mistral:7b"]
    assert "ollama/mistral:7b" not in listed_ids(api)
    cache.clear()  # as when the minute is over
    assert "ollama/mistral:7b" in listed_ids(api)
    assert len(ollama.requests) == 2


def test_a_catalog_entry_prices_an_ollama_model_and_is_listed_once(ollama, as_user):
    LanguageModel.objects.create(
        provider="ollama",
        name="llama3.2:latest",
        display_name="Llama 3.2 (house price)",
        input_price_per_1k=Decimal("0.1"),
        output_price_per_1k=Decimal("0.2"),
    )
    results = as_user(UserFactory()).get("/api/v1/models/?page_size=100").json()
    entries = [m for m in results["results"] if m["id"] == "ollama/llama3.2:latest"]
    assert len(entries) == 1
    assert entries[0]["display_name"] == "Llama 3.2 (house price)"
    assert Decimal(entries[0]["output_price_per_1k"]) == Decimal("0.2")


def test_with_no_server_there_nothing_changes_and_the_provider_says_why(
    settings, as_user
):
    settings.OLLAMA_BASE_URL = closed_port_url()
    assert listed_ids(as_user(UserFactory())) == catalog_ids()
    provider = provider_state(as_user(UserFactory()), "ollama")
    assert provider["available"] is False
    assert "OLLAMA_BASE_URL" in provider["reason"]


@pytest.mark.parametrize(
    "listing",
    [
        Listing(body=b"this is not JSON {"),
        Listing(body=b"<html><body>Welcome</body></html>", content_type="text/html"),
        Listing(body=b'{"models": "llama3"}'),
        Listing(body=b'{"models": [{"name": 3}, "llama3", {"name": "a\\nb"}]}'),
        Listing(status=500, body=b'{"error": "boom"}'),
        # Larger than any real list: not read to the end.
        Listing(body=b'{"models": [' + b'{"name": "m"},' * 40_000 + b'{"name": "x"}]}'),
    ],
    ids=["not-json", "html", "wrong-shape", "bad-names", "error", "huge"],
)
def test_a_server_answering_garbage_offers_no_models(ollama, as_user, listing):
    ollama.listing = listing
    assert listed_ids(as_user(UserFactory())) == catalog_ids()
    assert [r["path"] for r in ollama.requests] == ["/api/tags"]


def test_a_server_answering_too_slowly_is_given_up_on_within_the_timeout(
    ollama, settings, as_user
):
    """The server holds its answer until the test lets it go: the list comes
    back without the server's models while the server still holds it, so the
    probe gave up rather than waited."""
    settings.MODEL_DISCOVERY_TIMEOUT = 0.5
    release = threading.Event()
    ollama.listing = Listing(release=release)
    try:
        assert listed_ids(as_user(UserFactory())) == catalog_ids()
        assert [r["path"] for r in ollama.requests] == ["/api/tags"]
        # The silence is remembered too: the next page does not ask again.
        assert listed_ids(as_user(UserFactory())) == catalog_ids()
        assert [r["path"] for r in ollama.requests] == ["/api/tags"]
    finally:
        release.set()


def test_the_probe_reads_only_the_names_of_a_real_listing():
    with FakeLLM(keys=None, models=["b:1", "a:2", "b:1"]) as fake:
        assert discovery.ollama_models(fake.base_url, timeout=1.0) == ["a:2", "b:1"]
        assert discovery.compatible_models(
            fake.openai_base_url, api_key="", timeout=1.0
        ) == ["a:2", "b:1"]


def test_an_agent_on_a_discovered_ollama_model_runs_with_tools_at_the_shown_price(
    ollama,
):
    agent = make_agent(model="ollama/llama3.2:latest", tools=["calculator"])
    run = run_with_the_calculator(ollama, agent, a=40, b=2, answer="It is 42.")
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == "It is 42."
    assert run.steps.get(type="tool-result").payload["output"] == "42"
    first, second = ollama.model_requests
    assert first["path"] == "/v1/chat/completions"
    assert first["body"]["model"] == "llama3.2:latest"
    assert [t["function"]["name"] for t in first["body"]["tools"]] == ["calculator"]
    assert any(m["role"] == "tool" for m in second["body"]["messages"])
    # Charged at the open-source rate the model list shows, plus the tool.
    model_cost = sum(
        model_turn_cost(
            input_tokens=step.input_tokens,
            output_tokens=step.output_tokens,
            input_per_1k=DEFAULT_PER_1K,
            output_per_1k=DEFAULT_PER_1K,
        )
        for step in run.steps.all()
    )
    tool_cost = tool_call_cost(per_call=tool_prices()["calculator"].per_call)
    assert model_cost > 0
    assert RunBudget.objects.get(run=run).charged == model_cost + tool_cost


def test_an_ollama_model_that_is_not_listed_cannot_be_chosen(ollama):
    with pytest.raises(ValidationError) as caught:
        make_agent(model="ollama/gpt-oss:120b")
    assert "Unknown model" in str(caught.value)


def test_the_sites_compatible_server_is_listed_for_everyone_without_their_own(
    settings, as_user
):
    with FakeLLM(keys={KEY}, models=["qwen3-8b"]) as fake:
        settings.OPENAI_COMPATIBLE_BASE_URL = fake.openai_base_url
        settings.OPENAI_COMPATIBLE_API_KEY = KEY
        user = UserFactory()
        assert "compatible/qwen3-8b" in listed_ids(as_user(user))
        assert fake.requests[0]["path"] == "/v1/models"
        assert fake.requests[0]["key"] == KEY
        agent = make_agent(user, model="compatible/qwen3-8b")
        run = run_now(agent, input="Hi")
        assert run.status == RunStatus.COMPLETED, run.error
        assert run.final_output == "Echo: Hi"
        assert fake.model_requests[0]["body"]["model"] == "qwen3-8b"

        # Someone with an endpoint of their own runs compatible/... there, so
        # the site's server's models are not offered to them.
        settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
        other = UserFactory()
        services.provider_key_save(
            owner=other,
            provider="compatible",
            key="",
            base_url=fake.openai_base_url,
        )
        assert "compatible/qwen3-8b" not in listed_ids(as_user(other))


def test_azure_deployments_are_offered_and_run_through_the_azure_client(
    settings, as_user
):
    with FakeLLM(keys={KEY}) as fake:
        settings.AZURE_OPENAI_ENDPOINT = fake.base_url
        settings.AZURE_OPENAI_API_KEY = KEY
        settings.AZURE_OPENAI_API_VERSION = "2024-10-21"
        settings.AZURE_OPENAI_DEPLOYMENTS = ["gpt4o-prod"]
        user = UserFactory()
        assert "azure/gpt4o-prod" in listed_ids(as_user(user))
        assert fake.requests == []  # deployments come from the settings
        agent = make_agent(user, model="azure/gpt4o-prod", tools=["calculator"])
        run = run_with_the_calculator(fake, agent, a=2, b=3, answer="5")
    assert_answered_by_the_deployment(run, fake, "gpt4o-prod", "5")


def test_an_azure_model_whose_setup_was_removed_fails_saying_why(settings):
    settings.AZURE_OPENAI_ENDPOINT = "https://example.openai.azure.com"
    settings.AZURE_OPENAI_API_KEY = KEY
    settings.AZURE_OPENAI_DEPLOYMENTS = ["gpt4o-prod"]
    agent = make_agent(model="azure/gpt4o-prod")
    settings.AZURE_OPENAI_ENDPOINT = ""
    with pytest.raises(ValidationError):
        make_agent(model="azure/gpt4o-prod")
    run = run_now(agent)
    assert run.status == RunStatus.FAILED
    assert run.steps.get(type="error").payload["kind"] == "model_unavailable"
    assert run.error.startswith("This site has no Azure OpenAI set up")


def test_a_localhost_url_typed_by_a_user_is_still_refused(ollama):
    """The site's Ollama on loopback is trusted; the same address typed by a
    user as their endpoint is not."""
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        services.provider_key_save(
            owner=user,
            provider="compatible",
            key="",
            base_url=ollama.base_url + "/v1",
        )
    assert "not a public address" in str(caught.value)


@pytest.mark.parametrize("provider", ["ollama", "azure"])
def test_the_python_export_reaches_the_sites_servers_with_the_sdk_alone(
    settings, as_user, tmp_path, provider
):
    with FakeLLM(keys={KEY}, models=["llama3.2:latest"]) as fake:
        settings.OLLAMA_BASE_URL = fake.base_url
        settings.AZURE_OPENAI_ENDPOINT = fake.base_url
        settings.AZURE_OPENAI_API_KEY = KEY
        settings.AZURE_OPENAI_DEPLOYMENTS = ["gpt4o-prod"]
        model = {"ollama": "llama3.2:latest", "azure": "gpt4o-prod"}[provider]
        agent = make_agent(model=f"{provider}/{model}")
        response = as_user(agent.owner).get(f"/api/v1/agents/{agent.pk}/export/python/")
        script = tmp_path / "agent.py"
        script.write_bytes(response.content)
        fake.keys = None  # Ollama takes any key; Azure's is checked below
        # Outside the project, where `import agents` is the SDK.
        result = subprocess.run(
            [sys.executable, str(script), "Hello there"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={
                **os.environ,
                "OPENAI_API_KEY": "",
                "OLLAMA_BASE_URL": fake.base_url,
                "AZURE_OPENAI_ENDPOINT": fake.base_url,
                "AZURE_OPENAI_API_KEY": KEY,
            },
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "Echo: Hello there" in result.stdout
    sent = fake.model_requests[0]
    if provider == "ollama":
        assert sent["path"] == "/v1/chat/completions"
        assert sent["body"]["model"] == "llama3.2:latest"
    else:
        assert sent["path"] == "/openai/deployments/gpt4o-prod/chat/completions"
        assert sent["key"] == KEY


def azure_user(fake, settings, **changes):
    """Someone who saved their own Azure OpenAI resource (the fake, allowed
    here as if it were public) and tested its key."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    user = UserFactory()
    saved = services.provider_key_save(
        owner=user,
        provider="azure",
        key=KEY,
        base_url=fake.base_url,
        deployments=" prod-4o, mini ,prod-4o",
        **changes,
    )
    return user, services.provider_key_test(provider_key=saved)


def test_a_users_own_azure_resource_is_tested_and_its_deployments_run(
    settings, as_user
):
    with FakeLLM(keys={KEY}) as fake:
        user, saved = azure_user(fake, settings)
        assert saved.test_ok is True, saved.test_message
        assert saved.model_names == ["prod-4o", "mini"]
        assert fake.requests[0]["path"] == "/openai/models"
        assert fake.requests[0]["key"] == KEY
        assert "azure/prod-4o" in listed_ids(as_user(user))
        assert provider_state(as_user(user), "azure")["key"] == "yours"
        assert "azure/prod-4o" not in listed_ids(as_user(UserFactory()))

        agent = make_agent(user, model="azure/prod-4o", tools=["calculator"])
        run = run_with_the_calculator(fake, agent, a=1, b=2, answer="3")
    assert_answered_by_the_deployment(run, fake, "prod-4o", "3")


def test_a_users_azure_endpoint_must_lead_to_a_public_address(settings):
    with FakeLLM(keys={KEY}) as fake:
        settings.AZURE_OPENAI_ENDPOINT = fake.base_url  # the site's is trusted
        with pytest.raises(ValidationError) as caught:
            services.provider_key_save(
                owner=UserFactory(),
                provider="azure",
                key=KEY,
                base_url=fake.base_url,
                deployments=["prod-4o"],
            )
    assert "not a public address" in str(caught.value)


def test_a_users_azure_resource_that_became_private_is_refused_at_run_time(settings):
    with FakeLLM(keys={KEY}) as fake:
        user, _saved = azure_user(fake, settings)
        agent = make_agent(user, model="azure/mini")
        settings.OUTBOUND_ALLOWED_NETWORKS = []
        run = run_now(agent)
        assert fake.model_requests == []
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("Your Azure OpenAI endpoint cannot be used")


@pytest.mark.parametrize(
    ("provider", "deployments", "field", "message"),
    [
        ("azure", "", "deployments", "at least one deployment"),
        ("azure", "prod 4o", "deployments", "letters, digits"),
        ("openai", "prod-4o", "deployments", "Only Azure OpenAI"),
    ],
)
def test_azure_deployments_are_named_and_only_for_azure(
    provider, deployments, field, message
):
    with pytest.raises(ValidationError) as caught:
        services.provider_key_save(
            owner=UserFactory(),
            provider=provider,
            key=KEY,
            base_url="https://example.openai.azure.com" if provider == "azure" else "",
            deployments=deployments,
        )
    assert message in " ".join(caught.value.message_dict[field])


def test_the_provider_keys_page_saves_an_azure_resource(settings, client):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    user = UserFactory()
    client.force_login(user)
    form = {
        "provider": "azure",
        "key": KEY,
        "base_url": "http://127.0.0.1:9",
        "deployments": "prod-4o",
    }
    refused = client.post("/settings/provider-keys/", {**form, "deployments": ""})
    assert refused.status_code == 400
    assert 'value="http://127.0.0.1:9"' in refused.content.decode()
    response = client.post("/settings/provider-keys/", form)
    assert response.status_code == 302
    page = client.get("/settings/provider-keys/").content.decode()
    assert "Azure OpenAI" in page
    assert "prod-4o" in page
    assert KEY not in page


def test_make_run_says_which_models_the_sites_servers_offer(settings, capsys):
    settings.OLLAMA_BASE_URL = closed_port_url()
    print_site_models()
    assert "No Ollama or other model server found" in capsys.readouterr().out
    with FakeLLM(keys=None, models=OLLAMA_MODELS) as fake:
        settings.OLLAMA_BASE_URL = fake.base_url
        print_site_models()
    out = capsys.readouterr().out
    assert "ollama/llama3.2:latest, ollama/qwen2.5:0.5b" in out


def test_the_playground_runs_a_discovered_model(ollama, as_user):
    response = as_user(UserFactory()).post(
        "/api/v1/playground/runs/",
        {"model": "ollama/qwen2.5:0.5b", "input": "Hello"},
        format="json",
    )
    assert response.status_code == 202, response.content
