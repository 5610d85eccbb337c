"""Stand-ins for tests of the runtime."""

from agents.runtime.sdk import ModelProvider


class FixedProvider(ModelProvider):
    """Hands out the same model (usually the SDK's ScriptedModel) for any name."""

    def __init__(self, model) -> None:
        self.model = model

    def get_model(self, model_name):
        return self.model


class ListRecorder:
    """Keeps steps and deltas in memory; can report a cancellation."""

    def __init__(self, cancel_after_steps: int | None = None) -> None:
        self.steps: list[dict] = []
        self.deltas: list[str] = []
        self.cancel_after_steps = cancel_after_steps

    async def step(self, type, payload, **costs):
        self.steps.append({"type": type, "payload": payload, **costs})

    async def delta(self, text):
        self.deltas.append(text)

    async def cancelled(self):
        return (
            self.cancel_after_steps is not None
            and len(self.steps) >= self.cancel_after_steps
        )

    @property
    def types(self) -> list[str]:
        return [step["type"] for step in self.steps]

    def outputs(self, type: str = "tool-result") -> list:
        """The ``output`` of each step of ``type``, in order."""
        return [s["payload"]["output"] for s in self.steps if s["type"] == type]


def definition(**overrides) -> dict:
    """An agent definition as a version freezes it, for runtime tests."""
    base = {
        "name": "Tester",
        "description": "",
        "instructions": "Be exact.",
        "model": "local/demo",
        "model_settings": {},
        "tools": [],
        "guardrails": {},
        "output_type": None,
    }
    return {**base, **overrides}
