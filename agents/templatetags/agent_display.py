"""Filters for the agent pages and the run stream's HTML fragments.

The run consumer renders fragments from plain step and run dicts, with no view
to prepare them, so formatting lives in filters (backed by agents.presenters).
"""

from django import template

from agents import presenters

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """Indented JSON of any value."""
    return presenters.pretty_json(value)


@register.filter
def json_text(value) -> str | None:
    """Indented JSON when the text is a JSON object or array, else None."""
    return presenters.json_text(value)


@register.filter
def output_text(value) -> str:
    """A final output or tool result as readable text."""
    return presenters.output_text(value)


@register.filter
def reactions_for(target, user) -> list[dict]:
    """Reaction counts of an agent or comment (its prefetched reactions), and
    which are ``user``'s."""
    from community.reviews import reaction_summary

    return reaction_summary(target.reactions.all(), user=user)


@register.filter
def retrieval(step_payload) -> dict | None:
    """A ``file_search`` result, parsed for the run inspector's retrieval
    diagnostics; None for any other tool or an unreadable result."""
    import json

    if not isinstance(step_payload, dict) or step_payload.get("name") != "file_search":
        return None
    try:
        data = json.loads(step_payload.get("output") or "")
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        return None
    return data
