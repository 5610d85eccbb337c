"""The starting model catalog, loaded by a migration (and again by seed_demo,
and by tests after a flush). Staff edit it in the admin afterwards."""

from decimal import Decimal

CATALOG = [
    # provider, name, display name, description, tools, structured, streaming,
    # credits per 1K input tokens, per 1K output tokens, position. Prices follow
    # the published classes (billing/pricing.py): GPT-3.5-class 1, GPT-4-class
    # 3, Claude Haiku 2, Sonnet 3, Gemini Pro 1.5, local/demo 0.5.
    (
        "local",
        "demo",
        "Offline demo model",
        "A deterministic stand-in that runs on this server with no API key: it "
        "calls tools, hands off, fills output types and streams its answer.",
        True,
        True,
        True,
        "0.5",
        "0.5",
        0,
    ),
    (
        "openai",
        "gpt-4.1-mini",
        "GPT-4.1 mini",
        "OpenAI's fast, inexpensive general model.",
        True,
        True,
        True,
        "1",
        "1",
        10,
    ),
    (
        "openai",
        "gpt-4.1",
        "GPT-4.1",
        "OpenAI's flagship model for complex tasks.",
        True,
        True,
        True,
        "3",
        "3",
        20,
    ),
    (
        "openai",
        "gpt-4o-mini",
        "GPT-4o mini",
        "OpenAI's small multimodal model.",
        True,
        True,
        True,
        "1",
        "1",
        30,
    ),
    (
        "anthropic",
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        "Anthropic's balanced model for agents and coding (through LiteLLM).",
        True,
        True,
        True,
        "3",
        "3",
        40,
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        "Anthropic's fastest model (through LiteLLM).",
        True,
        True,
        True,
        "2",
        "2",
        50,
    ),
    (
        "gemini",
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        "Google's fast, inexpensive model (through LiteLLM).",
        True,
        True,
        True,
        "1",
        "1",
        60,
    ),
    (
        "gemini",
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        "Google's most capable model (through LiteLLM).",
        True,
        True,
        True,
        "1.5",
        "1.5",
        70,
    ),
]


def catalog_ensure(model_class=None) -> int:
    """Add the catalog entries that are missing; leave edited ones alone."""
    if model_class is None:
        from agents.models import LanguageModel

        model_class = LanguageModel
    added = 0
    for row in CATALOG:
        provider, name, display, description, tools, structured, streaming = row[:7]
        input_price, output_price, position = row[7:]
        _, created = model_class.objects.get_or_create(
            provider=provider,
            name=name,
            defaults={
                "display_name": display,
                "description": description,
                "supports_tools": tools,
                "supports_structured_output": structured,
                "supports_streaming": streaming,
                "input_price_per_1k": Decimal(input_price),
                "output_price_per_1k": Decimal(output_price),
                "position": position,
            },
        )
        added += created
    return added
