"""Benchmark the input gate: its latency, what it refuses and what real CT it accepts.

    .venv/bin/python -m bench.gate [--data ../shared/data/cervical-fracture]

Figures go to the `gate` section of docs/BENCHMARKS.md. The thresholds are model.json's
"input_gate" when it has one, else inference/gate.py's defaults (the table says which).
Negatives are drawn with a different seed from the one training/gate.py fits with; the
scikit-image samples are the same files (other crops). The issue's goal - refuse 95% of
everyday photos, 90% of them in grayscale - can only be judged on photos the project never
saw; these families are a proxy, chosen by the same person who chose the gate's statistics.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from bench.report import markdown_table, write_section
from inference.gate import DEFAULT_SETTINGS, assess, settings_with_defaults
from tests.synthetic import photo_like
from training.data import grouped_split, open_image, read_split, train_dir
from training.gate import SLACK, VARIANTS, accepted_share, fit_thresholds, positive_features
from training.gate_negatives import negative_families

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cervical-fracture"
NEGATIVE_SEED = 123


def gate_settings(model_dir: Path) -> tuple[dict, str]:
    path = model_dir / "model.json"
    if path.is_file():
        section = json.loads(path.read_text()).get("input_gate") or {}
        if section:
            return section, "model/model.json input_gate"
    return dict(DEFAULT_SETTINGS), "inference/gate.py defaults (model.json has no input_gate)"


def latency_ms(image: Image.Image, settings: dict, repeats: int = 200) -> tuple[float, float]:
    """Median and 95th percentile of assess() on one decoded image, after a warm-up."""
    assess(image, settings)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        assess(image, settings)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 95))


def refusals(images: list[Image.Image], settings: dict) -> tuple[float, Counter]:
    verdicts = [assess(image, settings) for image in images]
    reasons = Counter(v.reason for v in verdicts if not v.passed)
    return sum(not v.passed for v in verdicts) / len(verdicts), reasons


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "model")
    parser.add_argument("--per-family", type=int, default=100)
    args = parser.parse_args(argv)
    settings, source = gate_settings(args.model_dir)
    no_aspect = settings_with_defaults(settings) | {"max_aspect": 1e9}

    records = read_split(train_dir(args.data))
    slices = [open_image(r.path) for r in records]
    _, held_out = grouped_split(records, validation_fraction=0.2, seed=int(settings.get("seed", 0)))
    held_names = {r.path for r in held_out}
    held_images = [im for im, r in zip(slices, records, strict=True) if r.path in held_names]

    rows_latency = []
    big_photo = photo_like(seed=1, size=1024).resize((4032, 3024))
    cases = {
        "real slice 224x224 RGB": next(im for im in slices if im.size == (224, 224)),
        "real slice 512x512 L": next(im for im in slices if im.size == (512, 512)),
        "colour photo 4032x3024": big_photo,
        "gray photo 4032x3024": big_photo.convert("L"),
    }
    for name, image in cases.items():
        median, p95 = latency_ms(image, settings, repeats=200 if image.width < 1000 else 30)
        rows_latency.append([name, f"{median:.2f}", f"{p95:.2f}"])

    rows_ct = []
    for name, images in (("all real slices (80% were used to fit)", slices),
                         ("held-out base slices only", held_images)):  # fmt: skip
        refused, reasons = refusals(images, settings)
        rows_ct.append([name, len(images), f"{100 * (1 - refused):.2f}%", _top(reasons)])
    for name, change in VARIANTS.items():
        refused, reasons = refusals([change(im) for im in held_images], settings)
        rows_ct.append([f"held-out, {name}", len(held_images), f"{100 * (1 - refused):.2f}%",
                        _top(reasons)])  # fmt: skip

    families = negative_families(seed=NEGATIVE_SEED, per_family=args.per_family)
    rows_negative = []
    pooled: dict[str, list[float]] = {"colour": [], "gray": []}
    for name, images in families.items():
        refused, reasons = refusals(images, settings)
        refused_content, _ = refusals(images, no_aspect)
        kind = "gray" if name.endswith("-gray") else "colour"
        pooled[kind] += [refused] * len(images)
        rows_negative.append(
            [name, len(images), f"{100 * refused:.1f}%", f"{100 * refused_content:.1f}%",
             _top(reasons)]
        )  # fmt: skip

    rows_series = series_held_out(records, families, (0.15, SLACK))

    markdown = "\n\n".join(
        [
            f"Thresholds: {source}. Negatives seed {NEGATIVE_SEED}.",
            "**Latency of `assess()`** on an already decoded image (ms, one core):",
            markdown_table(["image", "median ms", "p95 ms"], rows_latency),
            "**Real CT accepted** (../shared/data/cervical-fracture/train; the robustness "
            "perturbations, and the zoom and windowing ranges training augments with, applied "
            "to the held-out base slices):",
            markdown_table(["real CT", "images", "accepted", "refusal reasons"], rows_ct),
            "**Negatives refused** by family (`-gray`: the same images converted to "
            "grayscale; `without aspect` = the shape check switched off, i.e. refused on "
            "content alone):",
            markdown_table(
                ["family", "images", "refused", "without aspect", "main reasons"], rows_negative
            ),
            f"**A scan series never seen** (fit on the other two series, slack = the "
            f"fitted margin in 5-95% spreads; shipped: {SLACK}):",
            markdown_table(
                ["held-out series", "slack", "images", "CT accepted", "gray negatives refused"],
                rows_series,
            ),
            f"Pooled: colour families {100 * np.mean(pooled['colour']):.1f}% refused "
            f"({len(pooled['colour'])} images), gray families "
            f"{100 * np.mean(pooled['gray']):.1f}% ({len(pooled['gray'])} images).",
            "These negatives were generated by the project or ship inside installed wheels. "
            "The gate's statistics were chosen while looking at them, `other_wheels` "
            "(scikit-learn's and matplotlib's photos, logos and MRI slice) included: it was "
            "added late, and a grayscale crop of china.jpg that passed led to the "
            "two-dark-corners check. The issue's "
            "goal (>= 95% of everyday photos refused, >= 90% in grayscale) is judged on "
            "photos the project never saw; these figures are not that measurement.",
        ]
    )
    write_section("gate", "Input gate", markdown)
    print(markdown)
    return 0


def series_held_out(records: list, families: dict, slacks: tuple[float, ...]) -> list[list]:
    """Fit on two scan series, measure acceptance on the third: how the gate meets a new series.

    Every third record of the fitting series (with all perturbations) keeps this to minutes.
    """
    series = sorted({r.base_slice.split(" ")[0] for r in records})
    gray = [im for name, ims in families.items() if name.endswith("-gray") for im in ims]
    rows = []
    for held in series:
        fit_rows = positive_features([r for r in records if not r.base_slice.startswith(held)][::3])
        held_images = [open_image(r.path) for r in records if r.base_slice.startswith(held)]
        for slack in slacks:
            settings = fit_thresholds(fit_rows, slack)
            accepted, count = accepted_share(held_images, settings)
            gray_accepted, _ = accepted_share(gray, settings)
            rows.append([held, slack, count, f"{100 * accepted:.1f}%",
                         f"{100 * (1 - gray_accepted):.1f}%"])  # fmt: skip
    return rows


def _top(reasons: Counter, count: int = 2) -> str:
    return "; ".join(f"{reason} ({n})" for reason, n in reasons.most_common(count)) or "-"


if __name__ == "__main__":
    raise SystemExit(main())
