"""Turning a catalog identifier (``provider/model``) into an SDK model.

- ``local/demo``: the offline demo model, in-process.
- ``openai/<name>``: OpenAI's Responses API.
- ``compatible/<name>``: any OpenAI-compatible server (Ollama, vLLM, LM Studio,
  DeepSeek, Groq...) over Chat Completions.
- ``ollama/<name>``: the site's Ollama, over its OpenAI-compatible API.
- ``azure/<deployment>``: the site's Azure OpenAI resource, over Chat
  Completions with openai's Azure client.
- ``anthropic/<name>``, ``gemini/<name>``: through the SDK's LiteLLM extension,
  imported only when such a model runs (it is slow to import; litellm_models.py).

Every client sends through config.outbound's transport: the site's own base
URLs are reached as configured, a user's endpoint and every redirect only where
the outbound rules allow; a refusal fails the run saying why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import httpx2
import openai

from agents.runtime.demo_model import DemoModel
from agents.runtime.sdk import Model, ModelProvider, sdk
from config import outbound

LITELLM_PROVIDERS = ("anthropic", "gemini")
# Spoken to over Chat Completions at a base URL, which they cannot run without.
CHAT_COMPLETIONS_PROVIDERS = ("compatible", "ollama", "azure")
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "compatible": "OpenAI-compatible endpoint",
    "ollama": "Ollama",
    "azure": "Azure OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
}


class ModelUnavailableError(Exception):
    """The model cannot be used; the message tells a person what to do."""


@dataclass(frozen=True)
class Credentials:
    """How to reach one provider for one run.

    ``problem`` says why they cannot be used (a key that no longer decrypts);
    ``check_address`` marks a base URL a user typed, which must lead to a
    public address like any other outbound call (config/outbound.py).
    ``api_version`` is Azure OpenAI's (its ``base_url`` is the resource's
    endpoint).
    """

    api_key: str = ""
    base_url: str = ""
    api_version: str = ""
    problem: str = ""
    check_address: bool = False
    source: str = "site"

    @property
    def trusted_urls(self) -> list[str]:
        """The operator's base URL is reached as configured (an internal proxy,
        a local Ollama); a user's, and every redirect, only if it is public."""
        if self.check_address or not self.base_url:
            return []
        return [self.base_url]

    def refused(self, provider: str, error: Exception) -> ModelUnavailableError:
        """What a person is told when the endpoint was refused by the outbound
        rules (config/outbound.py), with the rules' reason."""
        whose = "Your" if self.check_address else "The site's"
        endpoint = PROVIDER_NAMES[provider].removesuffix(" endpoint") + " endpoint"
        return ModelUnavailableError(f"{whose} {endpoint} cannot be used: {error}")


class _ExplainedRefusals(httpx2.AsyncBaseTransport):
    """The checked transport, its refusals turned into ModelUnavailableError,
    which the executor reports (or falls back from) with the reason; openai's
    client lets exceptions that are not HTTP errors through unchanged."""

    def __init__(self, provider: str, credentials: Credentials) -> None:
        self._inner = outbound.async_transport(trusted_urls=credentials.trusted_urls)
        self._provider = provider
        self._credentials = credentials

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._inner.handle_async_request(request)
        except outbound.OutboundRefusedError as error:
            raise self._credentials.refused(self._provider, error) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


class AgentryModelProvider(ModelProvider):
    """Models for one run, with the credentials chosen for its user.

    ``credentials`` maps a provider id to its :class:`Credentials`;
    ``timeout`` bounds each model request in seconds.
    """

    def __init__(
        self,
        credentials: Mapping[str, Credentials] | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        self.credentials = dict(credentials or {})
        self.timeout = timeout
        self._clients: dict[str, openai.AsyncOpenAI] = {}

    def get_model(self, model_name: str | None) -> Model:
        provider, _, name = (model_name or "local/demo").partition("/")
        if provider == "local" and name == "demo":
            return DemoModel()
        if provider in PROVIDER_NAMES and name:
            credentials = self._credentials(provider)
            if provider == "openai":
                return sdk.OpenAIResponsesModel(
                    model=name, openai_client=self._client(provider, credentials)
                )
            if provider in CHAT_COMPLETIONS_PROVIDERS:
                return sdk.OpenAIChatCompletionsModel(
                    model=name, openai_client=self._client(provider, credentials)
                )
            return _litellm_model(provider, name, credentials, self.timeout)
        raise ModelUnavailableError(
            f"The model {model_name!r} is not available on this site. "
            "Choose another model for the agent."
        )

    async def aclose(self) -> None:
        """Close the run's clients and their connections (the caller's, at the
        end of the run: nothing else would close them)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    def _credentials(self, provider: str) -> Credentials:
        credentials = self.credentials.get(provider)
        label = PROVIDER_NAMES[provider]
        if credentials is not None and credentials.problem:
            raise ModelUnavailableError(credentials.problem)
        if provider in ("ollama", "azure") and (
            credentials is None or not credentials.base_url
        ):
            raise ModelUnavailableError(
                f"This site has no {label} set up, so {provider}/... models "
                "cannot run. Switch the agent to another model."
            )
        if provider in CHAT_COMPLETIONS_PROVIDERS:
            if credentials is None or not credentials.base_url:
                raise ModelUnavailableError(
                    "No OpenAI-compatible endpoint is set up, so compatible/... "
                    "models cannot run. Add your endpoint's URL and key under "
                    "Settings, Provider keys, or switch the agent to another model."
                )
            if credentials.check_address:
                try:
                    _scheme, host, port = outbound.check_url(credentials.base_url)
                    outbound.resolve(host, port)
                except (
                    outbound.OutboundRefusedError,
                    outbound.OutboundFailedError,
                ) as e:
                    raise credentials.refused(provider, e) from None
            return credentials
        if credentials is None or not credentials.api_key:
            setting = {"openai": "OPENAI_API_KEY"}.get(provider, "")
            setting = setting or f"{provider.upper()}_API_KEY"
            raise ModelUnavailableError(
                f"No {label} API key is available, so {label} models cannot run. "
                f"Add your key under Settings, Provider keys (or ask the site to "
                f"set {setting}), or switch the agent to the Offline demo model "
                "(local/demo)."
            )
        return credentials

    def _client(self, provider: str, credentials: Credentials) -> openai.AsyncOpenAI:
        if provider not in self._clients:
            options = {
                # Local servers such as Ollama take any key but need one sent.
                "api_key": credentials.api_key or "none",
                # The runner retries model calls itself (executor.retry_settings),
                # so the client's own retries are off: one bounded, logged policy.
                "max_retries": 0,
                "timeout": self.timeout or openai.DEFAULT_TIMEOUT,
                # Every connection, and every redirect, through the outbound
                # rules; openai's defaults otherwise.
                "http_client": openai.DefaultAsyncHttpxClient(
                    transport=_ExplainedRefusals(provider, credentials)
                ),
            }
            if provider == "azure":
                # The model name is the deployment's: the client posts to
                # {endpoint}/openai/deployments/{model}/chat/completions.
                self._clients[provider] = openai.AsyncAzureOpenAI(
                    azure_endpoint=credentials.base_url,
                    api_version=credentials.api_version,
                    **options,
                )
            else:
                self._clients[provider] = openai.AsyncOpenAI(
                    base_url=credentials.base_url or None, **options
                )
        return self._clients[provider]


def _litellm_model(
    provider: str, name: str, credentials: Credentials, timeout: float | None
):
    # Importing LiteLLM would otherwise fetch a price list from the internet.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # LiteLLM is slow to import: only when such a model runs.
    from agents.runtime import litellm_models

    return litellm_models.litellm_model(provider, name, credentials, timeout)
