"""Hybrid search over one person's ready files: vector and full text, fused.

Two ranked lists come from PostgreSQL: the chunks nearest the query's
embedding (pgvector's HNSW index, cosine distance) and the chunks matching
its words (the GIN index on the generated ``search_vector``, ranked by cover
density): first those with all of the words, then, if they are fewer than
``CANDIDATES``, those with any. Ranking reads every matching row, so each of
the two keyword queries ranks at most ``KEYWORD_LIMIT`` matches (when common
words match more, an arbitrary ``KEYWORD_LIMIT`` of them; the vector list
still covers every chunk). Reciprocal rank fusion merges
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

from django.db import connection, transaction
from django.db.models import Count, Q
from pgvector import Vector

from files.models import SEARCH_CONFIG, Chunk, File, FileStatus

RRF_K = 60
CANDIDATES = 40
# HNSW's candidate list per query; also how far iterative scans go before
# a filtered search gives up (pgvector's hnsw.ef_search). Tuned with
# benchmarks/files.py for recall@10 >= 0.95 at 100,000 chunks.
EF_SEARCH = 200
# The most matching chunks one keyword query ranks (see above).
KEYWORD_LIMIT = 2000
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


def query_terms(query: str) -> list[str]:
    return TERM.findall(query)[:MAX_TERMS]


def tsquery_text(terms: list[str], *, every: bool) -> str:
    """All (``every``) or any of the words, for ``to_tsquery``, which stems
    them and drops stop words. Questions in plain language rarely contain
    every word of the passage that answers them, so passages with only some
    still count, after those with all. (``TERM`` leaves no quote or operator
    in a word.)"""
    return (" & " if every else " | ").join(f"'{term}'" for term in terms)


# The two ranking statements are SQL: pgvector's operator under SET LOCAL,
# cover density over a bounded set of matches. Written with the ORM they cost
# as much again in Python as PostgreSQL takes to run them (benchmarks/files.py).
# Only table names and the fixed clauses of _scope_sql are formatted in; every
# value is a parameter.
CHUNKS, FILES = Chunk._meta.db_table, File._meta.db_table
NEAREST_SQL = f"""
    SELECT c.id, c.embedding <=> %s::vector AS distance
    FROM {CHUNKS} c JOIN {FILES} f ON f.id = c.file_id
    WHERE {{scope}} AND c.embedding_model = %s
    ORDER BY distance LIMIT %s
"""  # noqa: S608
KEYWORD_SQL = f"""
    WITH matches AS (
        SELECT c.id FROM {CHUNKS} c JOIN {FILES} f ON f.id = c.file_id
        WHERE {{scope}} AND c.search_vector @@ to_tsquery(%s::regconfig, %s)
            AND NOT c.id = ANY(%s::bigint[])
        LIMIT %s
    )
    SELECT c.id, ts_rank_cd(c.search_vector, to_tsquery(%s::regconfig, %s)) AS rank
    FROM {CHUNKS} c WHERE c.id IN (SELECT id FROM matches)
    ORDER BY rank DESC, c.id LIMIT %s
"""  # noqa: S608


def _scope_sql(*, owner_id, file_ids, collection_ids, kinds) -> tuple[str, list]:
    """The WHERE clause (``c`` chunks, ``f`` files) of what may be searched."""
    clauses, params = (
        ["c.owner_id = %s", "f.status = %s"],
        [owner_id, FileStatus.READY.value],
    )
    if file_ids is not None:
        clauses.append("c.file_id = ANY(%s::bigint[])")
        params.append([int(pk) for pk in file_ids])
    if collection_ids is not None:
        clauses.append("f.collection_id = ANY(%s::bigint[])")
        params.append([int(pk) for pk in collection_ids])
    if kinds:
        clauses.append("f.kind = ANY(%s::varchar[])")
        params.append([str(kind) for kind in kinds])
    return " AND ".join(clauses), params


def _keyword_ranked(cursor, scope: tuple[str, list], raw: str, exclude) -> list:
    where, params = scope
    cursor.execute(
        KEYWORD_SQL.format(scope=where),
        [
            *params,
            SEARCH_CONFIG,
            raw,
            list(exclude),
            KEYWORD_LIMIT,
            SEARCH_CONFIG,
            raw,
            CANDIDATES,
        ],
    )
    return cursor.fetchall()


def search_chunks(
    *,
    owner_id: int,
    query: str,
    k: int = 8,
    file_ids=None,
    collection_ids=None,
    kinds=None,
    vector=None,
) -> SearchResult:
    """The ``k`` best chunks of ``owner_id``'s ready files for ``query``,
    optionally only in ``file_ids`` / ``collection_ids`` / of ``kinds``.

    ``file_ids`` and ``collection_ids`` narrow (None means no narrowing; an
    empty list means nothing). Only ``owner_id``'s files are ever searched.
    ``vector`` is the query's embedding when the caller already has it.
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

    scope = _scope_sql(
        owner_id=owner_id,
        file_ids=file_ids,
        collection_ids=collection_ids,
        kinds=kinds,
    )
    embedder = get_embedder()
    if vector is None:
        vector = embedder.embed([query])[0]
    terms = query_terms(query)
    matching = []
    with transaction.atomic(), connection.cursor() as cursor:
        # Filtered HNSW scans keep going until they have enough rows.
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(EF_SEARCH)}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(
            NEAREST_SQL.format(scope=scope[0]),
            [Vector(vector).to_text(), *scope[1], embedder.name, CANDIDATES],
        )
        nearest = cursor.fetchall()
        if terms:
            matching = _keyword_ranked(
                cursor, scope, tsquery_text(terms, every=True), ()
            )
            if len(matching) < CANDIDATES and len(terms) > 1:
                seen = [pk for pk, _rank in matching]
                matching += _keyword_ranked(
                    cursor, scope, tsquery_text(terms, every=False), seen
                )[: CANDIDATES - len(matching)]
    # An iterative scan may return rows slightly out of order (that is what
    # relaxed_order allows); the ranks are the true distance order.
    nearest.sort(key=lambda row: (row[1], row[0]))
    result.vector_candidates, result.keyword_candidates = len(nearest), len(matching)

    scored: dict[int, dict] = {}
    for rank, (pk, distance) in enumerate(nearest, start=1):
        similarity = 1.0 - float(distance)
        if similarity < MIN_SIMILARITY:
            continue
        scored.setdefault(pk, {"score": 0.0}).update(
            vector_score=round(similarity, 4), vector_rank=rank
        )
        scored[pk]["score"] += 1.0 / (RRF_K + rank)
    for rank, (pk, keyword_rank) in enumerate(matching, start=1):
        scored.setdefault(pk, {"score": 0.0}).update(
            keyword_score=round(float(keyword_rank), 4), keyword_rank=rank
        )
        scored[pk]["score"] += 1.0 / (RRF_K + rank)
    best = sorted(scored.items(), key=lambda item: (-item[1]["score"], item[0]))[:k]
    if not best:
        result.reason = "no_match"
        return result
    rows = {
        row[0]: row
        for row in Chunk.objects.filter(pk__in=[pk for pk, _ in best])
        .order_by()
        .values_list("pk", "file_id", "file__name", "page", "heading", "text")
    }
    for pk, scores in best:
        _pk, file_id, file_name, page, heading, text = rows[pk]
        result.hits.append(
            Hit(
                chunk_id=pk,
                file_id=file_id,
                file_name=file_name,
                page=page,
                heading=heading,
                text=text,
                score=round(scores.pop("score"), 6),
                **scores,
            )
        )
    return result
