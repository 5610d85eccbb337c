"""One test database per pytest process, cloned from one migrated template.

Migrating a fresh database takes about a minute (nearly all of it dj-stripe's
migrations). Under pytest-xdist every worker would pay it at once, so the
first worker to get here migrates `test_<name>` (the template; with
`--reuse-db` a later session only applies new migrations to it) and each
process then copies it with `CREATE DATABASE ... TEMPLATE`, which takes about
a second: `test_<name>_gw0`, `test_<name>_gw1`, …, or `test_<name>_main`
without xdist. Tests never write to the template, so every session starts from
the database the migrations make, whatever an earlier session flushed.

A new template runs every migration but dj-stripe's: of the minute, about 45 s
is Django replaying the states of dj-stripe's two big migrations, which the
library ships and `make run` runs. Its tables are made from its models instead
and its migrations recorded as applied (the same tables and columns; three
many-to-many tables' ids come out `integer` where its migrations make them
`bigint`). No migration of this project depends on dj-stripe's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from filelock import FileLock

BASE_DIR = Path(__file__).resolve().parent.parent


def worker_id(config) -> str:
    """`gw0`, `gw1`, … under pytest-xdist; `main` otherwise."""
    return getattr(config, "workerinput", {}).get("workerid", "main")


def _lock_path(settings_dict: dict) -> Path:
    directory = Path(os.environ.get("EMBEDDED_DB_DIR") or BASE_DIR / ".data")
    directory = directory if directory.is_dir() else BASE_DIR
    return directory.parent / f".{settings_dict['NAME']}-template.lock"


def _template_exists(connection, name: str) -> bool:
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def _migrate_new_template(connection, name: str) -> None:
    """Every migration but dj-stripe's, then dj-stripe's tables from its
    models, its migrations recorded as applied."""
    from django.apps import apps
    from django.db.migrations.executor import MigrationExecutor

    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {quote(name)}")
    connection.close()
    connection.settings_dict["NAME"] = name
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    executor.migrate([key for key in graph.leaf_nodes() if key[0] != "djstripe"])
    with connection.schema_editor() as editor:
        for model in apps.get_app_config("djstripe").get_models():
            meta = model._meta
            if meta.managed and not (meta.proxy or meta.swapped):
                editor.create_model(model)
    for key in graph.nodes:
        if key[0] == "djstripe":
            executor.recorder.record_applied(*key)
    connection.close()


def _clone(connection, template: str, clone: str) -> None:
    """Replace the database `clone` with a copy of `template`."""
    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        # A template may have no other session; one left by a process an
        # earlier session killed would make the copy fail.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [template],
        )
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(clone)} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quote(clone)} TEMPLATE {quote(template)}")


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """Replaces pytest-django's: the template migrated once, a copy per process."""
    from django.db import connection
    from django.test.utils import setup_databases

    verbosity = request.config.option.verbose
    original_name = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        with FileLock(_lock_path(connection.settings_dict)):
            # keepdb: an existing template is migrated forward, not rebuilt
            # (with --create-db, rebuilt once, by the first process).
            rebuild = request.config.getvalue("create_db") and worker_id(
                request.config
            ) in ("main", "gw0")
            template = connection.creation._get_test_db_name()
            if not rebuild and not _template_exists(connection, template):
                _migrate_new_template(connection, template)
                connection.settings_dict["NAME"] = original_name
            # Migrations added since are applied here; the cache table made.
            setup_databases(
                verbosity=verbosity,
                interactive=False,
                keepdb=not rebuild,
                aliases={"default"},
                serialized_aliases=set(),
            )
            template = connection.settings_dict["NAME"]
            connection.close()
            clone = f"{template}_{worker_id(request.config)}"
            _clone(connection, template, clone)
        connection.settings_dict["NAME"] = clone
        connection.close()
    yield
    # The copy is made again next session: drop it (processes a test started
    # and left behind are disconnected).
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict["NAME"] = original_name
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(
                f"DROP DATABASE IF EXISTS {connection.ops.quote_name(clone)}"
                " WITH (FORCE)"
            )
