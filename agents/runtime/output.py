"""A user's JSON schema as the SDK's output type."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from agents.runtime.sdk import AgentOutputSchemaBase, sdk


class JsonSchemaOutput(AgentOutputSchemaBase):
    """Asks the model for JSON matching ``schema`` and checks what comes back."""

    def __init__(self, schema: dict, name: str = "final_output") -> None:
        self.schema = schema
        self._name = name
        self._validator = jsonschema.validators.validator_for(schema)(schema)

    def is_plain_text(self) -> bool:
        return False

    def name(self) -> str:
        return self._name

    def json_schema(self) -> dict[str, Any]:
        return self.schema

    def is_strict_json_schema(self) -> bool:
        # Users write ordinary schemas (optional properties, no
        # additionalProperties: false); OpenAI's strict mode would reject them.
        return False

    def validate_json(self, json_str: str) -> Any:
        try:
            value = json.loads(json_str)
        except json.JSONDecodeError as error:
            raise sdk.ModelBehaviorError(
                f"The model's answer is not JSON ({error}), but the agent's output "
                "type asks for JSON."
            ) from None
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(value))
        if error is not None:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            raise sdk.ModelBehaviorError(
                f"The model's answer does not match the output type: {error.message} "
                f"(at {where})."
            )
        return value
