"""The perturbations of the robustness report: pure functions, PIL image in, PIL image out.

Each one is what can happen to a real slice on its way to the service: re-saved as JPEG,
rotated a little on a scanner or viewer, windowed brighter or darker, noisier, sent as gray
or RGB, or at 512x512 instead of 224x224. Shared by training/robustness.py (the report) and
training/gate.py (the gate must accept a perturbed slice as it accepts a clean one).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageEnhance


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    """Re-encode as JPEG at `quality` and decode again, as a re-saved file would arrive."""
    buffer = io.BytesIO()
    source = image if image.mode in ("L", "RGB") else image.convert("RGB")
    source.save(buffer, format="JPEG", quality=quality)
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        decoded.load()
        return decoded.copy()


def rotate(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate about the centre, same size, black fill: outside the field of view is black."""
    source = image if image.mode in ("L", "RGB") else image.convert("RGB")
    return source.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=0)


def brightness(image: Image.Image, factor: float) -> Image.Image:
    """Scale every gray value by `factor` (1.15 = 15% brighter)."""
    return ImageEnhance.Brightness(_plain(image)).enhance(factor)


def contrast(image: Image.Image, factor: float) -> Image.Image:
    """Stretch (factor > 1) or flatten (< 1) the values around the image's mean gray."""
    return ImageEnhance.Contrast(_plain(image)).enhance(factor)


def gaussian_noise(image: Image.Image, sigma: float, seed: int = 0) -> Image.Image:
    """Add N(0, sigma) noise on the 0-255 scale, seeded so a report is reproducible."""
    source = _plain(image)
    pixels = np.asarray(source, dtype=np.float32)
    noisy = pixels + np.random.default_rng(seed).normal(0.0, sigma, pixels.shape)
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), source.mode)


def grayscale(image: Image.Image) -> Image.Image:
    """One gray channel (mode L)."""
    return image.convert("L")


def rgb(image: Image.Image) -> Image.Image:
    """Three equal channels (mode RGB), as the dataset's 224x224 copies are stored."""
    return image.convert("RGB")


def resize(image: Image.Image, side: int) -> Image.Image:
    """Resample to side x side (bilinear), e.g. 512x512 like the dataset's original slices."""
    return _plain(image).resize((side, side), Image.Resampling.BILINEAR)


def zoom(image: Image.Image, factor: float) -> Image.Image:
    """Magnify (factor > 1: centre crop) or shrink (< 1: black border) about the centre,
    same size: a slice exported with a slightly different field of view or crop."""
    source = _plain(image)
    width, height = source.size
    crop_w, crop_h = round(width / factor), round(height / factor)
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    # PIL fills the part of a crop box outside the image with black, which is the surround.
    framed = source.crop((left, top, left + crop_w, top + crop_h))
    return framed.resize((width, height), Image.Resampling.BILINEAR)


def _plain(image: Image.Image) -> Image.Image:
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


# The report's perturbations, by the name the report prints.
PERTURBATIONS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "jpeg_q75": lambda image: jpeg(image, 75),
    "jpeg_q50": lambda image: jpeg(image, 50),
    "rotate_+10": lambda image: rotate(image, 10),
    "rotate_-10": lambda image: rotate(image, -10),
    "brightness_+15%": lambda image: brightness(image, 1.15),
    "brightness_-15%": lambda image: brightness(image, 0.85),
    "contrast_+15%": lambda image: contrast(image, 1.15),
    "contrast_-15%": lambda image: contrast(image, 0.85),
    "noise_sigma5": lambda image: gaussian_noise(image, 5.0, seed=0),
    "grayscale": grayscale,
    "rgb": rgb,
    "size_512": lambda image: resize(image, 512),
}
