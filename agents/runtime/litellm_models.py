"""Anthropic and Gemini models through LiteLLM, over the outbound rules.

Imported only when such a model runs: LiteLLM is slow to import. LiteLLM
speaks the older httpx and makes its own clients (over aiohttp by default);
each model here hands it one instead, whose transport is config.outbound's
(``acompletion(client=...)``, which its Anthropic and Gemini paths use).
"""

from __future__ import annotations

import contextlib

import httpx
import litellm
from litellm.llms.custom_httpx.http_handler import (
    AsyncHTTPHandler,
    get_default_headers,
)

from agents.runtime.providers import Credentials
from agents.runtime.sdk import ModelSettings
from config import outbound

# isort: split
from agents_sdk.extensions.models.litellm_model import LitellmModel


class CheckedHTTPHandler(AsyncHTTPHandler):
    """LiteLLM's async HTTP handler on an httpx client with the checked transport."""

    def __init__(self, *, trusted_urls: list[str]) -> None:
        self._transport = outbound.legacy_async_transport(trusted_urls=trusted_urls)
        # LiteLLM's own default; each call passes its own timeout as well.
        super().__init__(timeout=httpx.Timeout(600.0, connect=5.0))

    def create_client(self, timeout, event_hooks, ssl_verify=None, shared_session=None):
        return httpx.AsyncClient(
            transport=self._transport,
            timeout=timeout,
            event_hooks=event_hooks,
            headers=get_default_headers(),
            follow_redirects=True,
        )


def _refusal(error: BaseException) -> outbound.OutboundRefusedError | None:
    """The outbound refusal behind ``error``: LiteLLM wraps it in its own
    exceptions (a 500, or a stream error), keeping it as their cause."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, outbound.OutboundRefusedError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class CheckedLitellmModel(LitellmModel):
    """The SDK's LiteLLM model, sending through CheckedHTTPHandler; a refused
    endpoint is a ModelUnavailableError saying why, not a server error."""

    def __init__(self, *, model: str, provider: str, credentials: Credentials) -> None:
        super().__init__(
            model=model,
            base_url=credentials.base_url or None,
            api_key=credentials.api_key,
        )
        self._provider = provider
        self._credentials = credentials
        self._handler = CheckedHTTPHandler(trusted_urls=credentials.trusted_urls)

    def _with_client(self, model_settings: ModelSettings) -> ModelSettings:
        return model_settings.resolve(
            ModelSettings(extra_args={"client": self._handler})
        )

    @contextlib.contextmanager
    def _refusals_explained(self):
        try:
            yield
        except Exception as error:
            refusal = _refusal(error)
            if refusal is None:
                raise
            raise self._credentials.refused(self._provider, refusal) from None

    # The SDK's Model interface: the settings come third; the rest is passed
    # through as it came.
    async def get_response(
        self, system_instructions, input, model_settings, *rest, **kwargs
    ):
        with self._refusals_explained():
            return await super().get_response(
                system_instructions,
                input,
                self._with_client(model_settings),
                *rest,
                **kwargs,
            )

    async def stream_response(
        self, system_instructions, input, model_settings, *rest, **kwargs
    ):
        events = super().stream_response(
            system_instructions,
            input,
            self._with_client(model_settings),
            *rest,
            **kwargs,
        )
        with self._refusals_explained():
            async with contextlib.aclosing(events):
                async for event in events:
                    yield event


def litellm_model(
    provider: str, name: str, credentials: Credentials, timeout: float | None
) -> CheckedLitellmModel:
    """``provider/name`` (anthropic or gemini) with these credentials."""
    litellm.telemetry = False
    if timeout:
        litellm.request_timeout = timeout
    # LiteLLM retries nothing unless asked; the runner's retries apply.
    litellm.num_retries = 0
    return CheckedLitellmModel(
        model=f"{provider}/{name}", provider=provider, credentials=credentials
    )
