"""Handoff moves here from workflows (issue 22). State only: the model keeps
its table (workflows_handoff), rows and constraints; its content type is
relabelled so permissions and admin history follow it."""

import django.db.models.deletion
from django.db import migrations, models


def relabel_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="workflows", model="handoff").update(
        app_label="agents"
    )


def relabel_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="agents", model="handoff").update(
        app_label="workflows"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0018_provider_key_azure"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("workflows", "0006_handoff_moves_to_agents"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Handoff",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "description",
                            models.CharField(
                                blank=True,
                                help_text=(
                                    "Guides the model; empty: the target agent's "
                                    "description."
                                ),
                                max_length=300,
                                verbose_name="when to hand off",
                            ),
                        ),
                        (
                            "input_filter",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "The whole conversation"),
                                    ("remove_tools", "Without earlier tool calls"),
                                ],
                                default="",
                                max_length=20,
                                verbose_name="what the target sees",
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "agent",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="handoffs",
                                to="agents.agent",
                            ),
                        ),
                        (
                            "target",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="handoffs_in",
                                to="agents.agent",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "workflows_handoff",
                        "ordering": ["position", "id"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("agent", "target"),
                                name="handoff_once_per_target",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("agent", models.F("target")), _negated=True
                                ),
                                name="handoff_not_to_itself",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("input_filter__in", ["", "remove_tools"])
                                ),
                                name="handoff_input_filter_valid",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_type, relabel_content_type_back),
    ]
