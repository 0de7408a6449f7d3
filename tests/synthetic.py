"""Synthetic images for tests: CT-like axial slices and everyday non-CT pictures.

Nothing here comes from the dataset. A "CT slice" is drawn the way a CT window shows one:
black outside a circular field of view, a soft-tissue ellipse, a bright vertebral ring, with
a dark crack across the ring when `fracture` is set. Good enough to exercise code paths;
never a stand-in for real data when measuring the model.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def ct_slice(seed: int = 0, size: int = 224, fracture: bool = False, mode: str = "L") -> Image.Image:
    """A grayscale CT-like slice; `mode="RGB"` repeats the gray value in three channels."""
    rng = np.random.default_rng(seed)
    scale = size / 224
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    cx = size / 2 + rng.uniform(-6, 6) * scale
    cy = size / 2 + rng.uniform(-6, 6) * scale
    fov = size * 0.48
    draw.ellipse([cx - fov, cy - fov, cx + fov, cy + fov], fill=int(rng.integers(8, 20)))
    rx, ry = size * rng.uniform(0.30, 0.38), size * rng.uniform(0.24, 0.32)
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=int(rng.integers(90, 120)))
    vr = size * rng.uniform(0.08, 0.11)
    vy = cy + ry * 0.25
    draw.ellipse([cx - vr, vy - vr, cx + vr, vy + vr], fill=int(rng.integers(215, 245)))
    inner = vr * 0.6
    draw.ellipse([cx - inner, vy - inner, cx + inner, vy + inner], fill=int(rng.integers(140, 170)))
    if fracture:
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle) * vr * 1.2, np.sin(angle) * vr * 1.2
        draw.line([cx - dx, vy - dy, cx + dx, vy + dy], fill=30, width=max(2, int(3 * scale)))
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0, 4, pixels.shape)
    pixels[pixels < 12] = 0
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return image.convert(mode) if mode != "L" else image


def photo_like(seed: int = 0, size: int = 224) -> Image.Image:
    """A colourful non-CT picture: sky-to-ground gradient with random shapes."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, size)[:, None, None]
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    pixels = np.broadcast_to(top * (1 - y) + bottom * y, (size, size, 3)).copy()
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x0, y0 = rng.uniform(0, size, 2)
        x1, y1 = x0 + rng.uniform(10, size / 2), y0 + rng.uniform(10, size / 2)
        draw.rectangle([x0, y0, x1, y1], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    """The bytes of `image` saved as PNG or JPEG."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()
