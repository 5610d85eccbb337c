from django.core.management.base import BaseCommand

from agents.demo import demo_agents_ensure, demo_file_agents_ensure
from billing.services import credits_grant_signup
from community.demo import demo_community_ensure
from community.services import demo_users_ensure
from workflows.demo import demo_handoffs_ensure, demo_workflow_ensure


class Command(BaseCommand):
    help = "Load the demo data (idempotent): demo accounts and their agents."

    def handle(self, *args, **options):
        users = {}
        for user, password, created in demo_users_ensure():
            users[user.username] = user
            credits_grant_signup(user=user)
            role = "staff" if user.is_staff else "user"
            state = "created" if created else "exists"
            self.stdout.write(
                f"  {user.username:<8} {role:<5} password: {password:<14} ({state})"
            )
        for agent, created in demo_agents_ensure(users):
            state = "created" if created else "exists"
            self.stdout.write(
                f"  agent {agent.name!r} by {agent.owner.username} ({state})"
            )
        added = demo_community_ensure(users)
        self.stdout.write(
            f"  community: {added} profiles, follows, ratings, comments added"
        )
        added = demo_file_agents_ensure(users)
        self.stdout.write(f"  files: {added} handbook, agent, attachment added")
        added = demo_handoffs_ensure(users)
        self.stdout.write(f"  handoffs: {added} tutors, triage agent, handoffs added")
        added = demo_workflow_ensure(users)
        self.stdout.write(f"  workflows: {added} helper agents and workflow added")
