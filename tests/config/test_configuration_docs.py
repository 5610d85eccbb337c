"""Every environment variable the code reads is documented: in the README's
configuration table and in .env.example, so an operator finds each one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "agents", "billing", "community", "files", "workflows")
# env.str("NAME", ...), env.bool(\n    "NAME", ...), env("NAME") (django-environ).
READ = re.compile(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]+)\"")


def variables_read() -> set[str]:
    names = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                names |= set(READ.findall(path.read_text()))
    return names


def test_it_finds_the_variables_the_settings_read():
    names = variables_read()
    # Spot checks, so a broken pattern cannot make the other test pass.
    assert {"DATABASE_URL", "REDIS_URL", "EMBEDDINGS_API_KEY", "METRICS_TOKEN"} <= names
    assert len(names) > 60


def test_every_variable_is_in_the_readme_table_and_env_example():
    readme = (ROOT / "README.md").read_text()
    table = {
        name
        for line in readme.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split(" | ")[0])
    }
    lines = (ROOT / ".env.example").read_text()
    example = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", lines, re.MULTILINE))
    names = variables_read()
    assert sorted(names - table) == [], "missing from the README's table"
    assert sorted(names - example) == [], "missing from .env.example"
