"""Documents of every kind the files app reads, built in memory with known
text on known pages and under known headings, and the bad inputs it must
refuse."""

from __future__ import annotations

import io
import zipfile

PDF_PAGES = [
    "The first page talks about apples and orchards.",
    "The second page is about bananas from the tropics.",
    "The third page covers cherries, which ripen in June.",
]


def pdf(pages: list[str] = PDF_PAGES) -> bytes:
    """A PDF with one text per page; an empty string makes a blank page."""
    from fpdf import FPDF

    document = FPDF()
    document.set_font("helvetica", size=12)
    for text in pages:
        document.add_page()
        if text:
            document.multi_cell(0, 10, text)
    return bytes(document.output())


def pdf_image_only() -> bytes:
    """A scan: a page holding a picture of text, and no text."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (400, 100), "white")
    ImageDraw.Draw(picture).text((10, 40), "Scanned words", fill="black")
    document = FPDF()
    document.add_page()
    document.image(picture, x=10, y=10, w=150)
    return bytes(document.output())


def pdf_encrypted(*, user_password: str = "secret") -> bytes:  # noqa: S107
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf())).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user_password, owner_password="owner")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def pdf_truncated() -> bytes:
    data = pdf()
    return data[: len(data) // 2]


def docx(title: str = "") -> bytes:
    """Text before any heading, nested headings, a table with a merged cell;
    ``title`` goes first, in Word's Title style."""
    import docx as python_docx

    document = python_docx.Document()
    if title:
        document.add_heading(title, level=0)
    document.add_paragraph("An introduction before any heading.")
    document.add_heading("Install", level=1)
    document.add_paragraph("Installation needs Python 3.11.")
    document.add_heading("Linux", level=2)
    document.add_paragraph("Use the package manager on Linux.")
    table = document.add_table(rows=3, cols=2)
    for row, (name, value) in enumerate([("Name", "Value"), ("apt", "yes"), ("", "")]):
        table.cell(row, 0).text = name
        table.cell(row, 1).text = value
    table.cell(2, 0).merge(table.cell(2, 1)).text = "merged across"
    document.add_heading("macOS", level=2)
    document.add_paragraph("Use Homebrew on macOS.")
    document.add_heading("Usage", level=1)
    document.add_paragraph("Run the program.")
    return _saved(document)


def pptx() -> bytes:
    """Two titled slides with bodies (one with notes) and a title-only slide."""
    import pptx as python_pptx

    presentation = python_pptx.Presentation()
    content, title_only = presentation.slide_layouts[1], presentation.slide_layouts[5]
    slide = presentation.slides.add_slide(content)
    slide.shapes.title.text = "Quarterly results"
    slide.placeholders[1].text = "Revenue grew by ten percent."
    slide.notes_slide.notes_text_frame.text = "Mention the new customers."
    slide = presentation.slides.add_slide(title_only)
    slide.shapes.title.text = "Questions"
    slide = presentation.slides.add_slide(content)
    slide.shapes.title.text = "Next steps"
    slide.placeholders[1].text = "Hire two engineers."
    return _saved(presentation)


def xlsx(rows: int = 2) -> bytes:
    """A sheet of products under a header row, and a sheet of notes."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Products"
    sheet.append(["Product", "Price", "Stock"])
    for number in range(1, rows + 1):
        sheet.append([f"Widget {number}", 9.5 + number, number * 10])
    notes = book.create_sheet("Notes")
    notes.append(["Remember to restock in spring."])
    return _saved(book)


HTML = """<!DOCTYPE html>
<html><head><title>Guide</title><style>body { color: red }</style></head>
<body>
<header><nav><a href="/">Home</a> <a href="/about">About</a></nav>Site name</header>
<div class="sidebar">Related posts</div>
<script>var tracking = "do not index";</script>
<p>Welcome to the <b>guide</b>!</p>
<h1>Install</h1>
<p>Download the installer.</p>
<h2>Linux</h2>
<p>Use apt.<br>Or use snap.</p>
<table><tr><th>Tool</th><th>Command</th></tr><tr><td>apt</td><td>install</td></tr></table>
<h1>Usage</h1>
<ul><li>Run it.</li><li>Stop it.</li></ul>
<footer>Copyright footer text</footer>
</body></html>
"""

MARKDOWN = """Intro line before headings.

# Install

Get **the package**.

## Linux

```bash
# not a heading, a comment
apt install thing
```

Usage
=====

Run it.
"""

CSV = "name;age;city\nAda;36;London\nAlan;41;\n"

TEXT = "First page of a plain text file.\fSecond page.\f"


def _saved(document) -> bytes:
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


# Bad inputs


def png() -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(output, format="PNG")
    return output.getvalue()


def exe() -> bytes:
    """The start of a Windows program."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)


def zip_archive(members: dict[str, bytes] | None = None) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (members or {"notes.txt": b"just a zip"}).items():
            archive.writestr(name, content)
    return output.getvalue()


def zip_bomb(part: str = "word/document.xml", size: int = 2 * 1024 * 1024) -> bytes:
    """An Office-looking archive whose main part is ``size`` bytes of zeros
    (they compress about a thousand to one)."""
    return zip_archive({"[Content_Types].xml": b"<Types/>", part: bytes(size)})


def garbled_office(part: str) -> bytes:
    """An archive that names the right main part but holds no document."""
    return zip_archive({"[Content_Types].xml": b"<Types/>", part: b"<not really xml"})


def binary_junk() -> bytes:
    """Every byte value, NUL included."""
    return bytes(range(256)) * 16


def binary_junk_without_nul() -> bytes:
    import random

    generator = random.Random(7)  # noqa: S311 - test data, not secrets
    return bytes(generator.randrange(1, 256) for _ in range(4096))


OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
