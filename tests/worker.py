"""A real Celery worker process for tests that need one (not eager mode)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import heartbeat

BASE_DIR = Path(__file__).resolve().parent.parent


class WorkerProcess:
    def __init__(self, *, database_url: str, redis_url: str, log_path: Path):
        self.database_url = database_url
        self.redis_url = redis_url
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=self.database_url,
            CELERY_HEARTBEAT_INTERVAL="1",
            PYTHONUNBUFFERED="1",
        )
        env.pop("CELERY_BROKER_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        else:
            env.pop("REDIS_URL", None)
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=prefork",
                # Both queues, as the Procfile's two workers take them.
                "--queues=celery,files",
                f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early:\n{self.output()}")
            if " ready." in self.output():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Celery worker did not become ready:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def hostname(self) -> str:
        for line in self.output().splitlines():
            if " ready." in line:
                return line.split()[-2]
        return ""

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def start_worker(test_database_url, tmp_path):
    """Start a worker on the test database. By default it uses the same stack as
    this process; `redis_url=""` forces the PostgreSQL broker and channel layer
    (the no-services default)."""
    workers: list[WorkerProcess] = []

    def start(redis_url: str | None = None) -> WorkerProcess:
        if redis_url is None:
            redis_url = os.environ.get("REDIS_URL", "")
        worker = WorkerProcess(
            database_url=test_database_url,
            redis_url=redis_url,
            log_path=tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()


def wait_for(predicate, timeout: float = 20, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    return predicate()


__all__ = ["WorkerProcess", "heartbeat", "start_worker", "wait_for"]
