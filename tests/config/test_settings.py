"""Settings resolve for each way Agentry is deployed; each case runs in a fresh
process so that the environment, not this test process, decides."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
from config import embedded_db
print(json.dumps({
    "database": settings.DATABASES["default"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "started_embedded": embedded_db.started_here(),
}, default=str))
"""


def run_fresh(arguments: list[str], **environment) -> subprocess.CompletedProcess:
    """Run Python in a new process whose environment lacks this machine's
    deployment variables, plus `environment`."""
    unset = {
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
        "DEBUG",
    }
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(environment)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def resolve(**environment) -> dict:
    result = run_fresh(["-c", PRINT_SETTINGS], **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_database_url_it_uses_the_embedded_postgres(tmp_path):
    """No DATABASE_URL: the embedded server's socket and the project database;
    the broker and channel layer run on PostgreSQL too."""
    data_dir = tmp_path / "postgres"
    try:
        resolved = resolve(EMBEDDED_DB_DIR=str(data_dir))
        # As any pytest session starting meanwhile does to its parents: the
        # server's own user must still be let through to stop it.
        tmp_path.chmod(0o700)
    finally:
        stopped = run_fresh(
            ["-m", "config.embedded_db", "stop"], EMBEDDED_DB_DIR=str(data_dir)
        )
    database = resolved["database"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "agentry"
    assert database["OPTIONS"]["host"] == str(data_dir)
    assert resolved["started_embedded"] is True
    assert stopped.stdout.strip() == "stopped", stopped.stderr
    assert resolved["layer"] == "config.channel_layer.PostgresChannelLayer"
    assert resolved["broker"].startswith("pgsql+postgresql+psycopg://")
    assert resolved["cache"] == "django.core.cache.backends.db.DatabaseCache"


def test_database_url_is_used_as_is_and_starts_nothing():
    """DATABASE_URL names the server; no embedded server is started for it."""
    resolved = resolve(DATABASE_URL="postgresql://agentry:s3cret@db.internal:5433/prod")
    database = resolved["database"]
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "prod",
    )
    assert (database["USER"], database["PASSWORD"]) == ("agentry", "s3cret")
    assert resolved["started_embedded"] is False
    assert resolved["broker"] == (
        "pgsql+postgresql+psycopg://agentry:s3cret@db.internal:5433/prod"
    )


def test_redis_url_moves_broker_channel_layer_and_cache_to_redis():
    resolved = resolve(
        DATABASE_URL="postgresql://agentry@db.internal/prod",
        REDIS_URL="redis://cache.internal:6379/2",
    )
    assert resolved["layer"] == "channels_redis.core.RedisChannelLayer"
    assert resolved["broker"] == "redis://cache.internal:6379/2"
    assert resolved["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_production_settings_pass_the_deployment_checklist():
    """`manage.py check --deploy` is clean with what a deployment sets."""
    result = run_fresh(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="agentry.example.com",
        DATABASE_URL="postgresql://agentry:pw@db.example.com:5432/agentry",
        REDIS_URL="redis://cache.example.com:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_fresh(
        ["manage.py", "check"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL="postgresql://agentry:pw@db.example.com:5432/agentry",
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


PRINT_CSP = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps([
    settings.CONTENT_SECURITY_POLICY, settings.CONTENT_SECURITY_POLICY_REPORT_ONLY
]))
"""


def resolve_csp(**environment) -> tuple[dict | None, dict | None]:
    result = run_fresh(
        ["-c", PRINT_CSP],
        DATABASE_URL="postgresql://agentry@db.internal/prod",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    enforced, report_only = json.loads(result.stdout.strip().splitlines()[-1])
    return enforced, report_only


def test_csp_report_only_sends_the_policy_for_reports_instead_of_enforcing_it():
    """An operator trying the policy on a live site: browsers report what it
    would block, to CSP_REPORT_URI when set, and block nothing."""
    enforced, report_only = resolve_csp(
        CSP_REPORT_ONLY="true", CSP_REPORT_URI="https://reports.example.com/csp"
    )
    assert enforced is None
    assert report_only["DIRECTIVES"]["script-src"] == ["'self'"]
    assert report_only["DIRECTIVES"]["report-uri"] == [
        "https://reports.example.com/csp"
    ]


def test_csp_lets_forms_reach_only_the_social_login_providers_configured():
    """allauth's social login posts to the site, which redirects to the
    provider: browsers check that redirect against form-action."""
    enforced, report_only = resolve_csp(
        GITHUB_CLIENT_ID="id", GITHUB_CLIENT_SECRET="secret"
    )
    assert report_only is None
    assert "report-uri" not in enforced["DIRECTIVES"]
    form_action = enforced["DIRECTIVES"]["form-action"]
    assert "https://github.com" in form_action
    assert "https://accounts.google.com" not in form_action
