"""How close a run's estimate comes to what the run then costs.

    .venv/bin/python -m benchmarks.estimates [--runs 50]

Runs the showcase agents (agents/demo.py, and the Triage agent with its
handoffs from workflows/demo.py) on the offline `local/demo` model: their
example prompts, then typical prompts (arithmetic, a summary, a
classification, creative writing, a question) until ``--runs`` runs. Each run
is started with ``run_start`` and carried out by ``run_execute`` (the
executor, the recorder and the charges of a real worker, in this process).
For each: the estimate ``run_start`` used (``run_cost_estimate``)
against the run's cost; then the ratio estimate/actual, min, median and max,
and per agent.

Uses the development database (embedded unless DATABASE_URL is set): seeds
the demo data if missing and creates a throwaway member to run as.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import uuid
from collections import defaultdict

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Many runs in a few seconds is the measurement, not abuse: no rate limit.
os.environ.setdefault("RATE_LIMIT_RUN_STARTS", "")

TYPICAL_PROMPTS = [
    "What is 12.5% of 640?",
    "What is 7, then multiply by 2?",
    "Write a haiku about autumn.",
    "Summarize: The committee met on Tuesday. It approved the new budget, "
    "delayed the vote on parking fees, and asked the treasurer for a report on "
    "the library's heating costs before the next meeting in March.",
    "Is this review positive or negative? The soup was cold and the waiter "
    "ignored us for twenty minutes.",
    "Explain in two sentences why the sky is blue.",
    "Translate 'good morning, how are you?' into French.",
    "What is (3 + 4) * 5 - 2?",
]
SHOWCASE = [
    "Arithmetic tutor",
    "World clock",
    "Study helper",
    "Haiku poet",
    "Code reviewer",
    "Meeting summarizer",
    "Trivia host",
    "Triage",
    "Ticket sorter",
    "HR helper",
    "Support answers",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    from agents import services
    from agents.models import Agent, RunStatus
    from billing.models import MILLI, EntryKind
    from billing.services import credit_add
    from community.models import User

    if not Agent.objects.filter(name="Triage").exists():
        call_command("seed_demo", verbosity=0)
    agents = {
        agent.name: agent
        for agent in Agent.objects.filter(
            name__in=SHOWCASE, owner__username__in=["alice", "bob"]
        ).select_related("owner")
    }
    user = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    credit_add(
        user=user, amount=10_000 * MILLI, kind=EntryKind.PURCHASE, key=f"bench:{user}"
    )
    plan = [
        (agents[name], prompt)
        for name in SHOWCASE
        for prompt in agents[name].example_prompts
    ]
    typical = itertools.cycle(
        itertools.product(TYPICAL_PROMPTS, [agents[name] for name in SHOWCASE])
    )
    while len(plan) < arguments.runs:
        prompt, agent = next(typical)
        plan.append((agent, prompt))
    plan = plan[: arguments.runs]

    rows, timings = [], []
    for agent, prompt in plan:
        version = agent.versions.order_by("-number").first()
        began = time.perf_counter()
        estimate = services.run_cost_estimate(
            agent=agent, definition=version.definition, input=prompt
        )["milli"]
        timings.append(time.perf_counter() - began)
        run = services.run_start(agent=agent, user=user, input=prompt)
        services.run_execute(run_id=run.pk, worker="bench-estimates")
        run.refresh_from_db()
        if run.status != RunStatus.COMPLETED:
            print(f"  ({agent.name}: {prompt[:40]!r} ended {run.status}: {run.error})")
        rows.append((agent.name, prompt, estimate, run.cost))

    ratios = [estimate / cost for _name, _prompt, estimate, cost in rows if cost]
    print(f"{len(rows)} runs on local/demo ({len(ratios)} with a cost)")
    print(f"{'agent':<20} {'runs':>4} {'estimate':>9} {'actual':>9} {'ratio':>6}")
    by_agent = defaultdict(list)
    for name, _prompt, estimate, cost in rows:
        by_agent[name].append((estimate, cost))
    for name, pairs in by_agent.items():
        estimate = statistics.mean(e for e, _c in pairs) / MILLI
        cost = statistics.mean(c for _e, c in pairs) / MILLI
        print(
            f"{name:<20} {len(pairs):>4} {estimate:>9.3f} {cost:>9.3f} "
            f"{estimate / cost if cost else float('nan'):>6.2f}"
        )
    print(
        f"estimate/actual: min {min(ratios):.2f}, median "
        f"{statistics.median(ratios):.2f}, max {max(ratios):.2f}; "
        f"{sum(1 / 1.5 <= r <= 1.5 for r in ratios)} of {len(ratios)} within 1.5x"
    )
    print(
        f"an estimate takes {statistics.median(timings) * 1000:.1f} ms (median), "
        f"{max(timings) * 1000:.1f} ms at most"
    )
    if os.environ.get("ESTIMATES_DETAIL"):
        for name, prompt, estimate, cost in rows:
            print(
                f"  {estimate / cost:5.2f} {estimate:>6} {cost:>6} {name}: "
                f"{prompt[:50]}"
            )


if __name__ == "__main__":
    main()
