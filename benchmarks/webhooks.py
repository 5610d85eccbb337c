"""Stripe webhooks: how fast the real endpoint takes them, and whether
duplicates delivered at the same moment still credit exactly once.

    .venv/bin/python -m benchmarks.webhooks [--events 100] [--threads 8]

Stripe's API is faked at the HTTP layer (tests/billing/fake_stripe.py), so
this measures the site: signature check, dj-stripe's event record and object
sync (its API calls answered in-process), our handler and the ledger write.

1. ``--events`` distinct paid credit-pack Checkout Sessions, delivered one
   after another: per-webhook latency (p50, p95) and webhooks per second.
2. One event delivered by ``--threads`` threads at once, then again by
   ``--threads`` threads as different event ids for the same session (Stripe
   retries overlapping, or both ``completed`` and ``async_payment_succeeded``):
   the buyer must be credited once.

Uses the development database (embedded unless DATABASE_URL is set); creates
its own throwaway users, purchases and webhook endpoint.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

SECRET = "whsec_benchmark"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    import django

    django.setup()
    import responses
    import stripe
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from djstripe.models import WebhookEndpoint

    from billing import payments
    from billing.models import MILLI, Purchase
    from billing.services import account_get_or_create
    from community.models import User
    from tests.billing.fake_stripe import FakeStripe

    settings.STRIPE_TEST_SECRET_KEY = "sk_test_" + "B" * 24
    settings.ALLOWED_HOSTS = ["*"]
    stripe.max_network_retries = 0
    endpoint = WebhookEndpoint.objects.create(
        id=f"we_bench_{uuid.uuid4().hex[:10]}",
        livemode=False,
        secret=SECRET,
        url="https://agentry.example/stripe/webhook/",
        enabled_events=["*"],
        status="enabled",
        api_version="2026-05-27.dahlia",
    )
    url = reverse(
        "djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid}
    )
    urls = {"success_url": "https://a.example/ok", "cancel_url": "https://a.example/"}

    def post(fake, event) -> int:
        body, header = fake.signed(event, SECRET)
        response = Client().post(
            url,
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        return response.status_code

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeStripe(rsps)
        payments.catalog_sync(write=lambda *a: None)
        buyer = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
        events = []
        for _ in range(args.events):
            session = payments.checkout_session_create(
                user=buyer, pack="pack_100", **urls
            )
            fake.checkout_completed(session["id"])
            events.append(
                fake.event("checkout.session.completed", fake.objects[session["id"]])
            )
        latencies = []
        calls_before = len(fake.requests)
        started = time.perf_counter()
        for event in events:
            t0 = time.perf_counter()
            assert post(fake, event) == 200
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        calls = (len(fake.requests) - calls_before) / args.events
        balance = account_get_or_create(user=buyer).balance
        p50 = statistics.median(latencies)
        print(
            f"{args.events} distinct webhooks: p50 {p50:.1f} ms,"
            f" p95 {statistics.quantiles(latencies, n=20)[18]:.1f} ms,"
            f" {args.events / elapsed:.1f}/s; credited {balance // MILLI}"
            f" (expected {100 * args.events}); {calls:.1f} Stripe API calls each"
            " (dj-stripe re-fetching)"
        )

        # Duplicates at the same moment.
        other = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
        session = payments.checkout_session_create(user=other, pack="pack_500", **urls)
        fake.checkout_completed(session["id"])
        same = fake.event("checkout.session.completed", fake.objects[session["id"]])
        variants = [same] * args.threads + [
            fake.event(kind, fake.objects[session["id"]])
            for kind in ["checkout.session.completed"] * (args.threads - 1)
            + ["checkout.session.async_payment_succeeded"]
        ]
        for batch in (variants[: args.threads], variants[args.threads :]):
            barrier = threading.Barrier(len(batch))
            codes = []

            def deliver(event, barrier=barrier, codes=codes):
                barrier.wait()
                try:
                    codes.append(post(fake, event))
                finally:
                    connection.close()

            threads = [threading.Thread(target=deliver, args=(e,)) for e in batch]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            print(f"  {len(batch)} at once: answers {sorted(codes)}")
        credited = account_get_or_create(user=other).balance // MILLI
        purchases = Purchase.objects.filter(user=other).count()
        print(
            f"{2 * args.threads} concurrent deliveries of one purchase: credited "
            f"{credited} (expected 500), {purchases} purchase"
        )


if __name__ == "__main__":
    main()
