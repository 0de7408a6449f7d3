"""Bytes from a caller -> a checked, fully decoded PIL image, or a 4xx error.

Every image the service sees goes through `decode_image`, whatever its source (URL, S3,
base64, upload), so the rules about what is an acceptable image live here once: the magic
bytes say PNG or JPEG (a Content-Type header is not trusted), the header's pixel count is
checked before any pixel is decompressed (a 100-byte PNG can claim 100,000 x 100,000 pixels),
and a truncated or corrupt file is a 400, never a stack trace.
"""

from __future__ import annotations

import binascii
import io
import warnings

from PIL import Image

from inference.errors import InvalidImage, PayloadTooLarge, UnsupportedMediaType, UnusableImage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 25_000_000  # a 5000 x 5000 image; a CT slice is usually 512 x 512
DEFAULT_MIN_SIDE = 32

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
FORMATS = {"PNG": PNG_MAGIC, "JPEG": JPEG_MAGIC}


def sniff_format(data: bytes) -> str | None:
    """'PNG' or 'JPEG' from the first bytes, None for anything else."""
    for name, magic in FORMATS.items():
        if data.startswith(magic):
            return name
    return None


def check_size(size: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse (413) a body of `size` bytes when it exceeds the cap."""
    if size > max_bytes:
        raise PayloadTooLarge(
            f"The image is {size:,} bytes; the limit is {max_bytes:,} bytes.",
            code="image_too_large",
        )


def base64_bytes(text: str | bytes) -> bytes:
    """Strictly decoded base64 (400 on anything else); line breaks, as MIME writes, are allowed.

    binascii's strict mode validates in C: several times faster than base64's regex check.
    """
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    try:
        if isinstance(text, bytes):
            text = text.decode("ascii")
        return binascii.a2b_base64("".join(text.split()), strict_mode=True)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidImage("The image is not valid base64.", code="invalid_base64") from exc


def decode_base64_image(text: object, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a base64 string, refused (413) by its length before decoding it."""
    if not isinstance(text, str | bytes):
        raise InvalidImage('"image" must be a base64 string.', code="bad_request")
    # Each 4 base64 characters carry 3 bytes; refuse by length before allocating anything.
    check_size((len(text) * 3) // 4 - 2, max_bytes)
    if isinstance(text, bytes):
        text = text.decode("ascii", errors="replace")
    if text.startswith("data:") and "," in text[:100]:
        text = text.split(",", 1)[1]  # a data URL: data:image/png;base64,....
    data = base64_bytes(text)
    if not data:
        raise InvalidImage("The image is empty.", code="empty_image")
    check_size(len(data), max_bytes)
    return data


def decode_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> Image.Image:
    """A fully loaded PIL image from PNG or JPEG bytes, or a RequestError saying why not.

    415 when the bytes are not PNG/JPEG, 413 when the file or its pixel count is too big
    (a decompression bomb), 422 when it is smaller than `min_side` on a side, 400 when it is
    truncated or corrupt.
    """
    if not data:
        raise InvalidImage("The image is empty.", code="empty_image")
    check_size(len(data), max_bytes)
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMediaType(
            "The file is not a PNG or JPEG image (checked by its first bytes).",
            code="unsupported_image_type",
        )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = image.size
            if width * height > max_pixels:
                raise PayloadTooLarge(
                    f"The image is {width}x{height} pixels; the limit is {max_pixels:,} pixels.",
                    code="too_many_pixels",
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge(
            "The image declares more pixels than the service decodes (decompression bomb).",
            code="too_many_pixels",
        ) from exc
    except PayloadTooLarge:
        raise
    except Exception as exc:
        # Pillow reports truncated and corrupt files as OSError, SyntaxError or ValueError, and
        # hostile ones as stranger things (struct.error, IndexError...): all mean "bad image".
        raise InvalidImage(
            f"The {fmt} image is truncated or corrupt and cannot be decoded.",
            code="invalid_image",
        ) from exc
    if min(width, height) < min_side:
        raise UnusableImage(
            f"The image is {width}x{height} pixels; at least {min_side}x{min_side} is needed.",
            code="image_too_small",
        )
    return image
