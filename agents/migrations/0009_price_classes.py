"""Catalog prices follow the published price classes (billing/pricing.py).

Only rows still at the first seeded prices change: staff edits are kept.
"""

from decimal import Decimal

from django.db import migrations

# (provider, name): (old input, old output, new price for both)
CHANGES = {
    ("local", "demo"): ("0", "0", "0.5"),
    ("openai", "gpt-4.1-mini"): ("0.4", "1.6", "1"),
    ("openai", "gpt-4.1"): ("2", "8", "3"),
    ("openai", "gpt-4o-mini"): ("0.15", "0.6", "1"),
    ("anthropic", "claude-sonnet-4-5"): ("3", "15", "3"),
    ("anthropic", "claude-haiku-4-5"): ("1", "5", "2"),
    ("gemini", "gemini-2.5-flash"): ("0.3", "2.5", "1"),
    ("gemini", "gemini-2.5-pro"): ("1.25", "10", "1.5"),
}


def reprice(apps, schema_editor):
    LanguageModel = apps.get_model("agents", "LanguageModel")
    for (provider, name), (old_in, old_out, new) in CHANGES.items():
        LanguageModel.objects.filter(
            provider=provider,
            name=name,
            input_price_per_1k=Decimal(old_in),
            output_price_per_1k=Decimal(old_out),
        ).update(input_price_per_1k=Decimal(new), output_price_per_1k=Decimal(new))


class Migration(migrations.Migration):
    dependencies = [("agents", "0008_providers_fallback_playground")]

    operations = [migrations.RunPython(reprice, migrations.RunPython.noop)]
