"""Telling what a file is from its bytes, and refusing what is not safe to open."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import PurePath

import filetype

from files.extraction.base import (
    ARCHIVES,
    BINARY,
    EXTENSIONS,
    HTML_START,
    KIND_NAMES,
    MAX_COMPRESSION_RATIO,
    MAX_UNCOMPRESSED_BYTES,
    MAX_ZIP_MEMBERS,
    OLE_SIGNATURE,
    RATIO_CHECK_MIN_BYTES,
    SUPPORTED,
    ZIP_PARTS,
    ZIP_SIGNATURES,
    ExtractionError,
)


def sniff(data: bytes, filename: str) -> tuple[str, str | None]:
    """The kind, and the decoded text for text kinds."""
    claimed = KIND_NAMES[EXTENSIONS.get(PurePath(filename).suffix.lower(), "text")]
    if not data:
        raise ExtractionError("The file is empty.")
    if data.lstrip(b" \t\r\n\f")[:5] == b"%PDF-":
        return "pdf", None
    if data[:4] in ZIP_SIGNATURES:
        return _zip_kind(data, claimed), None
    if data[:8] == OLE_SIGNATURE:
        raise ExtractionError(
            "This looks like an old-format (.doc, .xls, .ppt) or password-"
            "protected Office file. Save it as an unprotected .docx, .pptx or "
            ".xlsx, or as PDF."
        )
    text = _decode(data)
    if text is None:
        # Signatures are only trusted here: many are two bytes ("BM", "MZ")
        # that plain text may start with.
        guess = filetype.guess(data)
        found = _describe(guess) if guess else "binary data"
        raise ExtractionError(
            f"This looks like {found}, not {_a(claimed)}. {SUPPORTED}"
        )
    if text.lstrip()[:5] == "{\\rtf":
        raise ExtractionError(
            f"This looks like an RTF document, not {_a(claimed)}. Save it as "
            ".docx or PDF."
        )
    if HTML_START.match(text[:4096].lstrip().lower()):
        return "html", text
    kind = EXTENSIONS.get(PurePath(filename).suffix.lower())
    return (kind if kind in ("html", "markdown", "csv") else "text"), text


def _zip_kind(data: bytes, claimed: str) -> str:
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ExtractionError(
            "This file looks like a Word, PowerPoint or Excel file but is damaged "
            "or incomplete. Save it again and upload it once more."
        ) from error
    names = {member.filename for member in members}
    for part, kind in ZIP_PARTS.items():
        if part in names:
            _refuse_zip_bomb(members)
            return kind
    found = "a ZIP archive"
    if {"mimetype", "content.xml"} <= names:
        found = "an OpenDocument file (save it as .docx, .pptx or .xlsx)"
    raise ExtractionError(f"This looks like {found}, not {_a(claimed)}. {SUPPORTED}")


def _describe(guess) -> str:
    family, extension = guess.mime.split("/")[0], guess.extension
    if family in ("image", "video"):
        return f"{_a(extension.upper())} {family}"
    if family == "audio":
        return f"{_a(extension.upper())} audio file"
    if extension in ARCHIVES:
        return f"{_a(extension.upper())} archive"
    if extension in ("exe", "elf", "dll", "dex"):
        return "a program"
    return f"{_a(extension.upper())} file"


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'AEIOU' else 'a'} {noun}"


def _decode(data: bytes) -> str | None:
    """The bytes as text, or None when they are not text."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:
        return None
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        if encoding != "utf-8":
            return None
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            return None
        text = str(best)
    sample = text[:100_000]  # one stray control character is forgiven
    if len(BINARY.findall(sample)) > 1 + len(sample) / 100:
        return None
    return text


def _refuse_zip_bomb(members: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive that would unpack into far more than it weighs.

    The declared sizes can be trusted: zipfile stops reading a member at its
    declared size and then fails its checksum, so a member lying about its
    size cannot unpack further.
    """
    if (
        len(members) > MAX_ZIP_MEMBERS
        or sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES
        or any(
            member.file_size > RATIO_CHECK_MIN_BYTES
            and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
            for member in members
        )
    ):
        raise ExtractionError(
            "This file would be far too large once unpacked (it may be a ZIP "
            "bomb), so it was not opened. Save it again, or split it."
        )


# Readers: each returns the page count and the raw sections, lazily, so that
# extract() stops reading at the length limit.
