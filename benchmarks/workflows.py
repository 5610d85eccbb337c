"""Workflows: do parallel branches really run at once, and what does a chain
add over running its agents one after another?

    .venv/bin/python -m benchmarks.workflows [--runs 10] [--word-delay 0.015]

With ``local/demo`` agents whose model paces its streamed words with
``asyncio.sleep(--word-delay)`` per word (as a remote model's latency would
keep the worker waiting on I/O; the site's own provider streams the demo with
no delay, which takes milliseconds and could not show concurrency), in-process
on the development database (embedded unless DATABASE_URL is set), medians of
``--runs`` after one warm-up round:

1. Three branch agents of different lengths (their instructions differ, so
   the demo streams 25, 40 and 58 words), each run alone as a one-node
   workflow (the same engine around it); the slowest of them is the floor.
2. A 3-way ``parallel`` node over the same three agents: its time against the
   slowest branch alone (target <= 1.3x) and against the three alone summed
   (what running them one after another would cost).
3. A 5-node chain (agent nodes joined by edges, each on the one before's
   output) against five single-agent runs (``agents.services``) back to back
   on the same inputs (taken from the warm-up chain's outputs), and the
   overhead per node.

Timed with ``time.perf_counter``: "execute" is ``workflow_run_execute`` (or
``run_execute``) alone, "start+execute" adds ``workflow_run_start`` (or
``run_start``). No Celery worker is involved: the enqueue after start is
replaced by a no-op and the run is carried out in this process, as a worker
would, with production's ``DATABASE_CONN_MAX_AGE=60`` unless set. The
benchmark's own data belongs to the user ``bench-workflows``, cleared at each
start. ``--word-delay 0`` shows the platform's own cost alone.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import uuid

# The development settings without DEBUG (which keeps every query's SQL), with
# production's connection reuse: with the development default (0) each run
# reopens the database connection its steps are saved on (production does not).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

OWNER = "bench-workflows"
INPUT = "Summarise the quarterly report for the board in plain words."
# Different first sentences, so the demo's answers differ in length.
BRANCHES = {
    "short": "Be brief.",
    "medium": (
        "Answer as a careful analyst who checks every figure against the "
        "source before writing a single line."
    ),
    "long": (
        "Answer as a senior editor who rewrites the request into a clear, "
        "complete and well ordered summary for busy readers, keeping every "
        "number, name and date exactly as given and adding nothing that the "
        "request does not say."
    ),
}
CHAIN = [
    ("outline", "Outline the main points of the text in order."),
    ("draft", "Turn the outline into a short first draft."),
    ("check", "Check the draft for mistakes and unclear sentences."),
    ("polish", "Polish the wording so that it reads well aloud."),
    ("title", "Give the finished text a fitting title."),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def paced_provider(word_delay: float):
    from agents.runtime.demo_model import DemoModel
    from agents.runtime.providers import AgentryModelProvider

    class PacedProvider(AgentryModelProvider):
        """The site's provider, with ``local/demo`` streaming at a pace."""

        def get_model(self, model_name):
            if (model_name or "local/demo") == "local/demo":
                return DemoModel(word_delay=word_delay)
            return super().get_model(model_name)

    return PacedProvider()


def no_enqueue() -> None:
    """Nothing sent to a broker: this process carries the runs out."""
    from agents.tasks import run_execute_task
    from workflows.tasks import workflow_run_execute_task

    run_execute_task.delay = lambda run_id: None
    workflow_run_execute_task.delay = lambda run_id: None


def setup_data():
    from agents.models import Agent, Run
    from agents.services import agent_create
    from billing.models import MILLI, EntryKind
    from billing.services import account_get_or_create, credit_add
    from community.models import User
    from workflows.models import Workflow
    from workflows.services import workflow_create

    user, _ = User.objects.get_or_create(
        username=OWNER, defaults={"email": f"{OWNER}@agentry.localhost"}
    )
    Run.objects.filter(owner=user).delete()
    Workflow.objects.filter(owner=user).delete()
    Agent.objects.filter(owner=user).delete()
    if account_get_or_create(user=user).balance < 10_000 * MILLI:
        credit_add(
            user=user,
            amount=100_000 * MILLI,
            kind=EntryKind.PURCHASE,
            key=f"{OWNER}:{uuid.uuid4().hex}",
        )

    def agent(name: str, instructions: str):
        return agent_create(
            owner=user, data={"name": f"Bench {name}", "instructions": instructions}
        )

    def workflow(name: str, graph: dict):
        return workflow_create(owner=user, data={"name": name, "graph": graph})

    branches = {name: agent(name, text) for name, text in BRANCHES.items()}
    chain = [agent(name, text) for name, text in CHAIN]
    alone = {
        name: workflow(
            f"Bench {name} alone",
            {
                "entry": name,
                "nodes": [{"id": name, "kind": "agent", "agent": a.pk}],
                "edges": [],
            },
        )
        for name, a in branches.items()
    }
    parallel = workflow(
        "Bench parallel",
        {
            "entry": "fan",
            "nodes": [
                {"id": "fan", "kind": "parallel", "branches": list(branches)},
                *(
                    {"id": name, "kind": "agent", "agent": a.pk}
                    for name, a in branches.items()
                ),
            ],
            "edges": [],
        },
    )
    ids = [name for name, _ in CHAIN]
    chained = workflow(
        "Bench chain",
        {
            "entry": ids[0],
            "nodes": [
                {"id": name, "kind": "agent", "agent": a.pk}
                for name, a in zip(ids, chain, strict=True)
            ],
            "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)],
        },
    )
    return user, chain, alone, parallel, chained


def run_workflow(workflow, user, provider) -> tuple[float, float, object]:
    """(start+execute, execute) seconds, and the finished run."""
    from workflows.runs import workflow_run_execute, workflow_run_start

    started = time.perf_counter()
    run = workflow_run_start(workflow=workflow, user=user, input=INPUT)
    executing = time.perf_counter()
    workflow_run_execute(run_id=run.pk, worker="bench", provider=provider)
    ended = time.perf_counter()
    run.refresh_from_db()
    if run.status != "completed":
        raise SystemExit(f"{workflow.name}: run {run.pk} ended {run.status}")
    return ended - started, ended - executing, run


def run_single(agent, user, text: str, provider) -> tuple[float, float]:
    from agents import services

    started = time.perf_counter()
    run = services.run_start(agent=agent, user=user, input=text)
    executing = time.perf_counter()
    services.run_execute(run_id=run.pk, worker="bench", provider=provider)
    ended = time.perf_counter()
    run.refresh_from_db()
    if run.status != "completed":
        raise SystemExit(f"{agent.name}: run {run.pk} ended {run.status}")
    return ended - started, ended - executing


def chain_inputs(run) -> list[str]:
    """What each chain node was given: the workflow's input, then each
    node's output (the demo is deterministic, so the same every run)."""
    outputs = run.workflow_run.state["outputs"]
    return [INPUT, *(outputs[name] for name, _ in CHAIN[:-1])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--word-delay",
        type=float,
        default=0.015,
        help="seconds the demo model waits per streamed word",
    )
    arguments = parser.parse_args()

    import django

    django.setup()
    from agents.models import RunStep

    no_enqueue()
    provider = paced_provider(arguments.word_delay)
    user, chain, alone, parallel, chained = setup_data()

    # Warm-up: imports, connections, the channel layer; and the chain's inputs.
    for workflow in (*alone.values(), parallel):
        run_workflow(workflow, user, provider)
    _, _, warm = run_workflow(chained, user, provider)
    inputs = chain_inputs(warm)
    for agent, text in zip(chain, inputs, strict=True):
        run_single(agent, user, text, provider)
    words = {}
    for name, workflow in alone.items():
        _, _, run = run_workflow(workflow, user, provider)
        words[name] = len(run.final_output.split())

    timings: dict[str, list[float]] = {}

    def record(key: str, total: float, execute: float) -> None:
        timings.setdefault(f"{key} total", []).append(total)
        timings.setdefault(f"{key} execute", []).append(execute)

    # Interleaved rounds, so drift in the machine's load touches all alike.
    for number in range(arguments.runs):
        for name, workflow in alone.items():
            total, execute, _ = run_workflow(workflow, user, provider)
            record(name, total, execute)
        total, execute, run = run_workflow(parallel, user, provider)
        record("parallel", total, execute)
        total, execute, _ = run_workflow(chained, user, provider)
        record("chain", total, execute)
        singles_total = singles_execute = 0.0
        for agent, text in zip(chain, inputs, strict=True):
            total, execute = run_single(agent, user, text, provider)
            singles_total += total
            singles_execute += execute
        record("singles", singles_total, singles_execute)
        print(f"  round {number + 1}/{arguments.runs}", flush=True)
    steps = RunStep.objects.filter(run=run).count()

    def median(key: str) -> float:
        return statistics.median(timings[key]) * 1000

    def row(label: str, key: str) -> None:
        values = [v * 1000 for v in timings[f"{key} execute"]]
        print(
            f"  {label:<34} {median(key + ' execute'):8.0f} "
            f"{percentile(values, 0.95):8.0f} {median(key + ' total'):8.0f}"
        )

    print(
        f"\nlocal/demo at {arguments.word_delay * 1000:g} ms a word, "
        f"{arguments.runs} runs after a warm-up, medians in ms"
    )
    print(f"  {'':<34} {'execute':>8} {'p95':>8} {'+start':>8}")
    for name in BRANCHES:
        row(f"{name} alone ({words[name]} words, 1-node wf)", name)
    row(f"3-way parallel ({steps} steps)", "parallel")
    row("5-node chain", "chain")
    row("5 single agent runs back to back", "singles")

    for part in ("execute", "total"):
        slowest = max(median(f"{name} {part}") for name in BRANCHES)
        summed = sum(median(f"{name} {part}") for name in BRANCHES)
        both = median(f"parallel {part}")
        chain_ms, singles_ms = median(f"chain {part}"), median(f"singles {part}")
        print(f"\n{'execute only' if part == 'execute' else 'start+execute'}:")
        print(
            f"  parallel / slowest branch alone: {both / slowest:.2f}x "
            f"({both:.0f} / {slowest:.0f} ms; target <= 1.3x)"
        )
        print(
            f"  parallel / the three alone summed: {both / summed:.2f}x "
            f"({both:.0f} / {summed:.0f} ms)"
        )
        print(
            f"  chain / five singles: {chain_ms / singles_ms:.2f}x "
            f"({chain_ms:.0f} / {singles_ms:.0f} ms); per node "
            f"{(chain_ms - singles_ms) / len(CHAIN):+.1f} ms"
        )


if __name__ == "__main__":
    main()
