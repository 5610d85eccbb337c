"""Text extraction: every kind keeps its pages and headings, the content decides
the kind rather than the name, and every bad file is refused with a message its
owner can act on. Pure functions: no database."""

import contextlib

import pytest

from files import extraction
from files.extraction import (
    ExtractionError,
    base,
    detect_kind,
    detection,
    extract,
    readers,
)
from tests.files import documents

GOOD = {
    "pdf": (documents.pdf, "report.pdf"),
    "docx": (documents.docx, "guide.docx"),
    "pptx": (documents.pptx, "results.pptx"),
    "xlsx": (documents.xlsx, "stock.xlsx"),
    "html": (lambda: documents.HTML.encode(), "guide.html"),
    "markdown": (lambda: documents.MARKDOWN.encode(), "README.md"),
    "csv": (lambda: documents.CSV.encode(), "people.csv"),
    "text": (lambda: documents.TEXT.encode(), "notes.txt"),
}


def path(*headings: str) -> str:
    return extraction.HEADING_SEPARATOR.join(headings)


def sections_of(data: bytes, filename: str) -> list[tuple]:
    return [(s.page, s.heading, s.text) for s in extract(data, filename).sections]


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract(data, filename)
    return str(caught.value)


@pytest.mark.parametrize("kind", list(GOOD))
def test_it_detects_each_kind_from_its_content(kind):
    build, filename = GOOD[kind]
    assert detect_kind(build(), filename) == kind


@pytest.mark.parametrize(
    ("kind", "filename"),
    [
        ("pdf", "notes.txt"),
        ("docx", "slides.pptx"),
        ("pptx", "sheet.xlsx"),
        ("xlsx", "report.pdf"),
        ("html", "page.txt"),
        ("html", "page.md"),
    ],
)
def test_the_content_beats_a_wrong_extension(kind, filename):
    build, _ = GOOD[kind]
    assert detect_kind(build(), filename) == kind
    assert extract(build(), filename).kind == kind


@pytest.mark.parametrize(
    ("filename", "kind"),
    [
        ("table.csv", "csv"),
        ("table.tsv", "csv"),
        ("table.md", "markdown"),
        ("table.htm", "html"),
        ("table.txt", "text"),
        ("table", "text"),
        ("table.pdf", "text"),
    ],
)
def test_the_extension_only_chooses_among_text_kinds(filename, kind):
    assert detect_kind(b"a,b\n1,2\n", filename) == kind


def test_markdown_that_mentions_html_later_on_stays_markdown():
    data = b"# Tags\n\nWrite <html> at the top of a page.\n"
    assert detect_kind(data, "tags.md") == "markdown"


@pytest.mark.parametrize("start", [b"BMW builds cars.", b"MZ is a postcode area."])
def test_text_starting_like_a_binary_signature_is_still_text(start):
    """Some signatures are two bytes ("BM" for bitmaps, "MZ" for programs)."""
    assert detect_kind(start + b"\nMore plain words.\n", "notes.txt") == "text"


def test_a_pdf_has_one_section_per_page():
    extracted = extract(documents.pdf(), "report.pdf")
    assert extracted.page_count == 3
    assert sections_of(documents.pdf(), "report.pdf") == [
        (number, "", text) for number, text in enumerate(documents.PDF_PAGES, 1)
    ]


def test_a_blank_pdf_page_is_skipped_and_later_pages_keep_their_numbers():
    extracted = extract(documents.pdf(["One.", "", "Three."]), "gap.pdf")
    assert extracted.page_count == 3
    assert [(s.page, s.text) for s in extracted.sections] == [
        (1, "One."),
        (3, "Three."),
    ]


def test_a_pdf_encrypted_without_a_user_password_is_read():
    data = documents.pdf_encrypted(user_password="")
    assert extract(data, "report.pdf").sections[0].text == documents.PDF_PAGES[0]


def test_a_word_document_groups_paragraphs_under_heading_paths():
    assert path("Install", "Linux") == "Install \u203a Linux"
    assert sections_of(documents.docx(), "guide.docx") == [
        (None, "", "An introduction before any heading."),
        (None, "Install", "Installation needs Python 3.11."),
        (
            None,
            path("Install", "Linux"),
            "Use the package manager on Linux.\n\n"
            "Name | Value\napt | yes\nmerged across",
        ),
        (None, path("Install", "macOS"), "Use Homebrew on macOS."),
        (None, "Usage", "Run the program."),
    ]
    assert extract(documents.docx(), "guide.docx").page_count is None


def test_a_word_title_heads_every_path():
    sections = extract(documents.docx(title="User guide"), "guide.docx").sections
    assert [section.heading for section in sections] == [
        "User guide",
        path("User guide", "Install"),
        path("User guide", "Install", "Linux"),
        path("User guide", "Install", "macOS"),
        path("User guide", "Usage"),
    ]


def test_a_presentation_has_one_section_per_slide_headed_by_its_title():
    extracted = extract(documents.pptx(), "results.pptx")
    assert extracted.page_count == 3
    assert sections_of(documents.pptx(), "results.pptx") == [
        (
            1,
            "Quarterly results",
            "Revenue grew by ten percent.\n\nMention the new customers.",
        ),
        (2, "Questions", "Questions"),  # a title-only slide is not lost
        (3, "Next steps", "Hire two engineers."),
    ]


def test_a_workbook_has_one_section_per_sheet_with_header_value_lines():
    extracted = extract(documents.xlsx(), "stock.xlsx")
    assert extracted.page_count == 2
    assert sections_of(documents.xlsx(), "stock.xlsx") == [
        (
            1,
            "Products",
            "Product: Widget 1\nPrice: 10.5\nStock: 10\n\n"
            "Product: Widget 2\nPrice: 11.5\nStock: 20",
        ),
        (2, "Notes", "Remember to restock in spring."),
    ]


def test_spreadsheet_rows_are_capped(monkeypatch):
    monkeypatch.setattr(readers, "MAX_TABLE_ROWS", 3)
    text = extract(documents.xlsx(rows=10), "stock.xlsx").sections[0].text
    assert "Widget 3" in text
    assert "Widget 4" not in text


def test_a_web_page_loses_its_scripts_navigation_and_footer_and_keeps_headings():
    assert sections_of(documents.HTML.encode(), "guide.html") == [
        (None, "", "Welcome to the guide!"),
        (None, "Install", "Download the installer."),
        (
            None,
            path("Install", "Linux"),
            "Use apt.\nOr use snap.\n\nTool | Command\napt | install",
        ),
        (None, "Usage", "Run it.\n\nStop it."),
    ]
    text = " ".join(s.text for s in extract(documents.HTML.encode(), "g.html").sections)
    for noise in ("tracking", "Home", "Site name", "Related", "Copyright", "color"):
        assert noise not in text


def test_markdown_is_grouped_under_its_headings_and_kept_as_written():
    assert sections_of(documents.MARKDOWN.encode(), "README.md") == [
        (None, "", "Intro line before headings."),
        (None, "Install", "Get **the package**."),
        (
            None,
            path("Install", "Linux"),
            "```bash\n# not a heading, a comment\napt install thing\n```",
        ),
        (None, "Usage", "Run it."),
    ]


def test_markdown_keeps_indentation_and_caps_long_headings():
    data = ("# " + "x" * 300 + "\n\n- item\n\tnested line\n").encode()
    (section,) = extract(data, "notes.md").sections
    assert section.text == "- item\n    nested line"
    assert section.heading == "x" * base.MAX_HEADING_CHARS + "…"


def test_a_deep_heading_path_keeps_its_nearest_headings_within_the_cap():
    lines = [f"{'#' * level} Level {level} {'y' * 150}" for level in range(1, 7)]
    data = "\n\n".join([*lines, "Deep text."]).encode()
    (section,) = extract(data, "deep.md").sections
    assert len(section.heading) <= 500
    assert section.heading.startswith("…")
    assert section.heading.endswith("Level 6 " + "y" * 150)
    assert "Level 1" not in section.heading


def test_csv_rows_become_header_value_lines_in_the_sniffed_dialect():
    assert sections_of(documents.CSV.encode(), "people.csv") == [
        (None, "", "name: Ada; age: 36; city: London\nname: Alan; age: 41")
    ]
    quoted = b'title,notes\n"Dune","long, slow"\n'
    assert sections_of(quoted, "books.csv") == [
        (None, "", "title: Dune; notes: long, slow")
    ]


def test_csv_rows_are_capped(monkeypatch):
    monkeypatch.setattr(readers, "MAX_TABLE_ROWS", 2)
    data = "n\n" + "".join(f"row{i}\n" for i in range(5))
    assert sections_of(data.encode(), "rows.csv") == [(None, "", "n: row0\nn: row1")]


def test_plain_text_is_one_section_or_one_per_form_feed_page():
    paged = extract(documents.TEXT.encode(), "notes.txt")
    assert paged.page_count == 2
    assert [(s.page, s.text) for s in paged.sections] == [
        (1, "First page of a plain text file."),
        (2, "Second page."),
    ]
    single = extract(b"Just one page.\n", "notes.txt")
    assert single.page_count is None
    assert [(s.page, s.text) for s in single.sections] == [(None, "Just one page.")]


FRENCH = (
    "Nous étions à la gare quand le train est arrivé. Les voyageurs, fatigués "
    "après une longue journée, se sont précipités vers la sortie. Ça faisait "
    "des années que je n'avais pas vu autant de monde. Où aller maintenant ? "
    "Peut-être au café près de l'hôtel de ville, où l'on sert une crème brûlée."
)


@pytest.mark.parametrize(
    "data",
    [
        FRENCH.encode("utf-8-sig"),
        FRENCH.encode("utf-16"),
        FRENCH.encode("cp1252"),
    ],
    ids=["utf-8 with BOM", "utf-16 with BOM", "cp1252"],
)
def test_text_in_other_encodings_is_decoded(data):
    assert extract(data, "menu.txt").sections[0].text == FRENCH


def test_whitespace_is_normalized_and_control_characters_removed():
    data = (
        b"Hello\x07   wor\x00ld \x1b[31mred\x1b[0m\r\n\r\n\r\n\r\nNext\tparagraph  \n"
    )
    assert sections_of(data.replace(b"\x00", b""), "n.txt") == [
        (None, "", "Hello world red\n\nNext paragraph")
    ]
    assert sections_of(documents.pdf(["Two   spaces"]), "x.pdf")[0][2] == "Two spaces"


# Refusals


def test_an_empty_file_is_refused():
    with pytest.raises(ValueError, match="empty"):
        extract(b"", "notes.txt")
    with pytest.raises(ExtractionError, match="empty"):
        detect_kind(b"", "notes.txt")


@pytest.mark.parametrize(
    ("build", "filename", "words"),
    [
        (documents.png, "photo.pdf", ["PNG image", "not a PDF"]),
        (documents.zip_archive, "report.docx", ["ZIP archive", "not a Word document"]),
        (documents.exe, "report.pdf", ["program", "not a PDF"]),
        (documents.binary_junk, "notes.txt", ["binary data", "not a text file"]),
        (documents.binary_junk_without_nul, "notes.txt", ["binary data"]),
        (lambda: documents.OLD_WORD, "letter.doc", ["old-format", ".docx"]),
        (lambda: rb"{\rtf1\ansi Hello}", "letter.doc", ["RTF document", ".docx"]),
    ],
)
def test_disguised_and_unsupported_files_are_refused(build, filename, words):
    message = refusal(build(), filename)
    for word in words:
        assert word in message
    with pytest.raises(ExtractionError):
        detect_kind(build(), filename)


def test_a_password_protected_pdf_is_refused():
    assert "password-protected" in refusal(documents.pdf_encrypted(), "report.pdf")


def test_a_damaged_pdf_is_refused():
    message = refusal(documents.pdf_truncated(), "report.pdf")
    assert "PDF could not be read" in message
    assert "damaged" in message


@pytest.mark.parametrize(
    ("part", "filename"),
    [
        ("word/document.xml", "x.docx"),
        ("ppt/presentation.xml", "x.pptx"),
        ("xl/workbook.xml", "x.xlsx"),
    ],
)
def test_a_damaged_office_file_is_refused(part, filename):
    assert "may be damaged" in refusal(documents.garbled_office(part), filename)


@pytest.mark.parametrize("kind", ["pdf", "docx", "pptx", "xlsx"])
@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_the_parsers_exceptions_never_escape(kind, damage):
    build, filename = GOOD[kind]
    data = build()
    for cut in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        if damage == "truncated":
            broken = data[:cut]
        else:
            broken = data[:cut] + bytes(64) + data[cut + 64 :]
        # Refused politely, or read: any other exception fails the test.
        with contextlib.suppress(ExtractionError):
            extract(broken, filename)


@pytest.mark.parametrize(
    "build", [documents.pdf_image_only, lambda: documents.pdf([""])]
)
def test_a_pdf_without_text_is_refused_as_a_scan(build):
    message = refusal(build(), "scan.pdf")
    assert "No text could be extracted" in message
    assert "scanned image" in message


def test_a_document_without_text_is_refused():
    data = b"<html><body><script>run()</script><nav>Menu</nav></body></html>"
    assert "No text could be extracted" in refusal(data, "page.html")


@pytest.mark.parametrize(
    ("part", "filename"),
    [
        ("word/document.xml", "bomb.docx"),
        ("ppt/presentation.xml", "bomb.pptx"),
        ("xl/workbook.xml", "bomb.xlsx"),
    ],
)
def test_a_zip_bomb_is_refused_before_it_is_opened(monkeypatch, part, filename):
    monkeypatch.setattr(detection, "MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    data = documents.zip_bomb(part, size=2 * 1024 * 1024)
    assert len(data) < 10_000
    assert "ZIP bomb" in refusal(data, filename)
    with pytest.raises(ExtractionError, match="ZIP bomb"):
        detect_kind(data, filename)  # refused at upload already


def test_a_member_compressed_absurdly_well_is_refused(monkeypatch):
    monkeypatch.setattr(detection, "RATIO_CHECK_MIN_BYTES", 1024 * 1024)
    assert "ZIP bomb" in refusal(documents.zip_bomb(size=2 * 1024 * 1024), "b.docx")


def test_an_archive_of_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(detection, "MAX_ZIP_MEMBERS", 5)
    members = {f"word/part{i}.xml": b"<p/>" for i in range(10)}
    data = documents.zip_archive({"word/document.xml": b"<w/>", **members})
    assert "ZIP bomb" in refusal(data, "many.docx")


def test_a_pdf_beyond_the_page_cap_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "MAX_PDF_PAGES", 2)
    message = refusal(documents.pdf(), "long.pdf")
    assert "3 pages" in message
    assert "at most 2" in message


def test_text_beyond_the_length_cap_is_refused(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_TEXT_CHARS", 100)
    assert "too long" in refusal(b"word " * 40, "long.txt")
    assert extract(b"word " * 10, "short.txt").sections
