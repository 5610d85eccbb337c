"""`make run`: the whole site on one machine, with demo data.

Starts (or reuses) the embedded database, migrates, loads demo data, says
which models the operator's own servers offer (Ollama, an OpenAI-compatible
server, Azure OpenAI), then runs the Procfile's processes (Daphne, a Celery
worker for runs and one for files, Celery beat) with honcho, sharing one
Prometheus metrics directory.
Ctrl-C stops them all, then the embedded database.
"""

import os
import shutil
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("HOST", "127.0.0.1")
    os.environ.setdefault("PORT", "8000")
    os.environ.setdefault("CELERY_CONCURRENCY", "2")
    os.environ.setdefault("FILES_CONCURRENCY", "1")
    os.environ["PYTHONUNBUFFERED"] = "1"

    import django

    django.setup()  # starts the embedded database when DATABASE_URL is unset
    from django.conf import settings
    from django.core.management import call_command

    from config import embedded_db

    try:
        call_command("migrate", interactive=False, verbosity=1)
        call_command("createcachetable")
        print("Demo accounts:")
        call_command("seed_demo")
        print_site_models()
        return _run_processes(settings)
    finally:
        if not os.environ.get("DATABASE_URL") and embedded_db.stop():
            print("Stopped the embedded database.")


def print_site_models() -> None:
    """Say which models the operator's own servers offer (Ollama, an
    OpenAI-compatible server, Azure OpenAI), or how to connect one."""
    # After django.setup(): the app registry must be ready.
    from agents.selectors import site_models

    found = [model.identifier for model in site_models(user=None)]
    if found:
        print("Models from this site's own servers: " + ", ".join(found))
    else:
        print(
            "No Ollama or other model server found: the Offline demo model "
            "runs. README, 'Use a real model', connects one."
        )


def _run_processes(settings) -> int:
    from honcho.environ import expand_processes, parse_procfile
    from honcho.manager import Manager
    from honcho.printer import Printer

    # Every process of this machine writes its metrics here and /metrics adds
    # them up (config/metrics.py); a fresh start begins from zero.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = BASE_DIR / ".data" / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    procfile = parse_procfile((BASE_DIR / "Procfile").read_text())
    bin_dir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    manager = Manager(Printer(sys.stdout, colour=sys.stdout.isatty(), prefix=True))
    for process in expand_processes(procfile.processes, env=env):
        manager.add_process(process.name, process.cmd, env=process.env, cwd=BASE_DIR)
    url = f"http://{os.environ['HOST']}:{os.environ['PORT']}/"
    print(f"\nAgentry is starting at {url}  (health: {url}health, admin: {url}admin/)")
    print("Press Ctrl-C to stop everything.\n")
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
