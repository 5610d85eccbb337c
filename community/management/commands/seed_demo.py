from django.core.management.base import BaseCommand

from community.services import demo_users_ensure


class Command(BaseCommand):
    help = "Load the demo data (idempotent): demo accounts and placeholder content."

    def handle(self, *args, **options):
        for user, password, created in demo_users_ensure():
            role = "staff" if user.is_staff else "user"
            state = "created" if created else "exists"
            self.stdout.write(
                f"  {user.username:<8} {role:<5} password: {password:<14} ({state})"
            )
