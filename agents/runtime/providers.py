"""Turning a catalog identifier (``provider/model``) into an SDK model.

- ``local/demo``: the offline demo model, in-process.
- ``openai/<name>``: OpenAI's Responses API.
- ``compatible/<name>``: any OpenAI-compatible server (Ollama, vLLM, LM Studio,
  DeepSeek, Groq...) over Chat Completions.
- ``anthropic/<name>``, ``gemini/<name>``: through the SDK's LiteLLM extension,
  imported only when such a model runs (it is slow to import).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import openai

from agents.runtime.demo_model import DemoModel
from agents.runtime.sdk import Model, ModelProvider, sdk
from config import outbound

LITELLM_PROVIDERS = ("anthropic", "gemini")
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "compatible": "OpenAI-compatible endpoint",
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
    """

    api_key: str = ""
    base_url: str = ""
    problem: str = ""
    check_address: bool = False
    source: str = "site"


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
            if provider == "compatible":
                return sdk.OpenAIChatCompletionsModel(
                    model=name, openai_client=self._client(provider, credentials)
                )
            return _litellm_model(f"{provider}/{name}", credentials, self.timeout)
        raise ModelUnavailableError(
            f"The model {model_name!r} is not available on this site. "
            "Choose another model for the agent."
        )

    def _credentials(self, provider: str) -> Credentials:
        credentials = self.credentials.get(provider)
        label = PROVIDER_NAMES[provider]
        if credentials is not None and credentials.problem:
            raise ModelUnavailableError(credentials.problem)
        if provider == "compatible":
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
                    raise ModelUnavailableError(
                        f"Your OpenAI-compatible endpoint cannot be used: {e}"
                    ) from None
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
            # The runner retries model calls itself (see executor.retry_settings),
            # so the client's own retries are off: one bounded, logged policy.
            self._clients[provider] = openai.AsyncOpenAI(
                # Local servers such as Ollama take any key but need one sent.
                api_key=credentials.api_key or "none",
                base_url=credentials.base_url or None,
                max_retries=0,
                timeout=self.timeout or openai.DEFAULT_TIMEOUT,
            )
        return self._clients[provider]


def _litellm_model(model: str, credentials: Credentials, timeout: float | None):
    # Importing LiteLLM would otherwise fetch a price list from the internet.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    from agents_sdk.extensions.models.litellm_model import LitellmModel

    litellm.telemetry = False
    if timeout:
        litellm.request_timeout = timeout
    # LiteLLM retries nothing unless asked; the runner's retries apply.
    litellm.num_retries = 0
    return LitellmModel(
        model=model,
        base_url=credentials.base_url or None,
        api_key=credentials.api_key,
    )
