"""Bodies with NUL characters (which PostgreSQL cannot store in text) are a
400 naming the field, on every endpoint, never a 500. The fuzz test found two
(a conversation's title, a workflow's description)."""

from __future__ import annotations

import pytest

from agents.models import Conversation
from tests.agents.factories import make_agent, make_run
from tests.community.factories import UserFactory

pytestmark = pytest.mark.django_db

REFUSED = "Text may not contain NUL (\\u0000) characters."


def test_a_conversation_title_with_a_nul_is_a_field_error(as_user, monkeypatch):
    from agents import tasks

    monkeypatch.setattr(tasks.run_execute_task, "delay", lambda run_id: None)
    user = UserFactory()
    run = make_run(make_agent(user), input="Hello")
    conversation = Conversation.objects.create(owner=user, agent=run.agent)

    response = as_user(user).patch(
        f"/api/v1/conversations/{conversation.pk}/",
        {"title": "Plans\x00"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"title": [REFUSED]}
    conversation.refresh_from_db()
    assert "\x00" not in conversation.title


def test_a_nul_anywhere_in_a_json_body_names_its_top_level_field(as_user):
    user = UserFactory()
    response = as_user(user).post(
        "/api/v1/workflows/",
        {
            "name": "Flow",
            "description": "ok",
            "graph": {"entry": "a", "nodes": [{"id": "a\x00", "kind": "agent"}]},
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"graph": [REFUSED]}


def test_form_and_multipart_bodies_are_checked_too(as_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(UserFactory())
    form = client.post(
        "/api/v1/files/collections/",
        "name=Notes%00&description=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 400
    assert form.json() == {"name": [REFUSED]}
    upload = client.post(
        "/api/v1/files/upload/",
        {
            "file": SimpleUploadedFile("notes.txt", b"Some notes."),
            "chunk_size": "200\x00",
        },
        format="multipart",
    )
    assert upload.status_code == 400
    assert upload.json() == {"chunk_size": [REFUSED]}
