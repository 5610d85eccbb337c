from django import template

from billing.models import MILLI

register = template.Library()


@register.filter
def credits(milli) -> str:
    """Milli-credits as credits, without needless decimals: 10, 9.25, -0.5."""
    try:
        milli = int(milli)
    except (TypeError, ValueError):
        return ""
    whole, rest = divmod(abs(milli), MILLI)
    sign = "-" if milli < 0 else ""
    if not rest:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{rest:03d}".rstrip("0")
