"""Turning a catalog identifier (``provider/model``) into an SDK model."""

from __future__ import annotations

import openai

from agents.runtime.demo_model import DemoModel
from agents.runtime.sdk import Model, ModelProvider, sdk


class ModelUnavailableError(Exception):
    """The model cannot be used; the message tells a person what to do."""


class AgentryModelProvider(ModelProvider):
    """``local/demo`` runs in-process; ``openai/<name>`` needs an API key.

    ``openai_client`` replaces the HTTP client (tests point it at a fake server
    at the HTTP boundary); ``openai_api_key`` is the site-wide key.
    """

    def __init__(
        self,
        *,
        openai_api_key: str = "",
        openai_base_url: str = "",
        openai_client=None,
        openai_key_problem: str = "",
    ) -> None:
        self.openai_api_key = openai_api_key
        self.openai_base_url = openai_base_url
        self.openai_client = openai_client
        # Why the user's own key cannot be used (it no longer decrypts).
        self.openai_key_problem = openai_key_problem
        self._openai_provider = None

    def get_model(self, model_name: str | None) -> Model:
        provider, _, name = (model_name or "local/demo").partition("/")
        if provider == "local" and name == "demo":
            return DemoModel()
        if provider == "openai" and name:
            return self._openai().get_model(name)
        raise ModelUnavailableError(
            f"The model {model_name!r} is not available on this site. "
            "Choose another model for the agent."
        )

    def _openai(self):
        if self._openai_provider is None:
            if self.openai_key_problem:
                raise ModelUnavailableError(self.openai_key_problem)
            if self.openai_client is None and not self.openai_api_key:
                raise ModelUnavailableError(
                    "No OpenAI API key is available, so OpenAI models cannot run. "
                    "Add your key under Settings, Provider keys (or ask the site "
                    "to set OPENAI_API_KEY), or switch the agent to the Offline "
                    "demo model (local/demo)."
                )
            # The runner retries model calls itself (see executor.retry_settings),
            # so the client's own retries are off: one bounded, logged policy.
            client = self.openai_client or openai.AsyncOpenAI(
                api_key=self.openai_api_key,
                base_url=self.openai_base_url or None,
                max_retries=0,
            )
            self._openai_provider = sdk.OpenAIProvider(openai_client=client)
        return self._openai_provider
