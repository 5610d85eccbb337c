"""Users' own provider keys: encrypted at rest, masked, tested, used for runs.

OpenAI is played by a local HTTP server speaking its wire format
(tests/agents/fake_llm.py), so the real client code paths run.
"""

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from agents import services
from agents.models import ProviderKey, RunStatus
from tests.agents.factories import make_agent, make_run
from tests.agents.fake_llm import FakeLLM
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "sk-test-0123456789abcdefWXYZ"


def stored_row_text(provider_key) -> str:
    """Every column of the key's row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(k)::text FROM agents_providerkey k WHERE id = %s",
            [provider_key.pk],
        )
        return cursor.fetchone()[0]


def test_the_database_never_holds_the_key_in_clear():
    provider_key = services.provider_key_save(
        owner=UserFactory(), provider="openai", key=SECRET
    )
    row = stored_row_text(provider_key)
    assert SECRET not in row
    assert SECRET[3:-4] not in row
    assert provider_key.masked == "sk-…WXYZ"
    from config import crypto

    assert crypto.decrypt(provider_key.encrypted_key) == SECRET


def test_saving_again_replaces_the_key_for_that_provider():
    owner = UserFactory()
    services.provider_key_save(owner=owner, provider="openai", key=SECRET)
    services.provider_key_save(owner=owner, provider="openai", key="sk-other-1234")
    assert ProviderKey.objects.get(owner=owner).masked == "sk-…1234"


def test_a_new_encryption_key_first_still_reads_old_secrets(settings):
    old = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    provider_key = services.provider_key_save(
        owner=UserFactory(), provider="openai", key=SECRET
    )
    from config import crypto

    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert crypto.decrypt(provider_key.encrypted_key) == SECRET
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError, match="entered again"):
        crypto.decrypt(provider_key.encrypted_key)


def test_the_api_saves_lists_and_deletes_keys_without_ever_returning_them(
    as_user,
):
    owner = UserFactory()
    response = as_user(owner).post(
        "/api/v1/users/api-keys/", {"provider": "openai", "key": SECRET}
    )
    assert response.status_code == 201
    body = response.json()
    assert SECRET not in response.content.decode()
    assert body["masked"] == "sk-…WXYZ"
    assert "key" not in body
    listed = as_user(owner).get("/api/v1/users/api-keys/")
    assert SECRET not in listed.content.decode()
    assert [k["id"] for k in listed.json()["results"]] == [body["id"]]
    url = f"/api/v1/users/api-keys/{body['id']}/"
    assert as_user(UserFactory()).get(url).status_code == 404
    assert as_user(UserFactory()).delete(url).status_code == 404
    assert as_user(owner).delete(url).status_code == 204
    assert not ProviderKey.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "openai"}, "key"),
        ({"provider": "openai", "key": "  "}, "key"),
        ({"provider": "openai", "key": "sk with spaces"}, "key"),
        ({"provider": "acme", "key": SECRET}, "provider"),
    ],
)
def test_bad_keys_are_refused_with_field_messages(as_user, body, field):
    response = as_user(UserFactory()).post("/api/v1/users/api-keys/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not ProviderKey.objects.exists()


def test_testing_a_key_calls_the_provider_once_and_records_the_answer(
    as_user, settings
):
    owner = UserFactory()
    good = services.provider_key_save(owner=owner, provider="openai", key=SECRET)
    with FakeLLM(keys={SECRET}) as fake:
        settings.OPENAI_BASE_URL = fake.openai_base_url
        response = as_user(owner).post(f"/api/v1/users/api-keys/{good.pk}/test/")
        assert response.json()["test_ok"] is True
        assert "2 models" in response.json()["test_message"]
        assert [(r["path"], r["key"]) for r in fake.requests] == [
            ("/v1/models", SECRET)
        ]

        services.provider_key_save(owner=owner, provider="openai", key="sk-wrong-0000")
        response = as_user(owner).post(f"/api/v1/users/api-keys/{good.pk}/test/")
        assert response.json()["test_ok"] is False
        assert "rejected this key (401)" in response.json()["test_message"]
    response = as_user(owner).post(f"/api/v1/users/api-keys/{good.pk}/test/")
    assert response.json()["test_ok"] is False
    assert "Could not reach the provider" in response.json()["test_message"]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_testing_a_key_never_follows_the_sites_endpoint_inside(settings, provider):
    """The site's base URL is called as configured (here loopback, which no
    network setting allows), but a redirect from it to another internal
    address is refused, and the test says why."""
    with (
        FakeLLM(keys={SECRET}, host="127.0.0.2") as inside,
        FakeLLM(keys={SECRET}) as fake,
    ):
        base = fake.openai_base_url if provider == "openai" else fake.base_url
        setattr(settings, f"{provider.upper()}_BASE_URL", base)
        saved = services.provider_key_save(
            owner=UserFactory(), provider=provider, key=SECRET
        )
        assert services.provider_key_test(provider_key=saved).test_ok is True
        fake.redirect_to = inside.base_url
        saved = services.provider_key_test(provider_key=saved)
        assert inside.requests == []
    assert saved.test_ok is False
    assert saved.test_message.startswith("127.0.0.2 is not a public address")


@pytest.mark.django_db(transaction=True)
def test_a_run_uses_the_runners_own_key_before_the_sites(settings):
    """Through the SDK's OpenAI Responses model and the real client, streamed."""
    owner = UserFactory()
    agent = make_agent(owner, model="openai/gpt-4.1-mini", instructions="Be kind.")
    services.provider_key_save(owner=owner, provider="openai", key=SECRET)
    settings.OPENAI_API_KEY = "sk-site-key-9999"
    with FakeLLM(keys={SECRET, "sk-site-key-9999"}) as fake:
        settings.OPENAI_BASE_URL = fake.openai_base_url
        run = make_run(agent, input="Hello there")
        services.run_execute(run_id=run.pk, worker="test")
        stranger_run = make_run(
            make_agent(model="openai/gpt-4.1-mini"), input="Hi from someone else"
        )
        services.run_execute(run_id=stranger_run.pk, worker="test")
    run.refresh_from_db()
    stranger_run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.final_output == "Echo: Hello there"
    assert run.steps.filter(type="agent-response").exists()
    assert stranger_run.status == RunStatus.COMPLETED, stranger_run.error
    keys = [r["key"] for r in fake.requests if r["path"] == "/v1/responses"]
    assert keys == [SECRET, "sk-site-key-9999"]
    sent = next(r for r in fake.requests if r["path"] == "/v1/responses")
    assert sent["body"]["model"] == "gpt-4.1-mini"
    assert sent["body"]["stream"] is True
    assert sent["body"]["instructions"] == "Be kind."


@pytest.mark.django_db(transaction=True)
def test_a_key_that_no_longer_decrypts_fails_the_run_saying_to_enter_it_again(
    settings,
):
    owner = UserFactory()
    agent = make_agent(owner, model="openai/gpt-4.1-mini")
    services.provider_key_save(owner=owner, provider="openai", key=SECRET)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    run = make_run(agent, input="Hello")
    services.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "entered again" in run.error


def test_the_settings_page_saves_tests_and_removes_a_key(client, settings):
    owner = UserFactory()
    client.force_login(owner)
    response = client.post(
        "/settings/provider-keys/", {"provider": "openai", "key": SECRET}
    )
    assert response.status_code == 302
    page = client.get("/settings/provider-keys/").content.decode()
    assert "sk-…WXYZ" in page
    assert SECRET not in page
    provider_key = ProviderKey.objects.get(owner=owner)
    with FakeLLM(keys={SECRET}) as fake:
        settings.OPENAI_BASE_URL = fake.openai_base_url
        client.post(f"/settings/provider-keys/{provider_key.pk}/test/")
    page = client.get("/settings/provider-keys/").content.decode()
    assert "The key works: 2 models available." in page
    client.post(f"/settings/provider-keys/{provider_key.pk}/delete/")
    assert not ProviderKey.objects.exists()


def test_the_settings_page_shows_errors_and_keeps_others_keys_private(client):
    owner = UserFactory()
    someone = services.provider_key_save(
        owner=UserFactory(), provider="openai", key=SECRET
    )
    client.force_login(owner)
    response = client.post("/settings/provider-keys/", {"provider": "openai"})
    assert response.status_code == 400
    assert "Paste the API key." in response.content.decode()
    for action in ("test", "delete"):
        url = f"/settings/provider-keys/{someone.pk}/{action}/"
        assert client.post(url).status_code == 404
    assert ProviderKey.objects.filter(pk=someone.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/settings/provider-keys/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_providers_say_whether_your_runs_can_use_them_and_why_not(as_user, settings):
    settings.OPENAI_API_KEY = ""
    owner = UserFactory()
    client = as_user(owner)
    providers = {
        p["id"]: p for p in client.get("/api/v1/models/providers/").json()["results"]
    }
    assert providers["local"]["available"] is True
    assert providers["openai"]["available"] is False
    assert "add yours under Settings" in providers["openai"]["reason"]
    models = {m["id"]: m for m in client.get("/api/v1/models/").json()["results"]}
    assert models["local/demo"]["available"] is True
    assert models["openai/gpt-4.1-mini"]["available"] is False
    assert models["openai/gpt-4.1-mini"]["unavailable_reason"]

    settings.OPENAI_API_KEY = "sk-site"
    openai = client.get("/api/v1/models/providers/").json()["results"][1]
    assert (openai["available"], openai["key"]) == (True, "site")
    services.provider_key_save(owner=owner, provider="openai", key=SECRET)
    openai = client.get("/api/v1/models/providers/").json()["results"][1]
    assert openai["key"] == "yours"


def test_a_providers_models_and_capabilities_are_listed(as_user):
    client = as_user(UserFactory())
    models = client.get("/api/v1/models/providers/openai/models/").json()["results"]
    assert {m["id"] for m in models} >= {"openai/gpt-4.1-mini", "openai/gpt-4.1"}
    assert all(m["provider"] == "openai" for m in models)
    capabilities = client.get("/api/v1/models/providers/local/capabilities/").json()
    assert capabilities["tools"] == ["local/demo"]
    assert client.get("/api/v1/models/providers/acme/models/").status_code == 404
