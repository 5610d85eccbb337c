"""Avatar images: check an upload, then make the one square picture kept.

The uploaded bytes are never stored: the image is decoded, cropped to a
square, resized and encoded again as WebP, which drops metadata (EXIF, GPS)
and anything hidden in the original file.
"""

from __future__ import annotations

import io
import warnings

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# The folder under MEDIA_ROOT that holds avatars, and the only one served
# from under MEDIA_URL (community.views.avatar): uploads never are.
AVATAR_DIRECTORY = "avatars"
AVATAR_SIZE = 256
MAX_AVATAR_BYTES = 5 * 1024 * 1024
# Decoding a huge canvas costs memory whatever the file size: refuse it first.
MAX_AVATAR_PIXELS = 40_000_000
ALLOWED_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}


def _refuse(message: str) -> ValidationError:
    return ValidationError({"avatar": [message]})


def avatar_process(upload) -> bytes:
    """The avatar to store (WebP, AVATAR_SIZE square) made from an uploaded
    file, or a ValidationError on ``avatar`` saying what is wrong with it."""
    size = getattr(upload, "size", None)
    if size is None or size > MAX_AVATAR_BYTES:
        raise _refuse(_("The image is larger than 5 MB; choose a smaller one."))
    if size == 0:
        raise _refuse(_("The file is empty."))
    not_an_image = _("Upload a PNG, JPEG, WebP or GIF image.")
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as probe:
                image_format = probe.format
                width, height = probe.size
                probe.verify()
            if image_format not in ALLOWED_FORMATS:
                raise _refuse(not_an_image)
            if width * height > MAX_AVATAR_PIXELS:
                raise _refuse(_("The image has too many pixels; choose a smaller one."))
            # verify() leaves the image unusable: open it again to decode it.
            upload.seek(0)
            with Image.open(upload) as image:
                image.seek(0)  # the first frame of an animation
                image = ImageOps.exif_transpose(image)
                has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                    image.mode == "P" and "transparency" in image.info
                )
                image = image.convert("RGBA" if has_alpha else "RGB")
                square = ImageOps.fit(
                    image, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS
                )
    except ValidationError:
        raise
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        EOFError,
    ):
        # Pillow reports corrupt, truncated or unknown files in all these ways.
        raise _refuse(not_an_image) from None
    output = io.BytesIO()
    square.save(output, format="WEBP", quality=85, method=4)
    return output.getvalue()
