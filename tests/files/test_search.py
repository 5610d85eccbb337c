"""Hybrid search on a small corpus whose right answers are known: vector
and keyword lists fused, filters, the reasons for finding nothing, and one
person never finding another's chunks."""

from __future__ import annotations

import pytest

from files import search
from files.models import File, FileStatus
from tests.community.factories import UserFactory
from tests.files.factories import add_file

pytestmark = pytest.mark.django_db

DOCUMENTS = {
    "refunds.md": """# Refund policy

Customers may return any item within 30 days of delivery for a full refund.
The money goes back to the original payment method.
""",
    "shipping.md": """# Shipping

Orders leave the Lisbon warehouse within two business days. Express delivery
reaches most of Europe in 48 hours.
""",
    "security.md": """# Account security

Turn on two-factor authentication in Settings. Passwords must be at least
twelve characters long. Error code E-4417 means the session expired.
""",
    "kitchen.md": """# Kitchen rota

The office kitchen is cleaned on Fridays. Please label your food in the
fridge with your name and the date.
""",
}


@pytest.fixture
def corpus():
    owner = UserFactory()
    files = {name: add_file(owner, name, text) for name, text in DOCUMENTS.items()}
    assert all(f.status == FileStatus.READY for f in files.values())
    return owner, files


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Meaning, not words: no "refund" in the question.
        ("Can I get my money back if I send something back?", "refunds.md"),
        ("how long does delivery to Europe take", "shipping.md"),
        ("2FA and password rules", "security.md"),
        # A code only the keyword side can match exactly.
        ("E-4417", "security.md"),
        ("who cleans the kitchen", "kitchen.md"),
    ],
)
def test_the_right_document_comes_first(corpus, query, expected):
    owner, _files = corpus
    result = search.search_chunks(owner_id=owner.pk, query=query, k=3)
    assert result.hits, result
    assert result.hits[0].file_name == expected
    assert result.reason == ""
    assert result.files_searched == 4


def test_hits_carry_citations_and_both_scores(corpus):
    owner, files = corpus
    result = search.search_chunks(owner_id=owner.pk, query="full refund policy", k=4)
    top = result.hits[0]
    assert top.file_id == files["refunds.md"].pk
    assert top.heading == "Refund policy"
    assert "30 days" in top.text
    # Found by both lists: fused score is the sum of both reciprocal ranks.
    assert top.vector_rank is not None
    assert top.keyword_rank is not None
    expected = 1 / (search.RRF_K + top.vector_rank) + 1 / (
        search.RRF_K + top.keyword_rank
    )
    assert top.score == pytest.approx(expected, rel=1e-4)
    assert [h.score for h in result.hits] == sorted(
        (h.score for h in result.hits), reverse=True
    )


def test_filters_narrow_to_files_and_kinds(corpus):
    owner, files = corpus
    only = [files["kitchen.md"].pk]
    result = search.search_chunks(owner_id=owner.pk, query="refund", k=5, file_ids=only)
    assert {h.file_id for h in result.hits} <= set(only)
    assert not search.search_chunks(
        owner_id=owner.pk, query="refund", kinds=["pdf"]
    ).hits


def test_the_reasons_for_finding_nothing(corpus):
    owner, files = corpus
    assert search.search_chunks(owner_id=owner.pk, query="x", file_ids=[]).reason == (
        "no_files"
    )
    File.objects.filter(pk=files["kitchen.md"].pk).update(status=FileStatus.EMBEDDING)
    pending = search.search_chunks(
        owner_id=owner.pk, query="kitchen", file_ids=[files["kitchen.md"].pk]
    )
    assert pending.reason == "none_ready"
    assert pending.hits == []
    nothing = search.search_chunks(
        owner_id=owner.pk, query="xylophone zeppelin quasar", k=3
    )
    assert nothing.reason == "no_match"
    assert nothing.hits == []


def test_nobody_finds_anyone_elses_chunks(corpus, as_user):
    owner, _files = corpus
    other = UserFactory()
    add_file(other, "mine.md", "# Notes\n\nMy own refund notes about returns.")
    result = search.search_chunks(owner_id=other.pk, query="refund policy", k=10)
    assert {h.file_name for h in result.hits} == {"mine.md"}
    response = as_user(other).post(
        "/api/v1/files/search/", {"query": "refund", "k": 10}, format="json"
    )
    assert response.status_code == 200
    assert {r["file_name"] for r in response.json()["results"]} == {"mine.md"}
    # Naming someone else's file finds nothing rather than their text.
    theirs = File.objects.filter(owner=owner).values_list("pk", flat=True)
    response = as_user(other).post(
        "/api/v1/files/search/",
        {"query": "refund", "file_ids": list(theirs)},
        format="json",
    )
    assert response.json()["results"] == []
    assert response.json()["reason"] == "no_files"


def test_bad_search_input_is_a_field_error(as_user):
    client = as_user(UserFactory())
    for body, field in [
        ({}, "query"),
        ({"query": "x", "k": 0}, "k"),
        ({"query": "x", "k": 500}, "k"),
        ({"query": "x", "file_ids": ["a"]}, "file_ids"),
        ({"query": "x", "kinds": ["exe"]}, "kinds"),
    ]:
        response = client.post("/api/v1/files/search/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), response.json()


def test_filters_apply_to_both_lists(corpus):
    owner, files = corpus
    from files.services import collection_create

    policies = collection_create(owner=owner, name="Policies")
    File.objects.filter(pk=files["refunds.md"].pk).update(collection=policies)
    plain = add_file(
        owner, "codes.txt", "Error code E-4417 is also listed here.", kind="text"
    )
    # The keyword side alone would find E-4417 in security.md and codes.txt.
    only_text = search.search_chunks(owner_id=owner.pk, query="E-4417", kinds=["text"])
    assert {h.file_id for h in only_text.hits} == {plain.pk}
    in_collection = search.search_chunks(
        owner_id=owner.pk, query="E-4417 refund", collection_ids=[policies.pk]
    )
    assert {h.file_id for h in in_collection.hits} == {files["refunds.md"].pk}
    named = search.search_chunks(
        owner_id=owner.pk, query="E-4417", file_ids=[files["security.md"].pk]
    )
    assert [h.file_name for h in named.hits] == ["security.md"]


def test_passages_with_every_word_rank_before_those_with_some(corpus):
    owner, _files = corpus
    result = search.search_chunks(owner_id=owner.pk, query="kitchen fridge Lisbon")
    keyword = sorted(
        (h for h in result.hits if h.keyword_rank), key=lambda h: h.keyword_rank
    )
    # kitchen.md has "kitchen" and "fridge"; shipping.md only "Lisbon"; none
    # has all three, so both come from the any-word list, more words first.
    assert [h.file_name for h in keyword][:2] == ["kitchen.md", "shipping.md"]
    both = search.search_chunks(owner_id=owner.pk, query="kitchen fridge")
    first = min((h for h in both.hits if h.keyword_rank), key=lambda h: h.keyword_rank)
    assert first.file_name == "kitchen.md"
    assert first.keyword_rank == 1
