"""The input gate accepts CT-like slices, however they were saved, and refuses everything else.

Images are generated here (tests/synthetic.py and a few drawings below); none comes from the
dataset. The gate runs with its built-in defaults (settings=None) unless a test says
otherwise, because serving must refuse a photograph even when model.json has no gate section.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageEnhance

from inference.gate import DEFAULT_SETTINGS, GateVerdict, assess, settings_with_defaults
from tests.synthetic import ct_slice, photo_like

ROOT = Path(__file__).resolve().parents[2]


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


# ---- acceptances ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("fracture", [False, True])
def test_generated_ct_slices_pass(seed: int, fracture: bool) -> None:
    verdict = assess(ct_slice(seed=seed, fracture=fracture), None)
    assert verdict.passed, verdict
    assert verdict.score >= 0.5


@pytest.mark.parametrize("size", [64, 128, 224, 512, 1024])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "LA", "I", "CMYK"])
def test_ct_slices_pass_in_every_mode_and_size(size: int, mode: str) -> None:
    image = ct_slice(seed=size, size=size).convert(mode)
    assert assess(image, None).passed, (mode, size, assess(image, None))


@pytest.mark.parametrize(
    "change",
    [
        lambda im: jpeg(im, 75),
        lambda im: jpeg(im.convert("RGB"), 50),
        lambda im: im.rotate(10, fillcolor=0),
        lambda im: im.rotate(-10, fillcolor=0),
        lambda im: ImageEnhance.Brightness(im).enhance(1.15),
        lambda im: ImageEnhance.Brightness(im).enhance(0.85),
        lambda im: ImageEnhance.Contrast(im).enhance(1.15),
        lambda im: ImageEnhance.Contrast(im).enhance(0.85),
        lambda im: im.crop((10, 10, 214, 214)).resize((224, 224)),  # field of view 10% larger
        lambda im: im.crop((-11, -11, 235, 235)).resize((224, 224)),  # 10% smaller
        lambda im: Image.fromarray(  # independent noise per channel must not read as colour
            np.clip(
                np.asarray(im.convert("RGB"), float)
                + np.random.default_rng(0).normal(0, 10, (224, 224, 3)),
                0,
                255,
            ).astype(np.uint8)
        ),
    ],
    ids=[
        "jpeg75",
        "jpeg50-rgb",
        "rot+10",
        "rot-10",
        "bright+15",
        "bright-15",
        "con+15",
        "con-15",
        "zoom-in",
        "zoom-out",
        "noise-rgb",
    ],
)
def test_slightly_changed_slices_still_pass(change) -> None:
    """A re-saved, rotated or re-windowed slice is the same slice: the gate must not refuse it."""
    for seed in range(4):
        assert assess(change(ct_slice(seed=seed)), None).passed


# ---- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_colour_pictures_are_refused_as_colour(seed: int) -> None:
    verdict = assess(photo_like(seed=seed), None)
    assert not verdict.passed
    assert verdict.score < 0.5
    assert "colour photograph" in verdict.reason


@pytest.mark.parametrize("seed", range(10))
def test_the_same_pictures_in_grayscale_are_refused_too(seed: int) -> None:
    """Colour alone is not enough: a black-and-white photograph must fail on its content."""
    verdict = assess(photo_like(seed=seed).convert("L"), None)
    assert not verdict.passed
    assert "colour" not in verdict.reason


def text_page() -> Image.Image:
    image = Image.new("L", (224, 224), 245)
    draw = ImageDraw.Draw(image)
    for row in range(12):
        draw.text((10, 8 + 17 * row), "cervical spine report, C2 fracture?", fill=10)
    return image


def radial_blob() -> Image.Image:
    """Bright centre, black corners, but smooth and mid-gray: not a CT window."""
    yy, xx = np.mgrid[0:224, 0:224]
    radius = np.hypot(yy - 111.5, xx - 111.5) / 112
    return Image.fromarray((np.clip(1 - radius, 0, 1) * 255).astype(np.uint8))


def portrait_on_black() -> Image.Image:
    """A gray face-like oval on a black backdrop: dark corners, mid-gray skin."""
    image = Image.new("L", (224, 224), 5)
    draw = ImageDraw.Draw(image)
    draw.ellipse([60, 30, 164, 170], fill=125)
    draw.rectangle([30, 170, 194, 224], fill=90)
    draw.ellipse([85, 80, 100, 92], fill=40)
    draw.ellipse([124, 80, 139, 92], fill=40)
    return image


def landscape_with_one_dark_corner() -> Image.Image:
    """Hazy bright sky, one dark tree in a bottom corner: bright centre, a single black corner."""
    image = Image.new("L", (224, 224), 225)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 150, 224, 224], fill=190)
    draw.ellipse([150, 130, 300, 300], fill=10)
    return image


NEGATIVES = {
    "black": lambda: Image.new("L", (224, 224), 0),
    "white": lambda: Image.new("L", (224, 224), 255),
    "mid-gray": lambda: Image.new("RGB", (224, 224), (128, 128, 128)),
    "noise": lambda: Image.fromarray(
        np.random.default_rng(0).integers(0, 256, (224, 224), dtype=np.uint8)
    ),
    "text page": text_page,
    "radial blob": radial_blob,
    "portrait on black": portrait_on_black,
    "inverted slice": lambda: Image.eval(ct_slice(seed=1), lambda v: 255 - v),
    "one dark corner": landscape_with_one_dark_corner,
}


@pytest.mark.parametrize("name", sorted(NEGATIVES))
def test_gray_non_ct_images_are_refused_with_a_reason(name: str) -> None:
    verdict = assess(NEGATIVES[name](), None)
    assert not verdict.passed, (name, verdict)
    assert verdict.reason and verdict.reason != "looks like an axial CT slice"


def test_a_wide_picture_is_refused_as_not_square() -> None:
    wide = ct_slice(seed=2, size=224).resize((400, 224))
    verdict = assess(wide, None)
    assert not verdict.passed
    assert "square" in verdict.reason


def test_a_tiny_image_is_refused() -> None:
    verdict = assess(ct_slice(seed=2, size=224).resize((16, 16)), None)
    assert not verdict.passed
    assert "too small" in verdict.reason


# ---- the verdict and the settings ----------------------------------------------------------


def test_verdict_is_frozen_and_serialises() -> None:
    verdict = assess(ct_slice(seed=3), None)
    assert isinstance(verdict, GateVerdict)
    assert set(verdict.as_dict()) == {"passed", "score", "reason"}
    assert json.loads(json.dumps(verdict.as_dict()))["passed"] is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.passed = False  # type: ignore[misc]


def test_settings_override_the_defaults_key_by_key() -> None:
    slice_ = ct_slice(seed=4)
    assert assess(slice_, {}).passed
    # A body-level threshold above white refuses everything, with that check's reason.
    verdict = assess(slice_, {"min_body_level": 256.0, "validation": {"ignored": True}})
    assert not verdict.passed
    assert "body too dark" in verdict.reason
    merged = settings_with_defaults({"max_chroma": 10, "scales": {"chroma": 5}})
    assert merged["max_chroma"] == 10.0 and merged["scales"]["chroma"] == 5.0
    assert merged["min_body_level"] == DEFAULT_SETTINGS["min_body_level"]


@pytest.mark.parametrize("bad", ["high", None, float("nan"), True, [1]])
def test_a_malformed_threshold_fails_loudly(bad) -> None:
    with pytest.raises(ValueError, match="max_chroma"):
        settings_with_defaults({"max_chroma": bad})


def test_the_shipped_model_json_gate_refuses_and_accepts() -> None:
    path = ROOT / "model" / "model.json"
    if not path.is_file():
        pytest.skip("no shipped model yet")
    section = json.loads(path.read_text()).get("input_gate") or None
    assert assess(ct_slice(seed=8, mode="RGB"), section).passed
    assert not assess(photo_like(seed=8), section).passed
    assert not assess(photo_like(seed=8).convert("L"), section).passed


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    mode=st.sampled_from(["L", "RGB", "RGBA", "1", "P", "I;16", "F"]),
    seed=st.integers(0, 2**16),
)
def test_any_image_gets_a_consistent_verdict(width: int, height: int, mode: str, seed: int):
    """No image crashes the gate; pass and score always agree."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    if mode == "I;16":  # 16-bit gray, as a DICOM export might arrive
        image = Image.fromarray(pixels[..., 0].astype(np.uint16) * 200)
    else:
        image = Image.fromarray(pixels).convert(mode)
    verdict = assess(image, None)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.passed == (verdict.score >= 0.5)
    assert not verdict.passed  # random pixels are never a CT slice


def test_the_gate_imports_only_numpy_and_pillow() -> None:
    """The gate ships in the Lambda image: no TensorFlow, scikit-learn or training code."""
    code = (
        "import sys, inference.gate; "
        "bad = [m for m in ('tensorflow', 'sklearn', 'skimage', 'matplotlib', 'training') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
