"""``{% visitor_fragment %}``: part of a page kept for signed-out visitors.

    {% load fragments %}
    {% visitor_fragment "site-header" request.resolver_match.view_name %}
        ...
    {% endvisitor_fragment %}

For a signed-out visitor the block's rendering is kept in the fragments cache
(config.fragments) under its name, the values after the name and the script
prefix (plus, as every fragment key, the language and time zone), so the
values must be everything the block's output depends on. A signed-in person
never reads or writes it: their block is rendered for them. A rendering that
holds the page's CSRF token is never kept. A fragment cannot hold a
``{% block %}``.
"""

from __future__ import annotations

from django import template
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe

from config.fragments import fragment_cache, fragment_key

register = template.Library()


class VisitorFragmentNode(template.Node):
    # Not walked by get_nodes_by_type: {% extends %} walks the whole base
    # template for its blocks on every rendering, and the site header alone
    # was a sixth of Discover's template time. So a fragment holds no
    # {% block %} (refused when the template is read).
    child_nodelists = ()

    def __init__(self, nodelist, name, vary_on) -> None:
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on

    def render(self, context) -> str:
        request = context.get("request")
        user = getattr(request, "user", None)
        if user is None or user.is_authenticated:
            return self.nodelist.render(context)
        key = fragment_key(
            f"visitor:{self.name.resolve(context)}",
            get_script_prefix(),
            *(value.resolve(context) for value in self.vary_on),
        )
        cache = fragment_cache()
        html = cache.get(key)
        if html is None:
            html = self.nodelist.render(context)
            if not holds_csrf_token(html, context):
                cache.set(key, html)
        return mark_safe(html)  # noqa: S308 (our own templates' output)


def holds_csrf_token(html: str, context) -> bool:
    """Whether ``html`` shows this page's CSRF token. The token is one value
    for the whole rendering (a lazy object in the context, read once), so a
    block that used it contains that exact text. Asked only when a block is
    first rendered, on pages whose layout shows the token anyway."""
    token = context.get("csrf_token")
    return token is not None and str(token) in html


@register.tag("visitor_fragment")
def visitor_fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        message = f"{bits[0]} needs a name"
        raise template.TemplateSyntaxError(message)
    nodelist = parser.parse(("endvisitor_fragment",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        message = f"{bits[0]} cannot hold a {{% block %}}"
        raise template.TemplateSyntaxError(message)
    return VisitorFragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(bit) for bit in bits[2:]],
    )
