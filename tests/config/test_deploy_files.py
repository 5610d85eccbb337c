"""The deployment files say what the code does: compose.yaml runs the same
processes and queues as the Procfile, from an image built from files that
exist, with the settings production uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def test_compose_runs_every_procfile_process_on_the_same_queues():
    services = compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "files", "beat"} <= set(services)
    for name in ("worker", "files"):
        command = " ".join(services[name]["command"])
        queues = re.search(r"--queues=(\S+)", procfile()[name]).group(1)
        assert f"--queues={queues}" in command
    assert "beat" in services["beat"]["command"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    for name in ("web", "worker", "files", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    # Everything reaches the one PostgreSQL and Redis.
    app = services["web"]["environment"]
    assert app["DATABASE_URL"].startswith("postgres://")
    assert app["REDIS_URL"].startswith("redis://redis:")
    assert "pgvector" in services["db"]["image"]
    assert services["worker"]["environment"]["REDIS_URL"] == app["REDIS_URL"]
    # The web process pools its connections; forked workers must not.
    assert app["DATABASE_POOL"] == "true"
    assert "DATABASE_POOL" not in services["worker"]["environment"]
    assert "DATABASE_POOL=true daphne" in procfile()["web"]
    # Workers get the time to finish a run on SIGTERM.
    for name in ("worker", "files"):
        assert services[name]["stop_grace_period"] == "330s"


def test_the_image_is_built_from_files_that_exist_with_production_settings():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installed = re.search(r"pip install -r (\S+)", dockerfile).group(1)
    assert (ROOT / installed).exists()
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "USER agentry" in dockerfile
    assert "config.asgi:application" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".git"} <= set(ignored)
