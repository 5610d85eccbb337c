"""Time `make run` from start to a green /health, then Ctrl-C it and check
that everything (the embedded database included) stopped.

    python3 benchmarks/startup.py [CHECKOUT] [--port 8765] [--runs 2]

Run it on a fresh clone to measure the first start (venv, install, initdb,
migrations, demo data) and the following ones. Standard library only.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def wait_healthy(url: str, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                return json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    return None


def postgres_running(checkout: Path) -> bool:
    pid_file = checkout / ".data" / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def one_run(checkout: Path, port: int, timeout: float) -> tuple[float, float, bool]:
    env = dict(os.environ, PORT=str(port))
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run"],
        cwd=checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    health = wait_healthy(f"http://127.0.0.1:{port}/health", timeout)
    healthy_after = time.monotonic() - started
    if health is None or health.get("status") != "ok":
        os.killpg(process.pid, signal.SIGKILL)
        raise SystemExit(f"not healthy after {timeout}s: {health}")
    stopping = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
    process.wait(timeout=60)
    stopped_after = time.monotonic() - stopping
    return healthy_after, stopped_after, postgres_running(checkout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("checkout", nargs="?", default=".")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900)
    arguments = parser.parse_args()
    checkout = Path(arguments.checkout).resolve()
    print("| run | to green /health s | Ctrl-C to exit s | database left running |")
    print("|---|---|---|---|")
    for number in range(1, arguments.runs + 1):
        healthy, stopped, left = one_run(checkout, arguments.port, arguments.timeout)
        print(
            f"| {number} | {healthy:.1f} | {stopped:.1f} | {'yes' if left else 'no'} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
