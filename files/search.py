"""Hybrid search over one person's ready files: vector and full text, fused.

Two ranked lists come from PostgreSQL: the chunks nearest the query's
embedding (pgvector's HNSW index, cosine distance) and the chunks matching
any of its words (the GIN index on the generated
``search_vector``, ranked by cover density). Reciprocal rank fusion merges
them: each chunk scores ``1 / (RRF_K + rank)`` in each list it appears in,
so a passage both lists agree on rises, and one only either finds still
counts. Vector-only hits below ``MIN_SIMILARITY`` are dropped: nearest is not
the same as relevant.

Every hit keeps both scores and ranks, and the search says why it found
nothing, for the run inspector's retrieval diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import Count, F, Q
from pgvector.django import CosineDistance

from files.models import SEARCH_CONFIG, Chunk, File, FileStatus

RRF_K = 60
CANDIDATES = 40
# HNSW's candidate list per query; also how far iterative scans go before
# a filtered search gives up (pgvector's hnsw.ef_search).
EF_SEARCH = 100
MIN_SIMILARITY = 0.25
MAX_K = 50
MAX_TERMS = 32
TERM = re.compile(r"[^\W_]+")


@dataclass
class Hit:
    chunk_id: int
    file_id: int
    file_name: str
    page: int | None
    heading: str
    text: str
    score: float
    vector_score: float | None = None
    vector_rank: int | None = None
    keyword_score: float | None = None
    keyword_rank: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    files_searched: int = 0
    # Why nothing came back: "no_files", "none_ready", "no_match", or "".
    reason: str = ""
    vector_candidates: int = 0
    keyword_candidates: int = 0


def keyword_query(query: str) -> SearchQuery | None:
    """Any of the query's words (stemmed, stop words dropped by PostgreSQL):
    questions in plain language rarely contain every word of the passage
    that answers them, so the words are ORed and ranking rewards passages
    with more of them, closer together."""
    terms = TERM.findall(query)[:MAX_TERMS]
    if not terms:
        return None
    raw = " | ".join(f"'{term}'" for term in terms)
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def _scope(*, owner_id: int, file_ids=None, collection_ids=None) -> Q:
    scope = Q(owner_id=owner_id, file__status=FileStatus.READY)
    if file_ids is not None:
        scope &= Q(file_id__in=list(file_ids))
    if collection_ids is not None:
        scope &= Q(file__collection_id__in=list(collection_ids))
    return scope


def search_chunks(
    *,
    owner_id: int,
    query: str,
    k: int = 8,
    file_ids=None,
    collection_ids=None,
    kinds=None,
) -> SearchResult:
    """The ``k`` best chunks of ``owner_id``'s ready files for ``query``,
    optionally only in ``file_ids`` / ``collection_ids`` / of ``kinds``.

    ``file_ids`` and ``collection_ids`` narrow (None means no narrowing; an
    empty list means nothing). Only ``owner_id``'s files are ever searched.
    """
    from files.embeddings import get_embedder

    query = (query or "").strip()
    k = max(1, min(int(k), MAX_K))
    result = SearchResult(query=query)
    files = File.objects.filter(owner_id=owner_id)
    if file_ids is not None:
        files = files.filter(pk__in=list(file_ids))
    if collection_ids is not None:
        files = files.filter(collection_id__in=list(collection_ids))
    if kinds:
        files = files.filter(kind__in=list(kinds))
    counts = files.aggregate(
        total=Count("pk"), ready=Count("pk", filter=Q(status=FileStatus.READY))
    )
    result.files_searched = counts["ready"]
    if not counts["total"]:
        result.reason = "no_files"
        return result
    if not counts["ready"]:
        result.reason = "none_ready"
        return result
    if not query:
        result.reason = "no_match"
        return result

    scope = _scope(owner_id=owner_id, file_ids=file_ids, collection_ids=collection_ids)
    if kinds:
        scope &= Q(file__kind__in=list(kinds))
    embedder = get_embedder()
    vector = embedder.embed([query])[0]
    chunks = Chunk.objects.filter(scope, embedding_model=embedder.name)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Filtered HNSW scans keep going until they have enough rows.
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [EF_SEARCH])
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        nearest = list(
            chunks.annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")
            .values("pk", "distance")[:CANDIDATES]
        )
    text_query = keyword_query(query)
    matching = []
    if text_query is not None:
        matching = list(
            Chunk.objects.filter(scope, search_vector=text_query)
            .annotate(
                rank=SearchRank(F("search_vector"), text_query, cover_density=True)
            )
            .order_by("-rank", "pk")
            .values("pk", "rank")[:CANDIDATES]
        )
    result.vector_candidates, result.keyword_candidates = len(nearest), len(matching)

    scored: dict[int, dict] = {}
    for rank, row in enumerate(nearest, start=1):
        similarity = 1.0 - float(row["distance"])
        if similarity < MIN_SIMILARITY:
            continue
        scored.setdefault(row["pk"], {"score": 0.0}).update(
            vector_score=round(similarity, 4), vector_rank=rank
        )
        scored[row["pk"]]["score"] += 1.0 / (RRF_K + rank)
    for rank, row in enumerate(matching, start=1):
        scored.setdefault(row["pk"], {"score": 0.0}).update(
            keyword_score=round(float(row["rank"]), 4), keyword_rank=rank
        )
        scored[row["pk"]]["score"] += 1.0 / (RRF_K + rank)
    best = sorted(scored.items(), key=lambda item: (-item[1]["score"], item[0]))[:k]
    if not best:
        result.reason = "no_match"
        return result
    rows = Chunk.objects.filter(pk__in=[pk for pk, _ in best]).select_related("file")
    by_pk = {
        chunk.pk: chunk
        for chunk in rows.only(
            "pk", "text", "page", "heading", "file__id", "file__name"
        )
    }
    for pk, scores in best:
        chunk = by_pk[pk]
        result.hits.append(
            Hit(
                chunk_id=pk,
                file_id=chunk.file.pk,
                file_name=chunk.file.name,
                page=chunk.page,
                heading=chunk.heading,
                text=chunk.text,
                score=round(scores.pop("score"), 6),
                **scores,
            )
        )
    return result
