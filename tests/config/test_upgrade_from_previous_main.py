"""An install made before issue 22's moves upgrades with nothing lost.

Issue 22 moves models between apps by state only (SeparateDatabaseAndState:
the tables, their rows and constraints stay). This test takes a database with
people, agents, handoffs, runs, ledger entries, comments and files in it,
migrates it back to the layout the previous main had (PREVIOUS_MAIN: each
moving app's last migration then), writes a row there through that
layout's own models, migrates it forward to this one, and checks every table
holds exactly the rows it held, byte for byte, plus the one written in the
old layout, each readable through today's models.

Each move adds its apps' last migration before it to PREVIOUS_MAIN if it is
not there yet.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from agents import services as agent_services
from agents.models import Agent, Handoff, Run
from agents.services import handoffs as handoff_services
from billing import services as billing_services
from billing.models import LedgerEntry
from community import reviews
from community.models import Comment, User
from files.models import File
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = pytest.mark.django_db(transaction=True)

# The last migration, on the previous main, of each app a move touches.
PREVIOUS_MAIN = [
    ("agents", "0018_provider_key_azure"),
    ("workflows", "0005_workflow_ratings"),
]

# Written by the migrations themselves, so not compared.
BOOKKEEPING = {"django_migrations"}


def tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "ORDER BY tablename"
        )
        return [name for (name,) in cursor.fetchall() if name not in BOOKKEEPING]


def snapshot() -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows' text."""
    found = {}
    with connection.cursor() as cursor:
        for table in tables():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608
                f"ORDER BY t::text), '')) FROM \"{table}\" AS t"
            )
            found[table] = cursor.fetchone()
    return found


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def seed() -> dict:
    ada, grace = UserFactory(username="ada"), UserFactory(username="grace")
    triage = agent_services.agent_update(
        agent=make_agent(owner=ada, name="Triage"),
        user=ada,
        data={"visibility": "public"},
    )
    billing_agent = make_agent(owner=ada, name="Billing questions")
    handoff = handoff_services.handoff_create(
        agent=triage, user=ada, target_id=billing_agent.pk, description="money"
    )
    run = make_run(triage)
    billing_services.credits_grant(users=[grace], amount=5_000, reason="thanks")
    comment = reviews.comment_create(user=grace, body="Works **well**", agent=triage)
    file = add_file(ada, "notes.md", "# Notes\n\nHandoffs moved to agents.")
    return {
        "ada": ada,
        "triage": triage,
        "billing_agent": billing_agent,
        "handoff": handoff,
        "run": run,
        "comment": comment,
        "file": file,
    }


def test_a_database_of_the_previous_layout_migrates_with_every_row_kept():
    made = seed()
    before = snapshot()
    assert before["workflows_handoff"][0] == 1
    assert before["files_chunk"][0] > 0

    try:
        executor = migrate(PREVIOUS_MAIN)
        old = executor.loader.project_state(PREVIOUS_MAIN).apps
        # The previous layout: the handoff is workflows', on the same table.
        old_handoffs = old.get_model("workflows", "Handoff")
        assert old_handoffs._meta.db_table == "workflows_handoff"
        assert old_handoffs.objects.count() == 1
        assert ContentType.objects.filter(app_label="workflows", model="handoff")
        # A row written by the old layout's own model.
        old_agents = old.get_model("agents", "Agent")
        old_handoffs.objects.create(
            agent=old_agents.objects.get(pk=made["billing_agent"].pk),
            target=old_agents.objects.get(pk=made["triage"].pk),
            description="back to triage",
            input_filter="remove_tools",
            position=0,
        )
    finally:
        migrate(latest())

    after = snapshot()
    assert set(after) == set(before)
    changed = {table for table in before if after[table] != before[table]}
    assert changed == {"workflows_handoff"}
    assert after["workflows_handoff"][0] == before["workflows_handoff"][0] + 1

    # Today's models read every row.
    assert Handoff.objects.get(pk=made["handoff"].pk).description == "money"
    back = Handoff.objects.get(agent=made["billing_agent"])
    assert (back.target, back.input_filter) == (made["triage"], "remove_tools")
    assert list(made["triage"].handoffs.values_list("target", flat=True)) == [
        made["billing_agent"].pk
    ]
    assert ContentType.objects.get_for_model(Handoff).app_label == "agents"
    assert not ContentType.objects.filter(app_label="workflows", model="handoff")
    assert User.objects.filter(username__in=["ada", "grace"]).count() == 2
    assert Agent.objects.count() == 2
    assert Run.objects.get(pk=made["run"].pk).agent == made["triage"]
    assert LedgerEntry.objects.filter(account__user__username="grace").exists()
    assert Comment.objects.get(pk=made["comment"].pk).body == "Works **well**"
    assert File.objects.get(pk=made["file"].pk).chunks.count() > 0
