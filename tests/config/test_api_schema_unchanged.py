"""The API's OpenAPI schema is the contract programs are written against: it
changes only on purpose. docs/openapi.json is the schema as the code
generates it; a change to the API that changes the schema regenerates that
file in the same commit (`make schema`), so the diff shows the contract's
change. Moving code around must leave it byte for byte the same."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.test import Client

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_generated_schema_is_the_committed_one_byte_for_byte(tmp_path):
    generated = tmp_path / "openapi.json"
    call_command("spectacular", format="openapi-json", file=str(generated))

    assert generated.read_bytes() == SNAPSHOT.read_bytes(), (
        "The API schema changed. If that is intended, run `make schema` and "
        "commit docs/openapi.json with the change; if not, the change moved "
        "something the API shows."
    )


def test_the_schema_served_is_the_generated_one():
    """/api/schema/ serves the same document programs read in the docs."""
    served = Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert served == json.loads(SNAPSHOT.read_text())
