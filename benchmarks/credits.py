"""Credits under contention: exact money, and what the ledger costs.

    .venv/bin/python -m benchmarks.credits [--runs 50] [--threads 8] [--seconds 5]

1. 50 runs started at once (one thread each) by one member whose balance
   covers exactly 10 of them (10 credits, each run budgeted 1 credit): how many
   start, then each started run carried out (offline demo model) and the
   final balance, which must equal 10 minus the charges and never go below 0.
2. Ledger writes under contention: threads spending 1 milli-credit at a time
   from one account through ``credit_spend`` (row lock, lots, entry, balance)
   against the floor, a bare ``UPDATE ... SET balance = balance - 1`` on the
   same row, for the same time.

Uses the development database (embedded unless DATABASE_URL is set); creates
its own throwaway users.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Runs started far faster than a person would: no rate limit.
os.environ.setdefault("RATE_LIMIT_RUN_STARTS", "")


def started_at_once(count: int) -> tuple[int, int, object]:
    from django.core.exceptions import ValidationError
    from django.db import connection

    from agents import services
    from billing.models import MILLI
    from billing.services import credit_add
    from community.models import User

    user = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    credit_add(user=user, amount=10 * MILLI, kind="purchase", key=f"bench:{user.pk}")
    agent = services.agent_create(
        owner=user, data={"name": "Bench", "tools": ["calculator"]}
    )
    barrier = threading.Barrier(count)
    started, refused = [], []

    def start() -> None:
        barrier.wait()
        try:
            run = services.run_start(
                agent=agent, user=user, input="What is 2 + 3?", max_credits=1
            )
            started.append(run.pk)
        except ValidationError:
            refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Carried out here, or by a worker if one is running: wait for them all.
    from agents.models import Run

    for run_id in started:
        services.run_execute(run_id=run_id, worker="bench")
    deadline = time.monotonic() + 120
    unfinished = Run.objects.filter(pk__in=started, finished_at__isnull=True)
    while unfinished.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return len(started), len(refused), user


def throughput(seconds: float, threads: int, write) -> float:
    from django.db import connection

    done = []
    stop = time.monotonic() + seconds

    def loop(number: int) -> None:
        count = 0
        while time.monotonic() < stop:
            write(number, count)
            count += 1
        done.append(count)
        connection.close()

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Sum

    from billing.models import MILLI, CreditAccount, LedgerEntry
    from billing.services import credit_add, credit_spend
    from community.models import User

    started, refused, user = started_at_once(arguments.runs)
    account = CreditAccount.objects.get(user=user)
    charged = -(
        LedgerEntry.objects.filter(account=account, kind="run_charge").aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
    print(f"{arguments.runs} runs at once against 10 credits, 1 credit budget each:")
    print(f"  started {started}, refused {refused}")
    print(
        f"  charged {charged / MILLI:g} credits; final balance "
        f"{account.balance / MILLI:g} (= 10 - charges: "
        f"{account.balance == 10 * MILLI - charged}; ledger sum matches: "
        f"{total == account.balance}; held after: {account.held})"
    )

    spender = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    credit_add(user=spender, amount=10**12, kind="purchase", key=f"bench:{spender.pk}")
    run_id = uuid.uuid4().hex[:8]

    def spend(number: int, count: int) -> None:
        credit_spend(user=spender, amount=1, key=f"bench:{run_id}:{number}:{count}")

    account_id = CreditAccount.objects.get(user=spender).pk

    def bare(number: int, count: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_creditaccount SET balance = balance - 1 WHERE id = %s",
                [account_id],
            )

    ledger = throughput(arguments.seconds, arguments.threads, spend)
    floor = throughput(arguments.seconds, arguments.threads, bare)
    print(
        f"Writes to one account, {arguments.threads} threads, {arguments.seconds:g} s:"
    )
    print(f"  ledger (credit_spend): {ledger:.0f}/s")
    print(f"  bare UPDATE:           {floor:.0f}/s  ({floor / ledger:.1f}x)")


if __name__ == "__main__":
    main()
