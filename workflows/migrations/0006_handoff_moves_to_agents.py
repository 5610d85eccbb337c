"""Handoff moves to agents (issue 22): it is an SDK feature of agents. State
only: the table (workflows_handoff), its rows and its constraints stay as
they are; agents' 0019 takes the model over."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0005_workflow_ratings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Handoff")],
            database_operations=[],
        ),
    ]
