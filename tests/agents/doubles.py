"""Stand-ins for tests of the runtime."""

from agents.runtime.sdk import ModelProvider


class FixedProvider(ModelProvider):
    """Hands out the same model (usually the SDK's ScriptedModel) for any name."""

    def __init__(self, model) -> None:
        self.model = model

    def get_model(self, model_name):
        return self.model
