"""Synthetic images for tests: CT-like axial slices and everyday non-CT pictures.

Nothing here comes from the dataset. A "CT slice" is drawn the way the dataset's CT window
shows one: black outside a circular field of view, light soft tissue, a bright vertebral ring,
with a dark crack across the ring when `fracture` is set. Good enough to exercise code paths;
never a stand-in for real data when measuring the model.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def ct_slice(
    seed: int = 0, size: int = 224, fracture: bool = False, mode: str = "L"
) -> Image.Image:
    """A grayscale CT-like slice; `mode="RGB"` repeats the gray value in three channels.

    Drawn like the dataset's wide window shows a neck slice: black outside a circular field
    of view that touches the image edges, light-gray soft tissue filling it, a small dark
    airway, and a bright vertebral ring (cut by a dark crack when `fracture` is set). These
    are the statistics the input gate checks, so every seed passes it.
    """
    rng = np.random.default_rng(seed)
    scale = size / 224
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    cx = size / 2 + rng.uniform(-2, 2) * scale
    cy = size / 2 + rng.uniform(-2, 2) * scale
    fov = size * rng.uniform(0.485, 0.5)
    draw.ellipse([cx - fov, cy - fov, cx + fov, cy + fov], fill=int(rng.integers(185, 215)))
    rx, ry = size * rng.uniform(0.30, 0.38), size * rng.uniform(0.24, 0.32)
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=int(rng.integers(200, 225)))
    airway = size * rng.uniform(0.03, 0.05)
    ay = cy - ry * 0.45
    draw.ellipse(
        [cx - airway, ay - airway, cx + airway, ay + airway], fill=int(rng.integers(0, 30))
    )
    vr = size * rng.uniform(0.08, 0.11)
    vy = cy + ry * 0.25
    draw.ellipse([cx - vr, vy - vr, cx + vr, vy + vr], fill=int(rng.integers(240, 256)))
    inner = vr * 0.6
    draw.ellipse([cx - inner, vy - inner, cx + inner, vy + inner], fill=int(rng.integers(215, 235)))
    if fracture:
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle) * vr * 1.2, np.sin(angle) * vr * 1.2
        draw.line([cx - dx, vy - dy, cx + dx, vy + dy], fill=30, width=max(2, int(3 * scale)))
    pixels = np.asarray(image, dtype=np.float32)
    outside = pixels == 0
    pixels += rng.normal(0, 4, pixels.shape)
    pixels[outside] = 0
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.6)
    )
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
