"""One reader per kind: bytes or text in, a page count and sections out."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator

from files.extraction.base import (
    CONTROL,
    HEADING_SEPARATOR,
    MAX_HEADING_CHARS,
    MAX_HEADING_PATH_CHARS,
    MAX_PDF_PAGES,
    MAX_TABLE_COLUMNS,
    MAX_TABLE_ROWS,
    TERMINAL_COLOUR,
    ExtractionError,
    Section,
)


def _read_pdf(data: bytes) -> tuple[int, Iterator[Section]]:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        # Many PDFs are encrypted with an empty user password: they open as is.
        try:
            opened = reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
        except Exception:  # noqa: BLE001 - unsupported or broken encryption
            opened = False
        if not opened:
            raise ExtractionError(
                "This PDF is password-protected. Remove the password and upload "
                "it again."
            )
    page_count = len(reader.pages)
    if page_count > MAX_PDF_PAGES:
        raise ExtractionError(
            f"This PDF has {page_count:,} pages; at most {MAX_PDF_PAGES:,} are "
            "accepted. Split it into smaller files."
        )
    pages = (
        Section(page.extract_text() or "", page=number)
        for number, page in enumerate(reader.pages, start=1)
    )
    return page_count, pages


def _read_docx(data: bytes) -> tuple[None, Iterator[Section]]:
    import docx
    from docx.table import Table

    def sections() -> Iterator[Section]:
        path: list[tuple[int, str]] = []
        blocks: list[str] = []
        for block in docx.Document(io.BytesIO(data)).iter_inner_content():
            if isinstance(block, Table):
                blocks.append(_table_text(_docx_row(row.cells) for row in block.rows))
                continue
            level = _heading_level(block.style.name if block.style else "")
            if level is None or not block.text.strip():
                blocks.append(block.text)
                continue
            yield Section("\n\n".join(blocks), heading=_path(path))
            blocks = []
            path = [(depth, title) for depth, title in path if depth < level]
            path.append((level, block.text))
        yield Section("\n\n".join(blocks), heading=_path(path))

    return None, sections()


def _heading_level(style_name: str) -> int | None:
    """A Word heading's depth (the title above them all), or None.

    Word keeps the built-in styles' English names whatever its language.
    """
    if style_name == "Title":
        return 0
    match = re.fullmatch(r"Heading (\d)", style_name)
    return int(match[1]) if match else None


def _table_text(rows: Iterable[Iterable[str]]) -> str:
    """A table as one "cell | cell" line per row."""
    lines = (" | ".join(" ".join(cell.split()) for cell in row) for row in rows)
    return "\n".join(line for line in lines if line.replace("|", "").strip())


def _docx_row(cells) -> list[str]:
    # A merged cell comes once for each column it spans.
    return [cell.text for i, cell in enumerate(cells) if cell not in cells[:i]]


def _read_pptx(data: bytes) -> tuple[int, Iterator[Section]]:
    import pptx
    from pptx.shapes.group import GroupShape

    slides = list(pptx.Presentation(io.BytesIO(data)).slides)

    def shape_texts(shapes, title_id) -> Iterator[str]:
        for shape in shapes:
            if shape.shape_id == title_id:
                continue  # the title is the heading
            if isinstance(shape, GroupShape):
                yield from shape_texts(shape.shapes, title_id)
            elif shape.has_text_frame:
                yield shape.text_frame.text
            elif shape.has_table:
                yield _table_text(
                    [cell.text for cell in row.cells] for row in shape.table.rows
                )

    def sections() -> Iterator[Section]:
        for number, slide in enumerate(slides, start=1):
            title_shape = slide.shapes.title
            title = title_shape.text_frame.text if title_shape is not None else ""
            title_id = title_shape.shape_id if title_shape is not None else None
            blocks = list(shape_texts(slide.shapes, title_id))
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame:
                blocks.append(slide.notes_slide.notes_text_frame.text)
            text = "\n\n".join(blocks)
            # A slide with only a title (a divider) still says something.
            yield Section(text if text.strip() else title, number, _path([(0, title)]))

    return len(slides), sections()


def _read_xlsx(data: bytes) -> tuple[int, Iterator[Section]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)

    def sections() -> Iterator[Section]:
        try:
            for number, sheet in enumerate(book.worksheets, start=1):
                rows = sheet.iter_rows(max_col=MAX_TABLE_COLUMNS, values_only=True)
                text = _records(rows, pair_separator="\n", row_separator="\n\n")
                yield Section(text, page=number, heading=_path([(0, sheet.title)]))
        finally:
            book.close()

    return len(book.worksheets), sections()


def _records(rows: Iterable, *, pair_separator: str, row_separator: str) -> str:
    """Rows as "header: value" pairs; the first non-empty row names the columns."""
    first: list[str] = []
    header: list[str] = []
    records = []
    for row in rows:
        values = [_cell(value) for value in row[:MAX_TABLE_COLUMNS]]
        while values and not values[-1]:
            values.pop()
        if not values:
            continue
        if not header:
            first = values
            header = [value or f"Column {i}" for i, value in enumerate(values, 1)]
            continue
        header += [f"Column {i}" for i in range(len(header) + 1, len(values) + 1)]
        pairs = [
            f"{name}: {value}"
            for name, value in zip(header, values, strict=False)
            if value
        ]
        records.append(pair_separator.join(pairs))
        if len(records) >= MAX_TABLE_ROWS:
            break
    # A table of one row is a line of text, not a header.
    return row_separator.join(records) if records else " | ".join(filter(None, first))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _read_csv(text: str) -> tuple[None, Iterator[Section]]:
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if "\t" in text[:4096] else csv.excel
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    return None, iter(
        [Section(_records(rows, pair_separator="; ", row_separator="\n"))]
    )


# Elements that are not content, and those that run inside a line of text.
HTML_NOISE = (
    "script, style, noscript, template, svg, canvas, iframe, object, nav, aside, "
    "footer, button, input, select, textarea, [role=navigation], [role=banner], "
    "[role=contentinfo], [role=search], [aria-hidden=true], [class~=footer], "
    "[id=footer], [class~=sidebar], [id=sidebar], [class~=breadcrumb]"
)
HTML_INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn"}
    | {"em", "font", "i", "ins", "kbd", "label", "mark", "q", "s", "samp", "small"}
    | {"span", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr"}
)


def _read_html(text: str) -> tuple[None, Iterator[Section]]:
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, PreformattedString

    soup = BeautifulSoup(text, "lxml")
    for element in soup.select(HTML_NOISE):
        if not element.decomposed:
            element.decompose()
    for header in soup.find_all("header"):
        # A site's masthead goes; an article's header, or one with the page's
        # heading, stays.
        if not header.find_parent(["article", "main", "section"]) and not (
            header.find(re.compile(r"h[1-6]"))
        ):
            header.decompose()
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    paragraphs: list[str] = []
    line: list[str] = []

    def end_paragraph():
        paragraphs.append("".join(line))
        line.clear()

    def walk(node, preformatted=False):
        for child in node.children:
            if isinstance(child, PreformattedString):
                continue  # comments, doctypes, processing instructions
            if isinstance(child, NavigableString):
                line.append(child if preformatted else re.sub(r"\s+", " ", child))
            elif re.fullmatch(r"h[1-6]", child.name):
                end_paragraph()
                sections.append(Section("\n\n".join(paragraphs), heading=_path(path)))
                paragraphs.clear()
                level = int(child.name[1])
                path[:] = [(depth, title) for depth, title in path if depth < level]
                path.append((level, child.get_text(" ", strip=True)))
            elif child.name == "br":
                line.append("\n")
            elif child.name == "table":
                end_paragraph()
                rows = [
                    row
                    for row in child.find_all("tr")
                    if row.find_parent("table") is child
                ]
                cells = [row.find_all(["td", "th"], recursive=False) for row in rows]
                paragraphs.append(
                    _table_text([c.get_text(" ") for c in r] for r in cells)
                )
            elif child.name in HTML_INLINE:
                walk(child, preformatted)
            elif child.name not in ("head", "title", "meta", "link", "base"):
                end_paragraph()
                walk(child, preformatted or child.name == "pre")
                end_paragraph()

    walk(soup)
    end_paragraph()
    sections.append(Section("\n\n".join(paragraphs), heading=_path(path)))
    return None, iter(sections)


# An ATX heading ("## Install ##"), a setext underline ("====="), a code fence.
MARKDOWN_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*")
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _read_markdown(text: str) -> tuple[None, Iterator[Section]]:
    """Sections under the headings; the Markdown itself is kept as written."""
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    lines: list[str] = []
    fence = ""
    for line in text.splitlines():
        heading = None
        if fence:
            fence = "" if line.strip().startswith(fence) else fence
        elif match := FENCE.match(line):
            fence = match[1][0] * 3
        elif match := MARKDOWN_HEADING.fullmatch(line):
            heading = (len(match[1]), match[2] or "")
        elif (
            (match := SETEXT_UNDERLINE.fullmatch(line))
            and lines
            and lines[-1].strip()
            and (len(lines) == 1 or not lines[-2].strip())
        ):
            heading = (1 if match[1][0] == "=" else 2, lines.pop())
        if heading is None:
            lines.append(line)
            continue
        sections.append(Section("\n".join(lines), heading=_path(path)))
        lines = []
        path = [(depth, title) for depth, title in path if depth < heading[0]]
        path.append(heading)
    sections.append(Section("\n".join(lines), heading=_path(path)))
    return None, iter(sections)


def _read_text(text: str) -> tuple[int | None, Iterator[Section]]:
    """One section, or one per page when form feeds separate pages."""
    pages = text.split("\f")
    if pages[-1].strip() == "" and len(pages) > 1:
        pages.pop()  # a form feed ends the last page too
    if len(pages) == 1:
        return None, iter([Section(pages[0])])
    return len(pages), iter(Section(page, page=n) for n, page in enumerate(pages, 1))


READERS = {
    "pdf": _read_pdf,
    "docx": _read_docx,
    "pptx": _read_pptx,
    "xlsx": _read_xlsx,
    "html": _read_html,
    "markdown": _read_markdown,
    "csv": _read_csv,
    "text": _read_text,
}


# Cleaning


def _path(levels: list[tuple[int, str]]) -> str:
    """The heading path, each heading on one line; long ones are cut, and the
    outermost give way first when the path outgrows MAX_HEADING_PATH_CHARS."""
    parts = [CONTROL.sub("", " ".join(text.split())) for _, text in levels]
    parts = [
        part if len(part) <= MAX_HEADING_CHARS else part[:MAX_HEADING_CHARS] + "…"
        for part in parts
        if part
    ]
    path = HEADING_SEPARATOR.join(parts)
    while len(path) > MAX_HEADING_PATH_CHARS:
        parts = parts[1:]
        path = HEADING_SEPARATOR.join(["…", *parts])
    return path


def clean_text(text: str, keep_indent: bool = False) -> str:
    """Controls out, runs of spaces collapsed, at most one blank line between
    paragraphs; indentation kept where it means something (Markdown code,
    plain text)."""
    text = TERMINAL_COLOUR.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\f", "\n\n")
    lines = []
    for line in CONTROL.sub("", text).split("\n"):
        words = " ".join(line.split())
        indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        lines.append(" " * indent + words if keep_indent and words else words)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
