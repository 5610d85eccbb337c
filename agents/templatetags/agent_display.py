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
