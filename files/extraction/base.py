"""What extraction shares: its limits, its error and its results."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("pdf", "docx", "pptx", "xlsx", "html", "markdown", "csv", "text")

# Read at call time, so tests can lower them.
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200  # for members larger than the next limit
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_PDF_PAGES = 2_000
MAX_TEXT_CHARS = 5_000_000
# Spreadsheets and CSV: plenty for a document a person means to search; past
# that the file is a database export.
MAX_TABLE_ROWS = 10_000
MAX_TABLE_COLUMNS = 100
# A heading, and the whole path (Chunk.heading holds 500 characters).
MAX_HEADING_CHARS = 200
MAX_HEADING_PATH_CHARS = 500

HEADING_SEPARATOR = " \u203a "  # a single right-pointing angle quote
ZIP_PARTS = {
    "word/document.xml": "docx",
    "ppt/presentation.xml": "pptx",
    "xl/workbook.xml": "xlsx",
}
KIND_NAMES = {
    "pdf": "PDF",
    "docx": "Word document",
    "pptx": "PowerPoint presentation",
    "xlsx": "Excel workbook",
    "html": "web page",
    "markdown": "Markdown file",
    "csv": "CSV file",
    "text": "text file",
}
EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".csv": "csv",
    ".tsv": "csv",
}
SUPPORTED = "Upload a PDF, Word, PowerPoint, Excel, HTML, Markdown, CSV or text file."
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ARCHIVES = {"gz", "bz2", "xz", "7z", "rar", "tar", "zst", "lz", "br", "cab", "ar"}
HTML_START = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype html|<html)", re.S
)

# Controls that real text hardly contains and binary data is full of (tab,
# newline, carriage return, form feed and escape are left out of the count).
BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
# Removed from the text: C0 and C1 controls but tab, newline, carriage return
# and form feed, plus soft hyphens, zero-width characters and stray BOMs.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\xad\u200b\u200c\u2060\ufeff]")
TERMINAL_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class ExtractionError(ValueError):
    """The file cannot be turned into text; the message tells its owner why."""


@dataclass(frozen=True)
class Section:
    text: str
    page: int | None = None  # 1-based: a PDF page, a slide, a sheet
    heading: str = ""  # the headings above, joined by HEADING_SEPARATOR


@dataclass
class Extracted:
    kind: str
    sections: list[Section]
    page_count: int | None = None
