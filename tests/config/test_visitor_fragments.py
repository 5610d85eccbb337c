"""The layout's header and footer kept for signed-out visitors
(``{% visitor_fragment %}``, config/fragment_tags.py): rendered once per
state, never shared with a signed-in person, never holding a CSRF token.

The test settings keep no fragments; these tests switch a local-memory cache
on, as a web process without Redis has."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.middleware.csrf import CsrfViewMiddleware
from django.template import (
    Context,
    RequestContext,
    Template,
    TemplateSyntaxError,
    engines,
)
from django.test import RequestFactory

from tests.community.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fragment_cache")]

LOGOUT_FORM = 'class="sign-out-form"'


class Counter:
    def __init__(self) -> None:
        self.renders = 0

    def __str__(self) -> str:
        self.renders += 1
        return str(self.renders)


def visitor_request(user=None):
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    CsrfViewMiddleware(lambda r: None).process_request(request)
    return request


def render(source: str, request, **values) -> str:
    template = Template("{% load fragments %}" + source)
    return template.render(RequestContext(request, values))


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def current_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"[^>]*aria-current="page"', html)


def header(html: str) -> str:
    return html[html.index("<header") : html.index("</header>")]


def test_a_visitors_block_is_rendered_once_for_the_same_values():
    counter = Counter()
    source = (
        '{% visitor_fragment "box" which %}[{{ counter }}]{% endvisitor_fragment %}'
    )

    first = render(source, visitor_request(), counter=counter, which="a")
    again = render(source, visitor_request(), counter=counter, which="a")
    other = render(source, visitor_request(), counter=counter, which="b")

    assert (first, again, other) == ("[1]", "[1]", "[2]")
    assert counter.renders == 2


def test_a_signed_in_persons_block_is_rendered_for_them_and_never_kept():
    counter = Counter()
    source = '{% visitor_fragment "box" %}[{{ counter }}]{% endvisitor_fragment %}'
    person = visitor_request(UserFactory())

    assert render(source, person, counter=counter) == "[1]"
    assert render(source, person, counter=counter) == "[2]"
    assert render(source, visitor_request(), counter=counter) == "[3]"


def test_a_block_that_shows_the_csrf_token_is_never_kept():
    source = '{% visitor_fragment "form" %}{% csrf_token %}{% endvisitor_fragment %}'
    first_visitor, second_visitor = visitor_request(), visitor_request()

    first = render(source, first_visitor)
    second = render(source, second_visitor)

    assert "csrfmiddlewaretoken" in first
    assert first != second


def test_without_a_request_the_block_is_rendered_and_not_kept():
    counter = Counter()
    template = Template(
        "{% load fragments %}"
        '{% visitor_fragment "box" %}[{{ counter }}]{% endvisitor_fragment %}'
    )

    assert template.render(Context({"counter": counter})) == "[1]"
    assert template.render(Context({"counter": counter})) == "[2]"


def test_each_page_marks_its_own_link_in_a_visitors_header(client):
    discover = header(page(client, "/discover/"))
    login = header(page(client, "/accounts/login/"))

    assert current_links(discover) == ["/discover/"]
    assert current_links(login) == ["/accounts/login/"]
    assert header(page(client, "/discover/")) == discover


def test_a_visitor_never_gets_a_signed_in_persons_header_nor_they_a_visitors(
    client,
):
    visitor = header(page(client, "/discover/"))
    assert "Log in" in visitor
    person = UserFactory(username="header-person")
    client.force_login(person)

    theirs = page(client, "/discover/")

    assert "header-person" in header(theirs)
    assert LOGOUT_FORM in header(theirs)
    assert "Log in" not in header(theirs)
    client.logout()
    shown = header(page(client, "/discover/"))
    assert shown == visitor
    assert "header-person" not in shown
    assert "csrfmiddlewaretoken" not in shown


def test_a_visitors_header_shows_the_credits_link_only_when_credits_are_on(
    client, settings
):
    settings.CREDITS_MODE = "metered"
    assert 'href="/credits/' in header(page(client, "/discover/"))
    settings.CREDITS_MODE = "off"
    assert 'href="/credits/' not in header(page(client, "/discover/"))


def test_a_block_inside_a_fragment_is_refused_when_the_template_is_read():
    with pytest.raises(TemplateSyntaxError, match="cannot hold a"):
        Template(
            "{% load fragments %}{% visitor_fragment 'x' %}"
            "{% block inner %}{% endblock %}{% endvisitor_fragment %}"
        )


def test_blocks_next_to_a_fragment_are_still_filled_by_the_child_template():
    engine = engines["django"].engine
    base = Template(
        "{% load fragments %}{% visitor_fragment 'walked' %}<h>head</h>"
        "{% endvisitor_fragment %}[{% block body %}base{% endblock %}]",
        engine=engine,
    )
    child = Template(
        "{% extends base %}{% block body %}child{% endblock %}", engine=engine
    )

    shown = child.render(Context({"base": base, "request": visitor_request()}))

    assert shown == "<h>head</h>[child]"
