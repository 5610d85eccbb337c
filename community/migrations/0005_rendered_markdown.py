"""Comments and reviews keep their sanitized HTML, rendered when written."""

from django.db import migrations, models


def render_existing(apps, schema_editor):
    from config.markdown import render_markdown

    for model_name, source, target in (
        ("Comment", "body", "body_html"),
        ("Rating", "review", "review_html"),
    ):
        model = apps.get_model("community", model_name)
        for row in model.objects.exclude(**{source: ""}).only("pk", source).iterator():
            model.objects.filter(pk=row.pk).update(
                **{target: str(render_markdown(getattr(row, source)))}
            )


class Migration(migrations.Migration):
    dependencies = [("community", "0004_direct_messages")]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="body_html",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="rating",
            name="review_html",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(render_existing, migrations.RunPython.noop),
    ]
