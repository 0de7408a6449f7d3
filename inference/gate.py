"""The input gate: is this decoded image plausibly an axial CT slice like the ones we trained on?

A classifier answers "fracture" or "normal" for any picture, often with high confidence, so
serving asks this question first and refuses with a reason instead of guessing. The gate is a
handful of cheap, named image statistics on a small thumbnail of what the model would see
(numpy + Pillow only, a few milliseconds):

- colour: a CT slice is gray (R = G = B); a colour photograph is not. Measured on 16x16
  block averages, so per-pixel noise on a gray slice saved as RGB does not count as colour;
- shape: CT slices are square; a 4:3 or 16:9 picture is squashed by the model's resize (a
  policy, not fitted; the other checks refuse the bench's negatives without it);
- field of view: outside the circular field of view a CT window is black, so the corners
  (at least two of them) are dark, the disc inside mostly is not, and the centre is much
  brighter than the corners;
- histogram: a CT window puts a large share of the pixels at one black level, few pixels
  at mid-gray, and the body well above it. "Black" is measured from the image's own
  darkest 1%, so a slice windowed a little lighter or flatter still passes.

The statistics are chosen so that a grayscale photograph fails too: colour alone would let a
black-and-white portrait through. Every check has a threshold; `training/gate.py` fits them
on real slices (clean, under the robustness report's perturbations, and zoomed and windowed
as training augments) and writes them into model.json's "input_gate" section. Without that
section DEFAULT_SETTINGS apply, so the gate is never off. Each check yields a margin
normalised by its scale; the score is 0.5 + the smallest margin / 2, clipped to [0, 1], so a
refusal scores below 0.5; the reason is the first failing check in CHECKS order (the
plainest explanation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

THUMBNAIL = 64
MIN_SIDE = 32  # smaller than this is an icon, not a slice
PRESAMPLE = 512  # larger images are point-sampled to this side before averaging

# Defaults: what `python training/gate.py ../shared/data/cervical-fracture` fitted (seed 0) on
# the real slices, so a model.json without "input_gate" still gets the fitted gate.
# model.json's "input_gate" overrides them key by key.
DEFAULT_SETTINGS: dict = {
    "thumbnail": THUMBNAIL,
    "max_chroma": 3.0,
    "max_aspect": 1.25,
    "max_black_level": 59.95,
    "min_corner_dark": 0.131,
    "min_second_corner_dark": 0.0608,
    "max_inner_dark": 0.2,
    "min_centre_contrast": 17.0109,
    "min_dark_share": 0.0077,
    "max_dark_share": 0.5062,
    "max_mid_share": 0.4147,
    "min_body_level": 120.0,
    "scales": {
        "chroma": 3.0,
        "aspect": 0.25,
        "black_level": 28.0,
        "corner_dark": 0.4418,
        "second_corner_dark": 0.3122,
        "centre_contrast": 118.7882,
        "inner_dark": 0.0706,
        "dark_share": 0.1887,
        "mid_share": 0.2185,
        "body_level": 72.0,
    },
}

DARK_LEVEL = 40  # gray values this close to the darkest 1% count as the black surround
MID_LEVEL = 150  # a CT window shows the body above this; photographs live in between


@dataclass(frozen=True)
class GateVerdict:
    """The gate's decision on one image; `reason` is the sentence a caller sees on refusal."""

    passed: bool
    score: float
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def settings_with_defaults(settings: dict | None) -> dict:
    """model.json's "input_gate" section over the built-in defaults (missing keys keep theirs).

    Keys the gate does not threshold (method, validation figures, ...) are ignored; a
    threshold that is not a number raises ValueError instead of switching a check off. Call
    it once when the model loads to refuse a broken model.json at start-up.
    """
    merged = {**DEFAULT_SETTINGS, "scales": dict(DEFAULT_SETTINGS["scales"])}
    for key, value in (settings or {}).items():
        if key == "scales" and isinstance(value, dict):
            merged["scales"].update({name: _number(name, v) for name, v in value.items()})
        elif key in DEFAULT_SETTINGS:
            merged[key] = _number(key, value)
    merged["thumbnail"] = max(16, int(merged["thumbnail"]))
    return merged


def _number(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"input_gate.{key} must be a finite number, not {value!r}")
    return float(value)


def _thumbnail(image: Image.Image, side: int) -> np.ndarray:
    """A (side, side, 3) float array of what the model sees: RGB, squashed to a square.

    A phone photo (12 MP) is first point-sampled to PRESAMPLE pixels a side, which keeps the
    gate at a few milliseconds; slices (512x512 at most) are box-averaged directly.
    """
    if max(image.size) > 2 * PRESAMPLE:
        image = image.resize((PRESAMPLE, PRESAMPLE), Image.Resampling.NEAREST)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    small = image.resize((side, side), Image.Resampling.BOX)
    if small.mode == "L":
        small = small.convert("RGB")
    return np.asarray(small, dtype=np.float32)


@lru_cache(maxsize=4)
def _radius(side: int) -> np.ndarray:
    """Distance of each thumbnail pixel from the centre, 1.0 at the inscribed circle."""
    centre = (side - 1) / 2
    yy, xx = np.mgrid[0:side, 0:side]
    return np.hypot(yy - centre, xx - centre) / (side / 2)


def _chroma(rgb: np.ndarray, cells: int = 16) -> float:
    """Mean max-min channel spread on a cells x cells grid of block averages.

    Averaging first keeps per-pixel colour noise (a noisy or JPEG-ed gray slice saved as RGB)
    from reading as colour, while a photograph's colours, which cover whole regions, remain.
    """
    side = rgb.shape[0]
    if side % cells:
        cells = side
    blocks = rgb.reshape(cells, side // cells, cells, side // cells, 3).mean(axis=(1, 3))
    return float((blocks.max(axis=2) - blocks.min(axis=2)).mean())


def _second_darkest_corner(dark: np.ndarray, radius: np.ndarray) -> float:
    """Dark share of the second darkest of the four corners (outside the inscribed circle).

    A CT surround is black all round, so at least two corners are mostly black even when the
    slice is zoomed or rotated; a photograph with one shadowed corner is not.
    """
    half = dark.shape[0] // 2
    outside = radius > 1.02
    shares = []
    for rows in (slice(0, half), slice(half, None)):
        for cols in (slice(0, half), slice(half, None)):
            shares.append(float(dark[rows, cols][outside[rows, cols]].mean()))
    return sorted(shares)[2]


def image_features(image: Image.Image, side: int = THUMBNAIL) -> dict[str, float]:
    """The statistics the gate thresholds, computed once per image (also used for fitting)."""
    rgb = _thumbnail(image, side)
    gray = rgb.mean(axis=2)
    radius = _radius(side)
    black = float(np.percentile(gray, 1))
    dark = gray < black + DARK_LEVEL
    corners, centre = gray[radius > 1.02], gray[radius < 0.6]
    body = gray[~dark]
    width, height = image.size
    return {
        "chroma": _chroma(rgb),
        "aspect": max(width, height) / max(1, min(width, height)),
        "black_level": black,
        "corner_dark": float((corners < black + DARK_LEVEL).mean()),
        "second_corner_dark": _second_darkest_corner(dark, radius),
        "centre_contrast": float(centre.mean() - corners.mean()),
        "inner_dark": float(dark[radius < 0.9].mean()),
        "dark_share": float(dark.mean()),
        "mid_share": float((~dark & (gray < MID_LEVEL)).mean()),
        "body_level": float(np.median(body)) if body.size else 0.0,
    }


# (feature, settings key, direction, refusal reason); direction +1: the value must be >= the
# threshold, -1: <= it. The first failing check in this order gives the reason (the plainest
# explanation first); the worst margin over all checks gives the score.
CHECKS: tuple[tuple[str, str, int, str], ...] = (
    ("chroma", "max_chroma", -1, "colour photograph (CT slices are gray)"),
    ("aspect", "max_aspect", -1, "not square like an axial CT slice"),
    ("black_level", "max_black_level", -1, "no black surround like a CT window"),
    ("corner_dark", "min_corner_dark", +1, "no circular field of view (the corners are not black)"),
    (
        "second_corner_dark",
        "min_second_corner_dark",
        +1,
        "no circular field of view (one black corner at most)",
    ),
    ("inner_dark", "max_inner_dark", -1, "no circular field of view (black inside the circle)"),
    ("centre_contrast", "min_centre_contrast", +1, "no body in the centre of the field of view"),
    ("dark_share", "min_dark_share", +1, "histogram unlike a CT window (too little black)"),
    ("dark_share", "max_dark_share", -1, "histogram unlike a CT window (mostly black)"),
    ("mid_share", "max_mid_share", -1, "histogram unlike a CT window (too many mid-grays)"),
    ("body_level", "min_body_level", +1, "histogram unlike a CT window (body too dark)"),
)


def margins(features: dict[str, float], settings: dict) -> list[tuple[float, str]]:
    """Signed, scaled distance of each feature inside (+) or outside (-) its threshold."""
    result = []
    for feature, key, direction, reason in CHECKS:
        threshold = settings.get(key)
        if threshold is None:
            continue
        scale = float(settings["scales"].get(feature, 1.0)) or 1.0
        result.append((direction * (features[feature] - float(threshold)) / scale, reason))
    return result


def assess(image: Image.Image, settings: dict | None = None) -> GateVerdict:
    """Decide whether `image` (any mode, any size) looks like an axial CT slice."""
    merged = settings_with_defaults(settings)
    if min(image.size) < MIN_SIDE:
        return GateVerdict(False, 0.0, f"too small for a CT slice ({image.width}x{image.height})")
    features = image_features(image, int(merged["thumbnail"]))
    checked = margins(features, merged)
    worst = min(margin for margin, _ in checked)
    score = float(np.clip(0.5 + worst / 2, 0.0, 1.0))
    failed = [reason for margin, reason in checked if margin < 0]
    if failed:
        return GateVerdict(False, round(score, 4), failed[0])
    return GateVerdict(True, round(score, 4), "looks like an axial CT slice")
