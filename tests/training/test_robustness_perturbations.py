"""Each perturbation of the robustness report does exactly what its name says, and no more.

They are pure (the input image is never changed) and deterministic (the noise is seeded), so
a report can be reproduced. Expected values are computed by hand on tiny images.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.synthetic import ct_slice
from training import perturbations as p


def flat(value: int, mode: str = "L", size: int = 32) -> Image.Image:
    return Image.new(mode, (size, size), value if mode == "L" else (value,) * 3)


@pytest.mark.parametrize("name", sorted(p.PERTURBATIONS))
def test_every_perturbation_is_pure_and_deterministic(name: str) -> None:
    image = ct_slice(seed=1, size=64)
    before = np.asarray(image).copy()
    first = p.PERTURBATIONS[name](image)
    second = p.PERTURBATIONS[name](image)
    assert np.array_equal(np.asarray(image), before), "the input was changed"
    assert first is not image
    assert np.array_equal(np.asarray(first), np.asarray(second))


def test_brightness_scales_values() -> None:
    assert np.asarray(p.brightness(flat(100), 1.15)).max() == 115
    assert np.asarray(p.brightness(flat(100), 0.85)).max() == 85


def test_contrast_moves_values_away_from_or_towards_the_mean() -> None:
    image = Image.fromarray(np.array([[50, 150]] * 2, dtype=np.uint8))  # mean 100
    assert np.asarray(p.contrast(image, 1.15))[0].tolist() == [42, 157]
    assert np.asarray(p.contrast(image, 0.85))[0].tolist() == [57, 142]


def test_noise_has_the_requested_sigma_and_is_seeded() -> None:
    image = flat(128, size=256)
    noisy = np.asarray(p.gaussian_noise(image, 5.0, seed=0), dtype=float)
    assert abs(noisy.std() - 5.0) < 0.2
    assert abs(noisy.mean() - 128) < 0.2
    other = np.asarray(p.gaussian_noise(image, 5.0, seed=1))
    assert not np.array_equal(noisy.astype(np.uint8), other)


def test_rotation_keeps_the_size_and_fills_black() -> None:
    image = flat(200, size=64)
    rotated = np.asarray(p.rotate(image, 10))
    assert rotated.shape == (64, 64)
    assert rotated[0, 0] == 0 and rotated[32, 32] == 200
    assert np.array_equal(np.asarray(p.rotate(image, 0)), np.asarray(image))


def test_jpeg_reencodes_lossy_and_lower_quality_loses_more() -> None:
    image = ct_slice(seed=2, size=128)
    original = np.asarray(image, dtype=float)
    error75 = np.abs(np.asarray(p.jpeg(image, 75), dtype=float) - original).mean()
    error50 = np.abs(np.asarray(p.jpeg(image, 50), dtype=float) - original).mean()
    assert 0 < error75 < error50


def test_zoom_crops_in_or_frames_with_black() -> None:
    image = flat(200, size=100)
    assert np.asarray(p.zoom(image, 1.25))[0, 0] == 200  # magnified: still all body
    shrunk = np.asarray(p.zoom(image, 0.8))
    assert shrunk.shape == (100, 100) and shrunk[0, 0] == 0 and shrunk[50, 50] == 200
    assert np.array_equal(np.asarray(p.zoom(image, 1.0)), np.asarray(image))


def test_grayscale_rgb_and_resize() -> None:
    image = ct_slice(seed=3, size=64, mode="RGB")
    assert p.grayscale(image).mode == "L"
    assert p.rgb(p.grayscale(image)).mode == "RGB"
    gray = np.asarray(p.rgb(p.grayscale(image)))
    assert np.array_equal(gray[..., 0], gray[..., 2])
    assert p.resize(image, 512).size == (512, 512)


def test_the_report_covers_every_condition_the_issue_names() -> None:
    assert set(p.PERTURBATIONS) == {
        "jpeg_q75", "jpeg_q50", "rotate_+10", "rotate_-10", "brightness_+15%",
        "brightness_-15%", "contrast_+15%", "contrast_-15%", "noise_sigma5", "grayscale",
        "rgb", "size_512",
    }  # fmt: skip
