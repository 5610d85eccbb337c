"""Chunking: chunks fit the embedding model's tokens, keep one page and one
heading, overlap within a section, and come out the same every time. Sizes
are checked with the model's real tokenizer. Pure functions: no database."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from files.chunking import ChunkDraft, chunk_sections, preview
from files.embeddings import token_count
from files.extraction import HEADING_SEPARATOR, Section, extract
from tests.files import documents


def prose(paragraphs: int, sentences: int = 6, tag: str = "") -> str:
    """Paragraphs of distinct sentences of about a dozen tokens each."""
    return "\n\n".join(
        " ".join(
            f"Sentence {tag}{p}-{s} tells how the {p * s}th lantern was lit."
            for s in range(sentences)
        )
        for p in range(paragraphs)
    )


def chunks_of(text: str, **kwargs) -> list[ChunkDraft]:
    return chunk_sections([Section(text)], **kwargs)


def shared_text(first: str, second: str) -> str:
    """The longest end of ``first`` that ``second`` starts with."""
    for length in range(min(len(first), len(second)), 0, -1):
        if second.startswith(first[-length:]):
            return first[-length:]
    return ""


MIXED = "\n\n".join(
    [
        prose(4),
        " ".join(f"word{i}" for i in range(700)),  # one sentence, too long
        "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t," * 60,  # one "word" of 1,200 tokens
        "https://example.com/" + "/".join(f"path{i}" for i in range(300)),
        "东京是日本的首都。" * 120,
        "\n".join(f"name: row {i}; city: Paris; score: {i * 7}" for i in range(80)),
    ]
)


@pytest.mark.parametrize("size", [32, 64, 200, 512])
def test_no_chunk_is_longer_than_the_size_in_the_models_tokens(size):
    chunks = chunks_of(MIXED, size=size, overlap=size // 4)
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.token_count == token_count(chunk.text)
        assert 0 < chunk.token_count <= size


def test_nothing_is_lost_and_nothing_is_invented():
    chunks = chunks_of(MIXED, size=64, overlap=16)
    for chunk in chunks:
        assert chunk.text in MIXED
    covered = "".join(chunk.text for chunk in chunks)
    for word in ["word699", "Sentence 3-5", "path299", "row 79", "t,a,b"]:
        assert word in covered


def test_without_overlap_the_chunks_tile_the_section_in_order():
    text = prose(10)
    position = 0
    for chunk in chunks_of(text, size=48, overlap=0):
        start = text.index(chunk.text, position)
        assert text[position:start].strip() == ""  # only the separator skipped
        position = start + len(chunk.text)
    assert position == len(text)


def test_consecutive_chunks_of_a_section_share_whole_sentences():
    chunks = chunks_of(prose(10), size=64, overlap=30)
    assert len(chunks) > 5
    for first, second in itertools.pairwise(chunks):
        shared = shared_text(first.text, second.text)
        assert shared.startswith("Sentence ")
        assert shared.endswith(".")
        assert 15 <= token_count(shared) <= 30


def test_an_overlap_falls_back_to_whole_words_when_no_sentence_fits():
    text = " ".join(f"word{i}" for i in range(400))
    chunks = chunks_of(text, size=64, overlap=10)
    for first, second in itertools.pairwise(chunks):
        shared = shared_text(first.text, second.text)
        assert shared.startswith("word")
        assert 5 <= token_count(shared) <= 10
        assert second.text.split()[0] in first.text.split()  # a whole word


def test_small_paragraphs_are_kept_whole():
    paragraphs = prose(12, sentences=2).split("\n\n")
    chunks = chunks_of("\n\n".join(paragraphs), size=64, overlap=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert set(chunk.text.split("\n\n")) <= set(paragraphs)


def test_a_sentence_longer_than_the_size_is_cut_between_words():
    words = [f"step{i}" for i in range(300)]
    chunks = chunks_of(" ".join(words), size=40, overlap=0)
    assert len(chunks) > 5
    assert [word for chunk in chunks for word in chunk.text.split()] == words


def test_chunks_never_cross_sections():
    sections = [
        Section(prose(5, tag="a"), page=1, heading="Intro"),
        Section(prose(5, tag="b"), page=1, heading="Intro / Details"),
        Section(prose(5, tag="c"), page=2, heading="Intro / Details"),
    ]
    chunks = chunk_sections(sections, size=64, overlap=20)
    by_tag = {"a": sections[0], "b": sections[1], "c": sections[2]}
    seen = set()
    for chunk in chunks:
        tags = {tag for tag in by_tag if f"Sentence {tag}" in chunk.text}
        assert len(tags) == 1
        section = by_tag[tags.pop()]
        assert chunk.text in section.text
        assert (chunk.page, chunk.heading) == (section.page, section.heading)
        seen.add(section)
    assert seen == set(sections)


def test_indices_are_contiguous_from_zero_across_sections():
    sections = [Section(prose(3), page=n) for n in (1, 2, 3)]
    chunks = chunk_sections(sections, size=32, overlap=8)
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert [chunk.page for chunk in chunks] == sorted(chunk.page for chunk in chunks)


def test_the_same_sections_always_give_the_same_chunks():
    sections = [Section(MIXED, page=4, heading="All")]
    first = chunk_sections(sections, size=100, overlap=30)
    again = chunk_sections(
        [Section(MIXED, page=4, heading="All")], size=100, overlap=30
    )
    assert first == again


def test_a_short_section_is_one_chunk_unchanged():
    (chunk,) = chunks_of("  Just a short note.  ", size=32, overlap=0)
    assert chunk == ChunkDraft(0, "Just a short note.", None, "", 5)


def test_empty_sections_make_no_chunks():
    sections = [Section(""), Section("  \n\n "), Section("Real text.", page=2)]
    chunks = chunk_sections(sections, size=32, overlap=0)
    assert [(chunk.index, chunk.text, chunk.page) for chunk in chunks] == [
        (0, "Real text.", 2)
    ]


def test_a_custom_token_counter_decides_the_sizes():
    def words(text: str) -> int:
        return len(text.split())

    chunks = chunks_of(prose(6), size=32, overlap=0, count_tokens=words)
    assert all(chunk.token_count == words(chunk.text) <= 32 for chunk in chunks)
    assert (
        max(chunk.token_count for chunk in chunks) > 20
    )  # packed, not one per sentence


def test_the_size_holds_when_pieces_do_not_add_up():
    """With a counter where spaces cost too, the pieces' counts add up to
    less than the chunk's; the chunk's own count decides."""

    def words_and_spaces(text: str) -> int:
        return len(re.findall(r"\S+|\s", text))

    chunks = chunks_of(MIXED, size=40, overlap=10, count_tokens=words_and_spaces)
    assert len(chunks) > 50
    for chunk in chunks:
        assert chunk.token_count == words_and_spaces(chunk.text) <= 40


def test_a_counter_that_fits_nothing_is_refused_rather_than_looped_on():
    with pytest.raises(ValueError, match="Not even one character"):
        chunks_of("Some text.", size=32, overlap=0, count_tokens=lambda text: 99)


@pytest.mark.parametrize("size", [31, 513, 0, -5, 100.0, "256"])
def test_sizes_outside_32_to_512_tokens_are_refused(size):
    with pytest.raises(ValueError, match="between 32 and 512"):
        chunks_of("Some text.", size=size, overlap=0)


@pytest.mark.parametrize(
    ("size", "overlap"), [(100, 50), (100, 99), (33, 17), (64, -1)]
)
def test_an_overlap_of_half_the_size_or_more_is_refused(size, overlap):
    with pytest.raises(ValueError, match="less than half"):
        chunks_of("Some text.", size=size, overlap=overlap)


@pytest.mark.parametrize(
    ("size", "overlap"), [(32, 15), (33, 16), (512, 255), (512, 0)]
)
def test_the_limits_themselves_are_accepted(size, overlap):
    chunks = chunks_of(prose(20), size=size, overlap=overlap)
    assert max(chunk.token_count for chunk in chunks) <= size


def test_preview_gives_the_first_chunks_and_the_total():
    data = prose(30).encode()
    result = preview(data, "notes.txt", size=48, overlap=10, limit=3)
    everything = chunk_sections(
        extract(data, "notes.txt").sections, size=48, overlap=10
    )
    assert len(everything) > 3
    assert result.chunks == everything[:3]
    assert result.total == len(everything)
    chunks, total, _size, _overlap = preview(
        documents.docx(), "guide.docx", size=32, overlap=0
    )
    assert (len(chunks), total) == (5, 5)
    assert chunks[2].heading == f"Install{HEADING_SEPARATOR}Linux"


def test_preview_checks_the_sizes_before_reading_the_file():
    with pytest.raises(ValueError, match="between 32 and 512"):
        preview(b"", "empty.txt", size=8, overlap=0)


def test_importing_chunking_leaves_the_tokenizer_unloaded():
    """The tokenizer loads on first use, so importing the module stays fast."""
    code = (
        "import sys, files.chunking;"
        "print(sorted({'files.embeddings', 'tokenizers', 'pypdf', 'docx'}"
        " & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[2]
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert output.stdout.strip() == "[]"
