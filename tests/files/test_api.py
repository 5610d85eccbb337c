"""The files API answers in the shapes /api/schema/ documents."""

from __future__ import annotations

import pytest

from files.services import collection_create
from tests.api_schema import assert_documented
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = pytest.mark.django_db


def test_a_file_outside_any_collection_is_answered_as_documented(as_user):
    """A file in no collection has a null `collection`, and the file list is
    a page, as documented (the schema said an integer, and one file; found by
    tests/config/test_api_fuzz.py)."""
    owner = UserFactory()
    file = add_file(owner, "notes.md", "# Notes\n\nA few words.")
    client = as_user(owner)
    detail = client.get(f"/api/v1/files/{file.pk}/")
    assert detail.json()["collection"] is None
    assert_documented(detail, method="get", path="/api/v1/files/{file_id}/")
    listed = client.get("/api/v1/files/")
    assert listed.json()["count"] == 1
    assert_documented(listed, method="get", path="/api/v1/files/")


def test_my_collections_are_answered_as_a_documented_page(as_user):
    """Collections come as a page, as documented (the schema said one)."""
    owner = UserFactory()
    collection_create(owner=owner, name="Papers")
    response = as_user(owner).get("/api/v1/files/collections/")
    assert response.json()["results"][0]["name"] == "Papers"
    assert_documented(response, method="get", path="/api/v1/files/collections/")
