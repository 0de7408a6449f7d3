"""The input gate: is this decoded image plausibly an axial CT slice like the ones we trained on?

A classifier answers "fracture" or "normal" for any picture, often with high confidence, so
serving asks this question first and refuses with a reason instead of guessing. The gate is a
handful of cheap, named image statistics on a small thumbnail of what the model would see
(numpy + Pillow only, a few milliseconds):

- colour: a CT slice is gray (R = G = B); a colour photograph is not;
- shape: CT slices are square; a 4:3 or 16:9 picture is squashed by the model's resize;
- field of view: outside the circular field of view a CT window is black, so the corners are
  dark while the centre holds the body;
- histogram: a CT window puts a large share of the pixels at black and the body well above it;
- symmetry: an axial slice is roughly mirror-symmetric left to right.

Every check has a threshold; `training/gate.py` fits them on real slices and writes them into
model.json's "input_gate" section. Without that section the defaults below apply, so the gate
is never off. Each check yields a margin normalised by its scale; the score is 0.5 + the
smallest margin / 2 clipped to [0, 1], so a refusal scores below 0.5 and the reason names the
check that failed worst.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

THUMBNAIL = 64

# Defaults, fitted on the 1000 real slices of ../shared/data/cervical-fracture (see
# training/gate.py); model.json's "input_gate" overrides them key by key.
DEFAULT_SETTINGS: dict = {
    "thumbnail": THUMBNAIL,
    "max_chroma": 3.0,
    "max_aspect": 1.25,
    "min_corner_dark": 0.55,
    "min_centre_contrast": 60.0,
    "min_dark_share": 0.08,
    "max_dark_share": 0.55,
    "min_body_level": 90.0,
    "min_symmetry": 0.45,
    "scales": {
        "chroma": 3.0,
        "aspect": 0.25,
        "corner_dark": 0.2,
        "centre_contrast": 40.0,
        "dark_share": 0.1,
        "body_level": 40.0,
        "symmetry": 0.2,
    },
}

DARK_LEVEL = 40  # gray values below this count as the black surround of a CT window


@dataclass(frozen=True)
class GateVerdict:
    """The gate's decision on one image; `reason` is the sentence a caller sees on refusal."""

    passed: bool
    score: float
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def settings_with_defaults(settings: dict | None) -> dict:
    """model.json's "input_gate" section over the built-in defaults (missing keys keep theirs)."""
    merged = {**DEFAULT_SETTINGS, "scales": dict(DEFAULT_SETTINGS["scales"])}
    for key, value in (settings or {}).items():
        if key == "scales" and isinstance(value, dict):
            merged["scales"].update(value)
        elif key in DEFAULT_SETTINGS:
            merged[key] = value
    return merged


def _thumbnail(image: Image.Image, side: int) -> np.ndarray:
    """A (side, side, 3) float array of what the model sees: RGB, squashed to a square."""
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    small = image.resize((side, side), Image.Resampling.BOX, reducing_gap=2.0)
    if small.mode == "L":
        small = small.convert("RGB")
    return np.asarray(small, dtype=np.float32)


def _radius(side: int) -> np.ndarray:
    """Distance of each thumbnail pixel from the centre, 1.0 at the inscribed circle."""
    centre = (side - 1) / 2
    yy, xx = np.mgrid[0:side, 0:side]
    return np.hypot(yy - centre, xx - centre) / (side / 2)


def image_features(image: Image.Image, side: int = THUMBNAIL) -> dict[str, float]:
    """The statistics the gate thresholds, computed once per image (also used for fitting)."""
    rgb = _thumbnail(image, side)
    chroma = float((rgb.max(axis=2) - rgb.min(axis=2)).mean())
    gray = rgb.mean(axis=2)
    radius = _radius(side)
    corners = gray[radius > 1.02]
    centre = gray[radius < 0.6]
    dark = gray < DARK_LEVEL
    body = gray[~dark]
    width, height = image.size
    mirrored = gray[:, ::-1]
    a, b = gray - gray.mean(), mirrored - mirrored.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    symmetry = float((a * b).sum() / denominator) if denominator > 0 else 0.0
    return {
        "chroma": chroma,
        "aspect": max(width, height) / max(1, min(width, height)),
        "corner_dark": float((corners < DARK_LEVEL).mean()),
        "centre_contrast": float(centre.mean() - corners.mean()),
        "dark_share": float(dark.mean()),
        "body_level": float(np.median(body)) if body.size else 0.0,
        "symmetry": symmetry,
    }


# (feature, settings key, direction, refusal reason); direction +1: the value must be >= the
# threshold, -1: <= it. Order matters only for ties in the margin.
CHECKS: tuple[tuple[str, str, int, str], ...] = (
    ("chroma", "max_chroma", -1, "colour photograph: a CT slice is gray"),
    ("aspect", "max_aspect", -1, "not square like an axial CT slice"),
    ("corner_dark", "min_corner_dark", +1, "no circular field of view: the corners are not black"),
    ("centre_contrast", "min_centre_contrast", +1, "no body in the centre of the field of view"),
    ("dark_share", "min_dark_share", +1, "intensity histogram unlike a CT window: too little black"),
    ("dark_share", "max_dark_share", -1, "intensity histogram unlike a CT window: mostly black"),
    ("body_level", "min_body_level", +1, "intensity histogram unlike a CT window: body too dark"),
    ("symmetry", "min_symmetry", +1, "not left-right symmetric like an axial slice"),
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
    features = image_features(image, int(merged["thumbnail"]))
    worst, reason = min(margins(features, merged), key=lambda item: item[0])
    score = float(np.clip(0.5 + worst / 2, 0.0, 1.0))
    if worst < 0:
        return GateVerdict(False, round(score, 4), reason)
    return GateVerdict(True, round(score, 4), "looks like an axial CT slice")
