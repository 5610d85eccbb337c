"""Give credits to one person, several, a group or everyone: one ledger entry
per person (kind "grant", with the reason) and one audit entry each.

    python manage.py grant_credits --user alice --amount 5 --reason "Beta tester"
    python manage.py grant_credits --group teachers --amount 20 --reason "Course"
    python manage.py grant_credits --all --amount 2 --reason "Sorry for the outage"

Give ``--grant-id`` to make running it again harmless: nobody gets the same
grant twice.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing import selectors, services
from billing.models import MILLI


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            action="append",
            default=[],
            metavar="USERNAME_OR_EMAIL",
            help="A person to give credits to; repeat it for several.",
        )
        parser.add_argument("--group", default="", help="Every member of a group.")
        parser.add_argument("--all", action="store_true", help="Every active person.")
        parser.add_argument("--amount", required=True, help="Credits each, e.g. 5.")
        parser.add_argument("--reason", required=True, help="Shown in their history.")
        parser.add_argument(
            "--by", default="", help="The staff member's username, for the audit log."
        )
        parser.add_argument(
            "--grant-id", default="", help="Makes running it again give nothing more."
        )

    def handle(self, *args, **options):
        if not (options["user"] or options["group"] or options["all"]):
            raise CommandError("Say who: --user, --group or --all.")
        try:
            amount = services.to_millicredits(options["amount"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        staff = None
        if options["by"]:
            staff = get_user_model().objects.filter(username=options["by"]).first()
            if staff is None or not staff.is_staff:
                raise CommandError(f"{options['by']} is not a staff member.")
        users, unknown = selectors.grant_recipients(
            names=options["user"], group=options["group"], everyone=options["all"]
        )
        if unknown:
            raise CommandError(f"Nobody (or no group) matches: {', '.join(unknown)}.")
        try:
            entries = services.credits_grant(
                users=list(users),
                amount=amount,
                reason=options["reason"],
                staff=staff,
                grant_id=options["grant_id"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Granted {amount / MILLI:g} credits to {len(entries)} "
            f"{'person' if len(entries) == 1 else 'people'}."
        )
