"""What each model provider path costs on top of the model itself.

The model is the local fake server (tests/agents/fake_llm.py) answering at
once, so the numbers are the client libraries' and the SDK's own time per run:
the openai client over the Responses API and over Chat Completions, and
LiteLLM for Anthropic and Gemini, each a streamed two-request run (a tool call,
then the answer), beside the in-process demo model. Also the one-off cost of
importing LiteLLM, which a worker pays at its first Anthropic or Gemini run.

    .venv/bin/python -m benchmarks.providers --runs 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import django

django.setup()

from agents.runtime.executor import RunSpec, execute  # noqa: E402
from agents.runtime.providers import AgentryModelProvider, Credentials  # noqa: E402
from tests.agents.doubles import ListRecorder, definition  # noqa: E402
from tests.agents.fake_llm import FakeLLM, call, text  # noqa: E402

KEY = "sk-test"
QUESTION = "What is 2 + 3?"
PATHS = [
    ("local/demo (in-process)", "local/demo", None),
    ("OpenAI Responses (openai client)", "openai/gpt-4.1-mini", "openai"),
    ("OpenAI-compatible Chat Completions", "compatible/llama3.1", "compatible"),
    ("Anthropic via LiteLLM", "anthropic/claude-haiku-4-5", "anthropic"),
    ("Gemini via LiteLLM", "gemini/gemini-2.5-flash", "gemini"),
]


def litellm_import_seconds() -> float:
    """A fresh interpreter importing the SDK's LiteLLM model, minus bare Python."""
    code = (
        "import os, time; os.environ['LITELLM_LOCAL_MODEL_COST_MAP']='True'; "
        "t=time.perf_counter(); import litellm; print(time.perf_counter()-t)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


async def one_run(model: str, provider: AgentryModelProvider, fake: FakeLLM) -> float:
    fake.script = [call("calculator", {"operation": "add", "a": 2, "b": 3}), text("5")]
    spec = RunSpec(
        definition=definition(model=model, tools=["calculator"]),
        input=QUESTION,
        retry_delay=0.0,
    )
    started = time.perf_counter()
    outcome = await execute(spec, ListRecorder(), provider)
    elapsed = time.perf_counter() - started
    if outcome.status != "completed":
        raise SystemExit(f"{model}: {outcome.error}")
    return elapsed * 1000


async def measure(runs: int) -> list[tuple[str, float, float]]:
    rows = []
    with FakeLLM(keys={KEY}) as fake:
        credentials = {
            "openai": Credentials(api_key=KEY, base_url=fake.openai_base_url),
            "compatible": Credentials(api_key=KEY, base_url=fake.openai_base_url),
            "anthropic": Credentials(api_key=KEY, base_url=fake.base_url),
            "gemini": Credentials(api_key=KEY, base_url=fake.base_url),
        }
        for label, model, _provider in PATHS:
            provider = AgentryModelProvider(credentials, timeout=30)
            await one_run(model, provider, fake)  # warm-up (imports, connections)
            times = [await one_run(model, provider, fake) for _ in range(runs)]
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            rows.append((label, statistics.median(times), p95))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.runs))
    print(f"| provider path ({args.runs} runs each) | p50 ms per run | p95 ms |")
    print("| --- | --- | --- |")
    for label, p50, p95 in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} |")
    seconds = litellm_import_seconds()
    print(f"\nImporting LiteLLM in a fresh interpreter: {seconds:.2f} s")


if __name__ == "__main__":
    main()
