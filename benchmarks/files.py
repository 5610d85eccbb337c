"""File search at 100,000 chunks, HNSW recall, and ingesting a 100-page PDF.

    .venv/bin/python -m benchmarks.files [--chunks 100000] [--queries 200]
        [--pages 100] [--drop]

On the development database (embedded unless DATABASE_URL is set):

1. A corpus (built once, reused while ``--chunks`` matches; ``--drop``
   removes it): 100 files of synthetic notes, 100 topics of 200 template
   sentences. Each chunk is seven sentences, five from its file's topic and
   two from others; its vector is the mean of
   those sentences' real embeddings (all-MiniLM-L6-v2, the default model),
   plus a little noise, L2-normalized. Embedding 100,000 real 256-token chunks
   would take hours on two cores; means of real sentence embeddings keep the
   clustered shape real embeddings have, which is what HNSW recall depends on.
   The queries are embedded with the real model, as search does.
2. Latency: ``files.search.search_chunks`` (the selector every search goes
   through) against the same statements written as raw SQL through psycopg
   (counts, the filtered HNSW query under the same ``SET LOCAL``s, the full-
   text query, the rows), with the same fusion in Python, on the same
   precomputed query vector, interleaved; p50 / p95 and their ratio. Both
   must return the same chunks. The query's embedding time is reported apart.
3. Recall@10 of the vector search against exact search (numpy over every
   vector), for several ``hnsw.ef_search`` values, with the selector's filter.
4. Ingestion: ``files.services.file_ingest`` on a generated ``--pages`` PDF
   (extract, chunk, embed, store) against the raw embedder embedding the same
   chunks' texts; chunks per second and their ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import tempfile
import time

# The development settings without DEBUG (which keeps every query's SQL).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

OWNER = "bench-files"
FILES = 100
SENTENCES_PER_TOPIC = 200
FROM_TOPIC, FROM_OTHERS = 5, 2
NOISE = 0.004
SEED = 7
# Bumped when the corpus's recipe changes, so an old one is rebuilt.
VERSION = 3

NOUNS = [
    "invoice",
    "holiday",
    "server",
    "battery",
    "contract",
    "pipeline",
    "warehouse",
    "recipe",
    "vaccine",
    "satellite",
    "mortgage",
    "router",
    "greenhouse",
    "turbine",
    "payroll",
    "glacier",
    "orchestra",
    "compiler",
    "harbor",
    "telescope",
    "vineyard",
    "bakery",
    "reactor",
    "library",
    "subway",
    "festival",
    "hospital",
    "airport",
    "museum",
    "stadium",
    "laboratory",
    "pharmacy",
    "factory",
    "cathedral",
    "bridge",
    "canal",
    "forest",
    "desert",
    "volcano",
    "island",
    "camera",
    "printer",
    "keyboard",
    "bicycle",
    "tractor",
    "helicopter",
    "submarine",
    "violin",
    "piano",
    "garden",
]
MODIFIERS = [
    "quarterly",
    "regional",
    "solar",
    "annual",
    "remote",
    "urban",
    "coastal",
    "digital",
    "mobile",
    "northern",
    "southern",
    "public",
    "private",
    "medical",
    "legal",
    "seasonal",
    "industrial",
    "historic",
    "modern",
    "rural",
    "electric",
    "wireless",
    "organic",
    "municipal",
    "tropical",
    "arctic",
    "nightly",
    "weekly",
    "international",
    "local",
]
VERBS = [
    "requires",
    "reduces",
    "improves",
    "delays",
    "supports",
    "replaces",
    "monitors",
    "funds",
    "protects",
    "measures",
    "schedules",
    "inspects",
    "documents",
    "approves",
    "limits",
    "extends",
    "tracks",
    "cools",
    "powers",
    "connects",
]
OBJECTS = [
    "the maintenance budget", "every safety inspection", "the night shift",
    "customer refunds", "the backup generator", "staff training", "the annual audit",
    "water pressure", "network latency", "the delivery schedule", "spare parts",
    "visitor access", "energy use", "the insurance claim", "noise levels",
    "the export licence", "data retention", "the cleaning crew", "fire drills",
    "temperature logs", "the parking permits", "overtime pay", "the waste contract",
    "software updates", "the loading dock", "emergency lighting", "the guest wifi",
    "ticket prices", "the rental fleet", "air quality",
]  # fmt: skip
QUALIFIERS = [
    "during the winter months", "before the end of March", "after each storm",
    "within thirty days", "on weekends only", "in the eastern district",
    "at no extra cost", "under the new policy", "for small teams",
    "when demand peaks", "once a year", "with written approval",
    "across all sites", "until further notice", "for the first time",
    "by a licensed engineer", "in every region", "at the owner's request",
    "without prior notice", "during the night",
]  # fmt: skip


def topics() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    pairs = [(m, n) for m in MODIFIERS for n in NOUNS]
    rng.shuffle(pairs)
    return pairs[:FILES]


def sentence(rng: random.Random, modifier: str, noun: str) -> str:
    verb, obj, qualifier = (
        rng.choice(VERBS),
        rng.choice(OBJECTS),
        rng.choice(QUALIFIERS),
    )
    return f"The {modifier} {noun} {verb} {obj} {qualifier}."


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- the corpus ------------------------------------------------------------


def corpus_build(owner, chunks: int) -> None:
    import numpy as np
    from django.db import connection
    from pgvector.psycopg import register_vector

    from files.embeddings import get_embedder, token_count
    from files.models import File, FileKind, FileStatus

    embedder = get_embedder()
    rng = random.Random(SEED)
    pools = []
    for modifier, noun in topics():
        seen: set[str] = set()
        while len(seen) < SENTENCES_PER_TOPIC:
            seen.add(sentence(rng, modifier, noun))
        pools.append(sorted(seen))
    texts = [text for pool in pools for text in pool]
    started = time.monotonic()
    vectors = embedder.embed(texts).reshape(FILES, SENTENCES_PER_TOPIC, -1)
    tokens = [token_count(text) for text in texts]
    print(
        f"  embedded {len(texts)} sentences in {time.monotonic() - started:.1f} s",
        flush=True,
    )

    File.objects.filter(owner=owner).delete()
    with connection.cursor() as cursor:
        # Dead rows stay in the HNSW graph until a vacuum takes them out, and
        # a scan wastes its candidate list on them.
        cursor.execute("VACUUM files_chunk")
    per_file = chunks // FILES
    files = File.objects.bulk_create(
        File(
            owner=owner,
            name=f"{modifier}-{noun}-notes-v{VERSION}.txt",
            kind=FileKind.TEXT,
            size=0,
            sha256=hashlib.sha256(f"{modifier}{noun}".encode()).hexdigest(),
            blob=f"bench/{modifier}-{noun}-notes.txt",
            status=FileStatus.READY,
            progress=100,
            chunk_count=per_file,
            chunk_size=256,
            chunk_overlap=32,
            embedding_model=embedder.name,
        )
        for modifier, noun in topics()
    )
    noise = np.random.default_rng(SEED)
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    started = time.monotonic()
    columns = (
        "file_id, owner_id, index, text, page, heading, token_count, "
        "embedding, embedding_model"
    )
    types = ["int8", "int8", "int4", "text", "int4", "varchar", "int4"]
    types += ["vector", "varchar"]
    with raw.cursor() as cursor:
        for number, file in enumerate(files):
            modifier, noun = topics()[number]
            copy_sql = f"COPY files_chunk ({columns}) FROM STDIN WITH (FORMAT BINARY)"
            with cursor.copy(copy_sql) as copy:
                copy.set_types(types)
                for index in range(per_file):
                    picks = [
                        (number, i)
                        for i in rng.sample(range(SENTENCES_PER_TOPIC), FROM_TOPIC)
                    ] + [
                        (rng.randrange(FILES), rng.randrange(SENTENCES_PER_TOPIC))
                        for _ in range(FROM_OTHERS)
                    ]
                    parts = [pools[topic][i] for topic, i in picks]
                    vector = sum(vectors[topic, i] for topic, i in picks)
                    vector = vector / np.linalg.norm(vector)
                    vector = vector + noise.normal(0, NOISE, vector.shape)
                    vector = (vector / np.linalg.norm(vector)).astype(np.float32)
                    count = sum(
                        tokens[topic * SENTENCES_PER_TOPIC + i] for topic, i in picks
                    )
                    copy.write_row(
                        [
                            file.pk,
                            owner.pk,
                            index,
                            " ".join(parts),
                            index // 4 + 1,
                            f"{modifier.title()} {noun} notes, part {index // 20 + 1}",
                            count,
                            vector,
                            embedder.name,
                        ]
                    )
            raw.commit()
            if (number + 1) % 10 == 0:
                done = (number + 1) * per_file
                rate = done / (time.monotonic() - started)
                print(f"  stored {done} chunks ({rate:.0f}/s)", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum would do soon anyway; not while measuring.
        cursor.execute("VACUUM ANALYZE files_chunk")
        cursor.execute("VACUUM ANALYZE files_file")


def corpus(chunks: int):
    from community.models import User
    from files.models import Chunk

    owner, _ = User.objects.get_or_create(
        username=OWNER, defaults={"email": f"{OWNER}@agentry.localhost"}
    )
    have = Chunk.objects.filter(
        owner=owner, file__name__endswith=f"-v{VERSION}.txt"
    ).count()
    if have != chunks or Chunk.objects.filter(owner=owner).count() != chunks:
        print(f"Building the corpus: {chunks} chunks (have {have})", flush=True)
        started = time.monotonic()
        corpus_build(owner, chunks)
        print(f"  built in {time.monotonic() - started:.0f} s", flush=True)
    return owner


def queries(count: int) -> list[str]:
    rng = random.Random(SEED + 1)
    pairs = topics()
    asked = []
    for _ in range(count):
        modifier, noun = rng.choice(pairs)
        verb, obj = rng.choice(VERBS), rng.choice(OBJECTS)
        asked.append(
            rng.choice(
                [
                    f"Which {modifier} {noun} {verb} {obj}?",
                    f"does the {noun} {verb} {obj} {rng.choice(QUALIFIERS)}",
                    f"{modifier} {noun} {obj}",
                ]
            )
        )
    return asked


# --- search: the selector and raw SQL ---------------------------------------


def _raw_keyword(cursor, owner_id: int, raw: str, exclude: list[int]) -> list:
    from files import search

    cursor.execute(
        "WITH q AS (SELECT to_tsquery(%s::regconfig, %s) AS q), "
        "matches AS (SELECT c.id FROM files_chunk c "
        "JOIN files_file f ON f.id = c.file_id, q "
        "WHERE c.owner_id = %s AND f.status = 'ready' "
        "AND c.search_vector @@ q.q AND NOT c.id = ANY(%s::bigint[]) LIMIT %s) "
        "SELECT c.id, ts_rank_cd(c.search_vector, q.q) AS rank "
        "FROM files_chunk c, q WHERE c.id IN (SELECT id FROM matches) "
        "ORDER BY rank DESC, c.id LIMIT %s",
        [
            search.SEARCH_CONFIG,
            raw,
            owner_id,
            exclude,
            search.KEYWORD_LIMIT,
            search.CANDIDATES,
        ],
    )
    return cursor.fetchall()


def raw_search(conn, *, owner_id: int, query: str, vector, model: str, k: int = 8):
    """``files.search.search_chunks`` written by hand against psycopg."""
    from files import search

    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'ready') "
            "FROM files_file WHERE owner_id = %s",
            [owner_id],
        )
        total, ready = cursor.fetchone()
        if not total or not ready:
            conn.commit()
            return []
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(search.EF_SEARCH)}")
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(
            "SELECT c.id, c.embedding <=> %s AS distance FROM files_chunk c "
            "JOIN files_file f ON f.id = c.file_id "
            "WHERE c.owner_id = %s AND f.status = 'ready' "
            "AND c.embedding_model = %s ORDER BY distance LIMIT %s",
            [vector, owner_id, model, search.CANDIDATES],
        )
        nearest = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
        conn.commit()
        terms = search.query_terms(query)
        matching = []
        if terms:
            matching = _raw_keyword(
                cursor, owner_id, " & ".join(f"'{term}'" for term in terms), []
            )
            if len(matching) < search.CANDIDATES and len(terms) > 1:
                matching += _raw_keyword(
                    cursor,
                    owner_id,
                    " | ".join(f"'{term}'" for term in terms),
                    [pk for pk, _ in matching],
                )[: search.CANDIDATES - len(matching)]
        scores: dict[int, float] = {}
        for rank, (pk, distance) in enumerate(nearest, start=1):
            if 1.0 - distance >= search.MIN_SIMILARITY:
                scores[pk] = scores.get(pk, 0.0) + 1.0 / (search.RRF_K + rank)
        for rank, (pk, _) in enumerate(matching, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (search.RRF_K + rank)
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        cursor.execute(
            "SELECT c.id, c.text, c.page, c.heading, f.id, f.name "
            "FROM files_chunk c JOIN files_file f ON f.id = c.file_id "
            "WHERE c.id = ANY(%s)",
            [[pk for pk, _ in best]],
        )
        rows = {row[0]: row for row in cursor.fetchall()}
        conn.commit()
    return [rows[pk] for pk, _ in best]


def latency(owner, asked: list[str], vectors) -> dict:
    import psycopg
    from django.db import connection
    from pgvector.psycopg import register_vector

    from files import search
    from files.embeddings import get_embedder

    model = get_embedder().name
    settings = connection.get_connection_params()
    settings.pop("cursor_factory", None)
    settings.pop("context", None)
    conn = psycopg.connect(**settings)
    register_vector(conn)
    selector_ms, raw_ms, mismatches = [], [], 0
    warm = 20
    for number, (query, vector) in enumerate(zip(asked, vectors, strict=True)):
        # Alternate which goes first: the second finds the pages the first
        # read already in PostgreSQL's buffers.
        runs = [("selector", selector_ms), ("raw", raw_ms)]
        if number % 2:
            runs.reverse()
        found = {}
        for name, times in runs:
            started = time.perf_counter()
            if name == "selector":
                result = search.search_chunks(
                    owner_id=owner.pk, query=query, k=8, vector=vector
                )
                found[name] = [hit.chunk_id for hit in result.hits]
            else:
                rows = raw_search(
                    conn, owner_id=owner.pk, query=query, vector=vector, model=model
                )
                found[name] = [row[0] for row in rows]
            if number >= warm:
                times.append((time.perf_counter() - started) * 1000)
        if found["selector"] != found["raw"]:
            mismatches += 1
    conn.close()
    return {"selector": selector_ms, "raw": raw_ms, "mismatches": mismatches}


def recall(owner, vectors, ef_values) -> list[tuple[int, float, float, float]]:
    """(ef_search, recall@10, p50 ms, p95 ms) of the selector's vector query."""
    import numpy as np
    from django.db import connection, transaction

    from files import search
    from files.models import Chunk

    ids, matrix = [], []
    for pk, embedding in (
        Chunk.objects.filter(owner=owner).values_list("pk", "embedding").iterator()
    ):
        ids.append(pk)
        matrix.append(embedding)
    ids = np.array(ids)
    order = np.argsort(ids)
    ids, matrix = ids[order], np.vstack(matrix).astype(np.float32)[order]
    exact = [set(ids[np.argsort(-(matrix @ v), kind="stable")[:10]]) for v in vectors]
    sql = (
        "SELECT c.id FROM files_chunk c JOIN files_file f ON f.id = c.file_id "
        "WHERE c.owner_id = %s AND f.status = 'ready' "
        "ORDER BY c.embedding <=> %s::vector LIMIT %s"
    )
    rows = []
    for ef in ef_values:
        found, times = [], []
        for vector, truth in zip(vectors, exact, strict=True):
            literal = "[" + ",".join(f"{x:.7g}" for x in vector) + "]"
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL hnsw.ef_search = %s", [ef])
                cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                cursor.execute(sql, [owner.pk, literal, search.CANDIDATES])
                got = [row[0] for row in cursor.fetchall()]
            times.append((time.perf_counter() - started) * 1000)
            # Ranked by true distance, as the selector re-sorts them.
            got.sort(key=lambda pk: -float(matrix[np.searchsorted(ids, pk)] @ vector))
            found.append(len(set(got[:10]) & truth) / 10)
        rows.append(
            (
                ef,
                statistics.mean(found),
                percentile(times, 0.5),
                percentile(times, 0.95),
            )
        )
    return rows


def plan(owner, vector) -> str:
    from django.db import connection, transaction

    from files import search

    literal = "[" + ",".join(f"{x:.7g}" for x in vector) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.ef_search = %s", [search.EF_SEARCH])
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(
            "EXPLAIN SELECT c.id FROM files_chunk c JOIN files_file f "
            "ON f.id = c.file_id WHERE c.owner_id = %s AND f.status = 'ready' "
            "ORDER BY c.embedding <=> %s::vector LIMIT 40",
            [owner.pk, literal],
        )
        lines = [row[0] for row in cursor.fetchall()]
    # The query's vector is 384 numbers; the plan's shape is what matters.
    return "\n".join(re.sub(r"'\[[^']*\]'", "'[...]'", line) for line in lines)


# --- ingestion ---------------------------------------------------------------


def pdf(pages: int) -> bytes:
    from fpdf import FPDF

    rng = random.Random(SEED + 2)
    pairs = topics()
    document = FPDF()
    document.set_font("helvetica", size=10)
    for _ in range(pages):
        document.add_page()
        for _ in range(3):
            modifier, noun = rng.choice(pairs)
            paragraph = " ".join(sentence(rng, modifier, noun) for _ in range(8))
            document.multi_cell(0, 5, paragraph)
            document.ln(3)
    return bytes(document.output())


def ingestion(owner, pages: int, rounds: int) -> dict:
    from django.core.files.base import ContentFile
    from django.test import override_settings

    from files import services
    from files.chunking import chunk_sections
    from files.embeddings import get_embedder
    from files.extraction import extract
    from files.models import File, FileKind

    data = pdf(pages)
    embedder = get_embedder()
    raw_s, ingest_s, extract_s, chunk_s, chunk_counts = [], [], [], [], []
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        for _ in range(rounds):
            started = time.perf_counter()
            extracted = extract(data, "bench.pdf")
            middle = time.perf_counter()
            drafts = chunk_sections(extracted.sections, size=256, overlap=32)
            extract_s.append(middle - started)
            chunk_s.append(time.perf_counter() - middle)
            texts = [draft.text for draft in drafts]
            started = time.perf_counter()
            embedder.embed(texts)
            raw_s.append(time.perf_counter() - started)

            file = File.objects.create(
                owner=owner,
                name="bench-100-pages.pdf",
                kind=FileKind.PDF,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                blob=ContentFile(data, name="bench-100-pages.pdf"),
                chunk_size=256,
                chunk_overlap=32,
            )
            started = time.perf_counter()
            done = services.file_ingest(file_id=file.pk)
            ingest_s.append(time.perf_counter() - started)
            assert done.status == "ready", done.error
            assert done.chunk_count == len(texts), (done.chunk_count, len(texts))
            chunk_counts.append(done.chunk_count)
            services.file_delete(file=done)
    return {
        "pages": extracted.page_count,
        "bytes": len(data),
        "chunks": chunk_counts[0],
        "tokens": sum(draft.token_count for draft in drafts),
        "raw": min(raw_s),
        "ingest": min(ingest_s),
        "extract": min(extract_s),
        "chunk": min(chunk_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ef", default="20,40,64,100,200")
    parser.add_argument("--drop", action="store_true", help="remove the corpus")
    arguments = parser.parse_args()

    import django

    django.setup()
    from files import search
    from files.embeddings import get_embedder

    if arguments.drop:
        from community.models import User

        User.objects.filter(username=OWNER).delete()
        print("Corpus removed.")
        return

    owner = corpus(arguments.chunks)
    embedder = get_embedder()
    asked = queries(arguments.queries)
    embed_ms = []
    vectors = []
    for query in asked:
        started = time.perf_counter()
        vectors.append(embedder.embed([query])[0])
        embed_ms.append((time.perf_counter() - started) * 1000)

    print(f"\nCorpus: {arguments.chunks} chunks in {FILES} files; {len(asked)} queries")
    print("Vector query plan:\n  " + plan(owner, vectors[0]).replace("\n", "\n  "))

    timing = latency(owner, asked, vectors)
    selector, raw = timing["selector"], timing["raw"]
    print(
        f"\nHybrid search, k=8, ef_search={search.EF_SEARCH} "
        f"({len(selector)} queries after 20 warm-up):"
    )
    print(f"  query embedding        p50 {percentile(embed_ms, 0.5):6.2f} ms")
    for name, values in (("selector", selector), ("raw SQL (psycopg)", raw)):
        print(
            f"  {name:22} p50 {percentile(values, 0.5):6.2f} ms   "
            f"p95 {percentile(values, 0.95):6.2f} ms"
        )
    print(
        f"  ratio selector / raw   p50 "
        f"{percentile(selector, 0.5) / percentile(raw, 0.5):.2f}x   p95 "
        f"{percentile(selector, 0.95) / percentile(raw, 0.95):.2f}x"
    )
    print(f"  queries whose results differ: {timing['mismatches']}")

    print("\nVector search recall@10 against exact search (LIMIT 40, as the selector):")
    ef_values = [int(value) for value in arguments.ef.split(",")]
    for ef, value, p50, p95 in recall(owner, vectors, ef_values):
        print(
            f"  ef_search {ef:4}: recall {value:.3f}   "
            f"p50 {p50:6.2f} ms   p95 {p95:6.2f} ms"
        )

    result = ingestion(owner, arguments.pages, arguments.rounds)
    raw_rate = result["chunks"] / result["raw"]
    ingest_rate = result["chunks"] / result["ingest"]
    print(
        f"\nIngestion of a {result['pages']}-page PDF ({result['bytes'] / 1e6:.1f} MB, "
        f"{result['chunks']} chunks, {result['tokens']} tokens), best of "
        f"{arguments.rounds}:"
    )
    print(
        f"  extract {result['extract']:.2f} s, chunk {result['chunk']:.2f} s "
        "(inside the ingestion)"
    )
    print(f"  raw embedder  {result['raw']:6.1f} s  {raw_rate:5.1f} chunks/s")
    print(f"  file_ingest   {result['ingest']:6.1f} s  {ingest_rate:5.1f} chunks/s")
    print(f"  ratio ingestion / raw embedder: {ingest_rate / raw_rate:.2f}x")


if __name__ == "__main__":
    main()
