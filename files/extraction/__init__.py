"""Text out of an uploaded file, keeping where each part came from.

``detect_kind`` decides what a file is from its bytes: binary formats by their
signature (ZIP-based Office files by the parts inside), anything else by
decoding it as text. The name's extension only chooses among text kinds, so a
PNG or a ZIP renamed ``.pdf`` is refused rather than handed to a parser.

``extract`` returns ``Section``s: the text of one page, slide or sheet, or of
what sits under one heading, with that page number and heading path. Headings
are metadata, not text: a section's text is what is under its heading.

Every failure is an ``ExtractionError`` whose message says what is wrong and
what to do; the parsers' own exceptions never escape. Uploads are untrusted,
so ZIP-based files are inspected before any library opens them (a small file
can unpack to gigabytes), and page counts and the length of the text are
capped. python-docx and python-pptx parse XML with entities unresolved, and
lxml and expat refuse entity amplification ("billion laughs") themselves.
"""

from __future__ import annotations

from files.extraction.base import (
    HEADING_SEPARATOR,
    KIND_NAMES,
    KINDS,
    MAX_TEXT_CHARS,
    Extracted,
    ExtractionError,
    Section,
)
from files.extraction.detection import sniff
from files.extraction.readers import READERS, clean_text

__all__ = [
    "HEADING_SEPARATOR",
    "KINDS",
    "Extracted",
    "ExtractionError",
    "Section",
    "detect_kind",
    "extract",
]


def detect_kind(data: bytes, filename: str) -> str:
    """One of KINDS, from the content; raises ExtractionError for anything else."""
    return sniff(data, filename)[0]


def extract(data: bytes, filename: str) -> Extracted:
    """The file's text as cleaned, non-empty sections; raises ExtractionError."""
    kind, text = sniff(data, filename)
    name = KIND_NAMES[kind]
    keep_indent = kind in ("markdown", "text")
    sections: list[Section] = []
    total = 0
    try:
        page_count, raw_sections = READERS[kind](data if text is None else text)
        for raw in raw_sections:
            section = Section(clean_text(raw.text, keep_indent), raw.page, raw.heading)
            total += len(section.text)
            if total > MAX_TEXT_CHARS:
                raise ExtractionError(
                    f"This {name} is too long: its text passes "
                    f"{MAX_TEXT_CHARS:,} characters. Split it into smaller files."
                )
            if section.text.strip():
                sections.append(section)
    except ExtractionError:
        raise
    except Exception as error:  # parsers raise anything on bad input
        raise ExtractionError(
            f"This {name} could not be read; it may be damaged. Try saving or "
            "exporting it again."
        ) from error
    if not sections:
        if kind == "pdf":
            raise ExtractionError(
                "No text could be extracted — is it a scanned image? Run it "
                "through OCR first, or upload a PDF with selectable text."
            )
        raise ExtractionError(f"No text could be extracted: this {name} looks empty.")
    return Extracted(kind=kind, sections=sections, page_count=page_count)


# Detection
