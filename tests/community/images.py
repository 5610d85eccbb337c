"""Image files for avatar tests, made in memory."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(format: str = "PNG", size=(600, 400), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=format)
    return buffer.getvalue()


def upload(
    content: bytes | None = None, name: str = "me.png", content_type="image/png"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, image_bytes() if content is None else content, content_type
    )
