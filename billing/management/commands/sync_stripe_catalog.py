"""Create Agentry's products, prices and coupons in Stripe (test mode) and
copy them into dj-stripe's tables, so Checkout can sell them.

Safe to run again: what exists and matches is left alone; a changed amount
gets a new price that takes over the lookup key.
"""

from django.core.management.base import BaseCommand, CommandError

from billing import payments


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--live",
            action="store_true",
            help="Allow a live-mode key (real money). Without it only test keys run.",
        )

    def handle(self, *args, live=False, **options):
        key = payments.api_key()
        if not key:
            raise CommandError(
                "No Stripe key: set STRIPE_TEST_SECRET_KEY (sk_test_...) first."
            )
        if key.startswith(("sk_live_", "rk_live_")) and not live:
            raise CommandError(
                "That is a live-mode key: this command creates the catalog in "
                "test mode. Pass --live if you mean it."
            )
        try:
            counts = payments.catalog_sync(write=self.stdout.write)
        except payments.PaymentsUnavailableError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                "Stripe catalog in sync: {products} products, {prices} prices and "
                "{coupons} coupons created, {unchanged} already right.".format(**counts)
            )
        )
