"""How an upload's bytes leave the site: always as an attachment of the
person allowed them (files.selectors.file_get_downloadable), never by a path
under MEDIA_URL.

A file's name and bytes are the uploader's: the response must never let a
browser show them as a page of this site, or let a shared cache keep them.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.cache import add_never_cache_headers

from files.models import File, FileKind

# The type each detected kind is sent as. HTML goes as bare bytes: even if the
# attachment header were lost on the way, a browser must not render it.
DOWNLOAD_TYPES = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    FileKind.PPTX: (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.HTML: "application/octet-stream",
    FileKind.MARKDOWN: "text/markdown",
    FileKind.CSV: "text/csv",
    FileKind.TEXT: "text/plain",
}
FALLBACK_TYPE = "application/octet-stream"


def download_response(file: File) -> FileResponse:
    """The file's stored bytes as an attachment under its original name
    (Django quotes or percent-encodes it, so quotes and line breaks in a name
    cannot break the header). 404 when the bytes are gone from storage."""
    try:
        handle = file.blob.open("rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=file.name,
        content_type=DOWNLOAD_TYPES.get(file.kind, FALLBACK_TYPE),
    )
    response["X-Content-Type-Options"] = "nosniff"
    # private, no-store: no proxy or browser cache keeps someone's file.
    add_never_cache_headers(response)
    return response
