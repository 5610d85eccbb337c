"""A query's SQL built once and run with each call's values
(config/sqlonce.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Profile, User
from config.sqlonce import CompiledQuery
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db


def profile_links_query():
    built = []

    def build(username):
        built.append(username)
        return User.objects.filter(username__iexact=username).values_list(
            "username", "profile__links"
        )

    return CompiledQuery(build, username="\x00who\x00"), built


def test_each_call_runs_with_its_own_values_and_the_query_is_built_once():
    for name in ("ada", "grace"):
        Profile.objects.create(user=UserFactory(username=name), links=[name])
    query, built = profile_links_query()

    assert query.rows(username="ADA") == [("ada", ["ada"])]
    assert query.rows(username="Grace") == [("grace", ["grace"])]
    assert query.rows(username="nobody") == []
    assert built == ["\x00who\x00"]


def test_the_columns_are_converted_as_the_orm_would():
    """A JSON column comes back decoded, as values_list gives it."""
    Profile.objects.create(
        user=UserFactory(username="linked"), links=[{"url": "https://a.example"}]
    )
    query, _ = profile_links_query()

    expected = list(
        User.objects.filter(username="linked").values_list("username", "profile__links")
    )
    assert query.rows(username="linked") == expected
    assert expected == [("linked", [{"url": "https://a.example"}])]


def test_one_query_a_call_and_the_values_are_parameters_not_sql():
    UserFactory(username="o'brien")
    query, _ = profile_links_query()

    with CaptureQueriesContext(connection) as captured:
        rows = query.rows(username="O'BRIEN")

    assert rows == [("o'brien", None)]
    assert len(captured) == 1
    sql, _, _ = query.compiled()
    assert "who" not in sql
    assert "%s" in sql


def test_a_stand_in_the_compiled_query_does_not_take_is_refused():
    # The LIMIT is written into the SQL, not passed as a parameter.
    query = CompiledQuery(
        lambda limit: User.objects.values_list("pk")[:limit], limit=73_011
    )

    with pytest.raises(ValueError, match="does not take limit"):
        query.rows(limit=5)


def test_missing_or_unknown_values_are_refused():
    query, _ = profile_links_query()

    with pytest.raises(TypeError):
        query.rows()
    with pytest.raises(TypeError):
        query.rows(username="a", other=1)
