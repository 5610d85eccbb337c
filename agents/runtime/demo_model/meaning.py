"""Meaning by embeddings, for summaries, classification and file answers.

The demo model always uses the site's local MiniLM, never an embeddings API,
so it stays offline even where files are embedded by a provider. The model
loads on the first task that needs it (about a quarter of a second), and
arithmetic, tools and refusals never wait for it.
"""

from __future__ import annotations

import functools
import re

import numpy as np
from django.conf import settings

from files.embeddings import LocalMiniLM, get_embedder

SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
SENTENCE_END_STRICT = re.compile(r"(?<=[.!?])\s+")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@functools.cache
def _local_embedder() -> LocalMiniLM:
    # Built (onnxruntime and the model file loaded) on first use only.
    return LocalMiniLM(threads=settings.EMBEDDINGS_THREADS)


def embed(texts: list[str]) -> np.ndarray:
    """One L2-normalized row per text."""
    if settings.EMBEDDINGS_PROVIDER == "local":
        # The process's shared model, when files use the local one too.
        return get_embedder().embed(texts)
    return _local_embedder().embed(texts)


def similarities(text: str, others: list[str]) -> list[float]:
    """Cosine similarity of ``text`` to each of ``others``."""
    if not others:
        return []
    vectors = embed([text, *others])
    return [float(value) for value in vectors[1:] @ vectors[0]]


def _paragraphs(text: str) -> list[str]:
    """Lines joined into paragraphs; a blank line, a heading or a list item
    starts a new one, as in Markdown."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        heading = stripped.startswith("#")
        starts_new = not stripped or heading or BULLET.match(line)
        if starts_new and current:
            paragraphs.append(" ".join(current))
            current = []
        if heading:
            paragraphs.append(stripped)
        elif stripped:
            current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def sentences(text: str, *, semicolons: bool = True) -> list[str]:
    """The sentences (and list items) of ``text``, without bullets or
    headings; clauses after a semicolon count as sentences (notes are
    written so) unless ``semicolons`` is false."""
    found = []
    ends = SENTENCE_END if semicolons else SENTENCE_END_STRICT
    for paragraph in _paragraphs(text):
        if paragraph.startswith("#"):
            continue
        for part in ends.split(paragraph):
            part = BULLET.sub("", part).strip()
            if re.search(r"[A-Za-z0-9]", part):
                found.append(part)
    return found


def most_central(items: list[str], count: int) -> list[str]:
    """The ``count`` distinct items closest to the centroid of all, in their
    order. An item said twice weighs twice in the centroid."""
    distinct = list(dict.fromkeys(items))
    if len(distinct) <= count:
        return distinct
    vectors = embed(distinct)
    weights = np.array([items.count(item) for item in distinct], dtype=np.float32)
    centroid = (vectors * weights[:, None]).sum(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    scores = vectors @ centroid
    chosen = sorted(np.argsort(-scores, kind="stable")[:count])
    return [distinct[index] for index in chosen]


def closest(query: str, items: list[str], count: int) -> list[str]:
    """The ``count`` items most similar to ``query``, in their order."""
    if len(items) <= count:
        return items
    scores = similarities(query, items)
    chosen = sorted(sorted(range(len(items)), key=lambda i: -scores[i])[:count])
    return [items[index] for index in chosen]
