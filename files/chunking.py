"""Sections of a document into chunks sized for the embedding model.

Sizes are in the embedding model's tokens (``files.embeddings.token_count``),
so a chunk is never cut short when it is embedded. Structure comes first: a
chunk never joins text from two sections, so it keeps one page and one heading
path. Within a section, text is cut at the strongest boundary that makes the
pieces fit (paragraphs, then lines, then sentences, then words, and as a last
resort inside a word), and the pieces are packed greedily up to ``size``
tokens. Consecutive chunks of a section share about ``overlap`` tokens: the
end of one chunk (whole sentences or lines when they fit, else whole words)
starts the next, so a passage cut at a chunk boundary is still found whole.

A chunk's text is always a stretch of its section's text, unchanged and with
nothing prefixed. The same sections always give the same chunks, which keeps
ingestion idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from files.extraction import Section, extract

MIN_SIZE = 32
MAX_SIZE = 512
CHARACTERS_PER_TOKEN_CEILING = 20

# Where text may be cut, from the strongest boundary to the weakest. A
# sentence ends with . ! ? or an ellipsis, perhaps followed by a closing quote
# or bracket, before a space; the CJK full stop and marks (\u3002 \uff01
# \uff1f) need no space.
PARAGRAPHS = re.compile(r"\n{2,}")
LINES = re.compile(r"\n")
SENTENCES = re.compile(
    r"(?:(?<=[.!?\u2026\u3002\uff01\uff1f])"
    r"|(?<=[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]))[ \t]+"
    r"|(?<=[\u3002\uff01\uff1f])(?=[^\s\u300d\u300f\uff09\u201d\u2019])"
)
WORDS = re.compile(r"[ \t]+")
BOUNDARIES = (PARAGRAPHS, LINES, SENTENCES, WORDS)
# Where an overlap may start: a sentence or a line, else a word.
OVERLAP_STARTS = (re.compile(f"{SENTENCES.pattern}|\n+"), re.compile(r"\s+"))


@dataclass(frozen=True)
class ChunkDraft:
    index: int  # 0-based and contiguous across the document
    text: str
    page: int | None
    heading: str
    token_count: int


class Preview(NamedTuple):
    chunks: list[ChunkDraft]  # the first few
    total: int  # how many the whole document makes
    size: int  # the settings they were made with
    overlap: int


class _Piece(NamedTuple):
    text: str
    separator: str  # the text between this piece and the one before it
    tokens: int


def chunk_sections(
    sections: list[Section],
    *,
    size: int,
    overlap: int,
    count_tokens: Callable[[str], int] | None = None,
) -> list[ChunkDraft]:
    """The sections' text in chunks of at most ``size`` tokens, in order."""
    _validate(size, overlap)
    if count_tokens is None:
        # Imported here: the tokenizer loads on first use, not on import.
        from files.embeddings import token_count as count_tokens
    drafts: list[ChunkDraft] = []
    for section in sections:
        for text, tokens in _chunk_text(section.text, size, overlap, count_tokens):
            index = len(drafts)
            drafts.append(
                ChunkDraft(index, text, section.page, section.heading, tokens)
            )
    return drafts


def preview(
    data: bytes, filename: str, *, size: int, overlap: int, limit: int = 20
) -> Preview:
    """The first ``limit`` chunks of a file and how many there are in all, for
    trying chunk settings before ingesting. Raises ExtractionError."""
    _validate(size, overlap)  # before the work of extracting
    chunks = chunk_sections(
        extract(data, filename).sections, size=size, overlap=overlap
    )
    return Preview(chunks=chunks[:limit], total=len(chunks), size=size, overlap=overlap)


def _validate(size: int, overlap: int) -> None:
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(
            f"The chunk size must be between {MIN_SIZE} and {MAX_SIZE} tokens, "
            f"not {size!r}."
        )
    if not isinstance(overlap, int) or not 0 <= overlap < size / 2:
        raise ValueError(
            "The chunk overlap must be at least 0 and less than half the chunk "
            f"size ({size} tokens), not {overlap!r}."
        )


def _chunk_text(
    text: str, size: int, overlap: int, count: Callable[[str], int]
) -> Iterator[tuple[str, int]]:
    """(text, tokens) for each chunk of one section."""
    if not text.strip():
        return
    pieces = list(_pieces(text.strip(), "", 0, size, count))
    start = 0
    carry: _Piece | None = None  # the end of the previous chunk, repeated
    while start < len(pieces):
        body = [carry] if carry else []
        estimate = sum(piece.tokens for piece in body)
        end = start
        while end < len(pieces) and estimate + pieces[end].tokens <= size:
            estimate += pieces[end].tokens
            body.append(pieces[end])
            end += 1
        if end == start:
            if carry is None:  # only with a counter for which nothing fits
                raise ValueError(f"Not even one character fits in {size} tokens.")
            carry = None  # the overlap stood in the way
            continue
        chunk = _join(body)
        tokens = count(chunk)
        # Tokens do not always add up (a word cut in two counts differently):
        # the real count decides.
        while tokens > size and end - start > 1:
            body.pop()
            end -= 1
            chunk = _join(body)
            tokens = count(chunk)
        if tokens > size:  # a piece alone fits, so the overlap is in the way
            carry = None
            continue
        yield chunk, tokens
        start = end
        more = overlap and start < len(pieces)
        carry = _overlap(chunk, overlap, count) if more else None


def _pieces(
    text: str, separator: str, level: int, size: int, count: Callable[[str], int]
) -> Iterator[_Piece]:
    """``text`` cut at the strongest boundaries that make every piece fit."""
    # Counting is the slow part: a text this long cannot fit (natural text
    # averages well under ten characters a token), so it is not counted.
    tokens = count(text) if len(text) <= size * CHARACTERS_PER_TOKEN_CEILING else None
    if tokens is not None and tokens <= size:
        yield _Piece(text, separator, tokens)
        return
    while level < len(BOUNDARIES):
        parts = _split(text, BOUNDARIES[level])
        level += 1
        if len(parts) > 1:
            for i, (part, part_separator) in enumerate(parts):
                # The first part is separated from what came before as the
                # whole was.
                before = separator if i == 0 else part_separator
                yield from _pieces(part, before, level, size, count)
            return
    yield from _cut_word(text, separator, size, count)


def _split(text: str, boundary: re.Pattern) -> list[tuple[str, str]]:
    """(part, the separator before it) around each match of ``boundary``."""
    parts = []
    position, separator = 0, ""
    for match in boundary.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], separator))
            separator = match.group()
        position = match.end()
    if position < len(text):
        parts.append((text[position:], separator))
    return parts


def _cut_word(
    text: str, separator: str, size: int, count: Callable[[str], int]
) -> Iterator[_Piece]:
    """A word too long for one chunk, in the longest pieces that fit."""
    while text:
        length = _longest_prefix(text, size, count)
        yield _Piece(text[:length], separator, count(text[:length]))
        text, separator = text[length:], ""


def _longest_prefix(text: str, size: int, count: Callable[[str], int]) -> int:
    # Gallop, then bisect: every count is of a prefix not much longer than
    # the answer, however long the text.
    fits, too_long = 0, len(text) + 1
    probe = min(size, len(text))
    while probe < too_long:
        if count(text[:probe]) > size:
            too_long = probe
        else:
            fits = probe
            if probe == len(text):
                break
            probe = min(probe * 2, len(text))
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if count(text[:middle]) <= size:
            fits = middle
        else:
            too_long = middle
    return max(fits, 1)


def _overlap(chunk: str, overlap: int, count: Callable[[str], int]) -> _Piece | None:
    """The longest end of ``chunk`` within ``overlap`` tokens that starts at a
    sentence or a line, else at a word; None if not even a word fits."""
    for starts in OVERLAP_STARTS:
        best = None
        positions = [match.end() for match in starts.finditer(chunk)]
        for position in reversed(positions):
            if not 0 < position < len(chunk):
                continue
            tail = chunk[position:]
            tokens = count(tail)
            if tokens > overlap:
                break
            best = _Piece(tail, "", tokens)
        if best:
            return best
    return None


def _join(pieces: list[_Piece]) -> str:
    return pieces[0].text + "".join(p.separator + p.text for p in pieces[1:])
