"""Real processes of the site (Celery worker, Daphne, beat) for tests that need
them, not eager mode or in-process stand-ins."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import heartbeat

BASE_DIR = Path(__file__).resolve().parent.parent


def process_env(*, database_url: str, redis_url: str, extra: dict | None = None):
    """The environment of a process the tests start: the test settings on the
    test database, with Redis only when a URL is given."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        CELERY_HEARTBEAT_INTERVAL="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("CELERY_BROKER_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update(extra or {})
    return env


class ServiceProcess:
    """A long-running process of the site (worker, web, beat) with its log."""

    ready_marker = ""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        log_path: Path,
        env: dict | None = None,
    ):
        self.database_url = database_url
        self.redis_url = redis_url
        self.log_path = log_path
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def is_ready(self) -> bool:
        return self.ready_marker in self.output()

    def start(self, timeout: float = 60) -> ServiceProcess:
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command(),
            cwd=BASE_DIR,
            env=process_env(
                database_url=self.database_url,
                redis_url=self.redis_url,
                extra=self.extra_env,
            ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command()} exited early:\n{self.output()}")
            if self.is_ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.command()} did not become ready:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no heartbeat removal, no acks."""
        self.process.kill()
        self.process.wait()

    def discard(self) -> None:
        """After a test: SIGKILL the process and its children at once.

        A warm shutdown takes a Celery worker 6 to 9 s (its consumer polls the
        broker for 2 s at a time, its timer thread sleeps out its interval),
        which a test that is over gains nothing from; tests of shutdown itself
        call stop(). Nothing of it survives into the next test either: a task
        still running would write into the database the next test uses."""
        if self.process is None:
            return
        if self.process.poll() is None:
            subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)
            self.process.kill()
            self.process.wait()
        self._log.close()

    def stop(self, timeout: float = 60) -> bool:
        """Warm shutdown, as a deployment stops the process. False when it
        had not exited after ``timeout`` seconds and was killed instead (then
        it ran no shutdown handler: a test of what a warm shutdown does
        should say so rather than fail on what it did not do)."""
        if self.process is None or self.process.poll() is not None:
            return True
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
            warm = True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            warm = False
        self._log.close()
        return warm


class WorkerProcess(ServiceProcess):
    """A Celery worker taking both queues, as the Procfile's two workers do."""

    ready_marker = " ready."

    def __init__(self, *, concurrency: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.concurrency = concurrency

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={self.concurrency}",
            "--pool=prefork",
            "--queues=celery,files",
            f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]

    def discard(self) -> None:
        """Killed, it cannot remove its heartbeat as a warm shutdown does:
        removed here, or /health would count it alive in the next test."""
        super().discard()
        if self.hostname:
            heartbeat.forget_safely(self.hostname)

    @property
    def hostname(self) -> str:
        for line in self.output().splitlines():
            if " ready." in line:
                return line.split()[-2]
        return ""


class WebProcess(ServiceProcess):
    """Daphne serving the whole site (HTTP and websockets) on a free port, with
    a database connection pool, as the Procfile starts it."""

    def __init__(self, *, port: int, **kwargs):
        super().__init__(**kwargs)
        self.extra_env = {"DATABASE_POOL": "true", **self.extra_env}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            # As the Procfile: many browsers connecting at once queue for
            # the database thread, which 5 s (Daphne's default) may not cover.
            "--websocket_connect_timeout",
            "30",
            "config.asgi:application",
        ]

    def is_ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


class BeatProcess(ServiceProcess):
    """Celery beat, sending the periodic tasks (the dead-run sweep among them)."""

    ready_marker = "beat: Starting"

    def __init__(self, *, schedule_path: Path, **kwargs):
        super().__init__(**kwargs)
        self.schedule_path = schedule_path

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            f"--schedule={self.schedule_path}",
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_worker(test_database_url, tmp_path):
    """Start a worker on the test database. By default it uses the same stack as
    this process; `redis_url=""` forces the PostgreSQL broker and channel layer
    (the no-services default)."""
    workers: list[WorkerProcess] = []

    def start(
        redis_url: str | None = None, *, concurrency: int = 1, env: dict | None = None
    ) -> WorkerProcess:
        if redis_url is None:
            redis_url = os.environ.get("REDIS_URL", "")
        worker = WorkerProcess(
            database_url=test_database_url,
            redis_url=redis_url,
            log_path=tmp_path / f"worker-{len(workers)}.log",
            concurrency=concurrency,
            env=env,
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.discard()


def wait_for(predicate, timeout: float = 20, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    return predicate()


__all__ = [
    "BeatProcess",
    "WebProcess",
    "WorkerProcess",
    "free_port",
    "heartbeat",
    "start_worker",
    "wait_for",
]
