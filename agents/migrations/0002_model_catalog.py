"""The starting model catalog; staff edit it in the admin afterwards."""

from django.db import migrations


def add_catalog(apps, schema_editor):
    from agents.catalog import catalog_ensure

    catalog_ensure(apps.get_model("agents", "LanguageModel"))


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(add_catalog, migrations.RunPython.noop)]
