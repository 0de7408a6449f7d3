"""inference.images: what bytes become an image, and the 4xx for everything else."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from PIL import Image

from inference.errors import RequestError
from inference.images import decode_base64_image, decode_image, sniff_format
from tests.synthetic import ct_slice, encode


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def refusal(call, *args, **kwargs) -> RequestError:
    with pytest.raises(RequestError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_png_and_jpeg_decode_to_their_size(fmt):
    image = decode_image(encode(ct_slice(seed=1, size=300), fmt))
    assert isinstance(image, Image.Image)
    assert image.size == (300, 300)
    assert image.format == fmt


def test_format_is_sniffed_from_magic_bytes_not_trusted_from_elsewhere():
    assert sniff_format(encode(ct_slice(size=64), "PNG")) == "PNG"
    assert sniff_format(encode(ct_slice(size=64), "JPEG")) == "JPEG"
    assert sniff_format(encode(ct_slice(size=64), "GIF")) is None
    assert sniff_format(b"<html>") is None


@pytest.mark.parametrize(
    "data",
    [b"<html><body>hello</body></html>", b"GIF89a" + b"\0" * 100, b"%PDF-1.7\n" + b"x" * 50],
    ids=["html", "gif", "pdf"],
)
def test_non_png_jpeg_bytes_are_415(data):
    error = refusal(decode_image, data)
    assert (error.status, error.code) == (415, "unsupported_image_type")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_is_400(fmt):
    data = encode(ct_slice(seed=2, size=224), fmt)
    error = refusal(decode_image, data[: len(data) // 2])
    assert (error.status, error.code) == (400, "invalid_image")


def test_header_claiming_too_many_pixels_is_413_before_decoding():
    error = refusal(decode_image, png_claiming(30_000, 30_000))
    assert (error.status, error.code) == (413, "too_many_pixels")


def test_pillows_own_bomb_guard_becomes_413_too():
    # Raise our limit out of the way: Pillow's guard (about 179 MP) must still answer 413.
    error = refusal(decode_image, png_claiming(50_000, 50_000), max_pixels=10**12)
    assert (error.status, error.code) == (413, "too_many_pixels")


def test_pixel_limit_is_configurable():
    data = encode(ct_slice(size=200))
    assert decode_image(data, max_pixels=200 * 200).size == (200, 200)
    assert refusal(decode_image, data, max_pixels=200 * 200 - 1).status == 413


def test_image_smaller_than_32_pixels_is_422():
    error = refusal(decode_image, encode(ct_slice(size=224).resize((31, 64))))
    assert (error.status, error.code) == (422, "image_too_small")
    assert decode_image(encode(ct_slice(size=32))).size == (32, 32)


def test_bytes_over_the_cap_are_413():
    data = encode(ct_slice(size=224))
    error = refusal(decode_image, data, max_bytes=len(data) - 1)
    assert (error.status, error.code) == (413, "image_too_large")


def test_empty_bytes_are_400():
    assert refusal(decode_image, b"").status == 400


def test_base64_round_trip_and_data_url():
    data = encode(ct_slice(size=64))
    text = base64.b64encode(data).decode()
    assert decode_base64_image(text) == data
    assert decode_base64_image("data:image/png;base64," + text) == data
    assert decode_base64_image(text[:40] + "\n" + text[40:]) == data  # MIME line breaks


@pytest.mark.parametrize("text", ["not base64!!", "abc", "€€€€"])
def test_invalid_base64_is_400(text):
    error = refusal(decode_base64_image, text)
    assert error.status == 400


def test_base64_over_the_cap_is_413_before_decoding():
    text = "A" * 4_000_000  # 3 MB once decoded
    error = refusal(decode_base64_image, text, 1_000_000)
    assert (error.status, error.code) == (413, "image_too_large")


def test_base64_must_be_a_string():
    assert refusal(decode_base64_image, 12345).status == 400
