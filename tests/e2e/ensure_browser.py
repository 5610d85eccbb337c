"""Make sure Debian's Chromium is installed for the browser tests.

Run `python -m tests.e2e.ensure_browser`. It installs `chromium` with apt-get
when it can (as root); otherwise it explains that the browser tests will be
skipped. It always exits 0, so a machine without Chromium still builds.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")


def chromium_version() -> str:
    result = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=60
    )
    return (result.stdout or result.stderr).strip() or "unknown version"


def install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("Installing chromium with apt-get (for the browser tests)...")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False
    )


def main() -> int:
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        install_chromium()
    if CHROMIUM.exists():
        print(f"Browser tests will use {CHROMIUM}: {chromium_version()}")
    else:
        print(
            f"Browser tests need Debian's chromium at {CHROMIUM}, and it is not "
            "installed (installing it needs root and apt-get: "
            "`apt-get install -y chromium`). The browser tests will be reported "
            "as skipped."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
