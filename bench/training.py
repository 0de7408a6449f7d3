"""Training figures for docs/BENCHMARKS.md: epoch time per architecture, the validation
metrics of the runs that were trained, and size / latency / accuracy per quantization.

    .venv/bin/python -m bench.training [--data ../shared/data/cervical-fracture]
                                       [--results RUN/model.json ...] [--steps 5]

Seconds per epoch are extrapolated from a few timed training steps (batch 16, 224x224, after
one warm-up step), times the steps of one epoch on the 804 training images of the grouped
split; the augmentation cost per epoch is measured apart, on the same images. Quantizations
are re-exported from model/cervical_fracture.keras and measured side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.report import markdown_table, write_section  # noqa: E402
from training.architectures import ARCHITECTURES  # noqa: E402
from training.data import (  # noqa: E402
    DataError,
    grouped_split,
    labels_of,
    open_image,
    read_split,
    to_tensors,
    train_dir,
)

BATCH = 16
SIZE = (224, 224)
MODEL_DIR = REPO / "model"


def seconds_per_epoch(arch: str, tensors: np.ndarray, labels: np.ndarray, steps: int) -> dict:
    """Median train-step time of `arch` (SGD, BCE, batch 16), extrapolated to one epoch."""
    import keras

    from training.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model(arch, SIZE, "none")
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="binary_crossentropy")
    rng = np.random.default_rng(0)

    def batch():
        rows = rng.choice(len(tensors), BATCH, replace=False)
        return tensors[rows], labels[rows]

    model.train_on_batch(*batch())  # warm-up: tracing and graph building
    times = []
    for _ in range(steps):
        x, y = batch()
        started = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - started)
    steps_per_epoch = int(np.ceil(len(tensors) / BATCH))
    step = statistics.median(times)
    return {
        "arch": arch,
        "parameters": int(model.count_params()),
        "step_s": step,
        "epoch_s": step * steps_per_epoch,
        "steps_per_epoch": steps_per_epoch,
    }


def augmentation_seconds(images: list, labels: np.ndarray, batches: int = 5) -> float:
    """Per-epoch cost of the PIL augmentation + serving preprocessing (median batch)."""
    from training.augment import AugmentedSlices

    source = AugmentedSlices(images, labels, "xception", SIZE, BATCH, seed=0)
    times = []
    for index in range(batches):
        started = time.perf_counter()
        source[index]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * len(source)


def quantization_rows(validation_images: list, labels: np.ndarray, repeats: int) -> list[list]:
    """Size, 1-thread latency (median) and validation accuracy per quantization."""
    import keras

    from inference.model import FractureModel
    from inference.preprocessing import image_to_tensor
    from training.evaluate import classification_metrics
    from training.export import QUANTIZATIONS, metadata, to_tflite, write_model_dir

    shipped = json.loads((MODEL_DIR / "model.json").read_text())
    model = keras.models.load_model(MODEL_DIR / "cervical_fracture.keras", compile=False)
    size = tuple(shipped["input"]["size"])
    tensors = [image_to_tensor(im, "xception", size) for im in validation_images]
    rows = []
    reference = None  # the float model's outputs, to report each quantization's deviation
    with tempfile.TemporaryDirectory() as scratch:
        for quantize in QUANTIZATIONS:
            folder = Path(scratch) / quantize
            document = metadata(
                sha256="",
                size=size,
                architecture=shipped["architecture"],
                quantize=quantize,
                threshold=shipped["threshold"],
                threshold_rule=shipped["threshold_rule"],
                classes=shipped["classes"],
                extra={},
            )
            write_model_dir(folder, to_tflite(model, size, quantize), document)
            served = FractureModel(folder, num_threads=1, runtime="ai-edge-litert")
            served.fracture_probability(tensors[0])
            times = []
            for index in range(repeats):
                started = time.perf_counter()
                served.fracture_probability(tensors[index % len(tensors)])
                times.append(time.perf_counter() - started)
            probabilities = np.array([served.fracture_probability(t) for t in tensors])
            scores = classification_metrics(labels, probabilities, shipped["threshold"])
            reference = probabilities if reference is None else reference
            rows.append(
                [
                    quantize,
                    f"{(folder / 'cervical_fracture.tflite').stat().st_size / 1024:.1f} KiB",
                    f"{1000 * statistics.median(times):.3f}",
                    f"{1000 * np.percentile(times, 90):.3f}",
                    f"{scores['accuracy']:.4f}",
                    f"{scores['recall']:.4f}",
                    f"{np.max(np.abs(probabilities - reference)):.2e}",
                ]
            )
    return rows


def _tflite_size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.2f} MiB" if path.is_file() else "?"


def result_rows(paths: list[Path]) -> list[list]:
    """Validation (and test, when present) figures recorded in model.json files of runs."""
    rows = []
    for path in paths:
        if not path.is_file():
            continue
        document = json.loads(path.read_text())
        training = document.get("training", {})
        for arch, candidate in training.get("candidates", {}).items():
            validation = candidate["validation"]
            rows.append(
                [
                    arch,
                    path.parent.name,
                    training.get("recipe", {}).get("optimizer", "?"),
                    "yes" if training.get("recipe", {}).get("augment") else "no",
                    candidate["best_epoch"],
                    f"{validation['loss']:.4f}",
                    f"{validation['accuracy']:.4f}",
                    f"{validation['recall']:.4f}",
                    f"{validation['roc_auc']:.4f}",
                    document.get("quantization", "?"),
                    _tflite_size(path.parent / document.get("file", "")),
                    training.get("tflite_latency_ms_per_image_1_thread", "?"),
                ]
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data/cervical-fracture")
    parser.add_argument("--results", type=Path, nargs="*", default=[MODEL_DIR / "model.json"])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=300, help="latency samples")
    parser.add_argument("--arch", nargs="*", default=list(ARCHITECTURES))
    args = parser.parse_args(argv)
    try:
        records = read_split(train_dir(args.data))
    except DataError as exc:
        print(f"error: {exc} (the training benchmark reads the real data)", file=sys.stderr)
        return 2
    train, validation = grouped_split(records, 0.2, seed=0)
    train_images = [open_image(r.path) for r in train]
    validation_images = [open_image(r.path) for r in validation]
    tensors = to_tensors(train_images, "xception", SIZE)
    labels = labels_of(train)

    epoch_rows = []
    for arch in args.arch:
        print(f"timing {arch} ...", flush=True)
        figures = seconds_per_epoch(arch, tensors, labels, args.steps)
        epoch_rows.append(
            [
                arch,
                f"{figures['parameters']:,}",
                f"{figures['step_s']:.3f}",
                f"{figures['epoch_s']:.1f}",
            ]
        )
    augmentation = augmentation_seconds(train_images, labels)
    print("quantizations ...", flush=True)
    quantized = quantization_rows(validation_images, labels_of(validation), args.repeats)
    trained = result_rows(args.results)

    shipped = json.loads((MODEL_DIR / "model.json").read_text())
    seen = (
        " (the shipped model was refit on train + validation, so these images were seen: the "
        "figures only show that quantization does not break it; the deviation column is the "
        "one that matters)"
        if "validation_before_refit" in shipped.get("metrics", {})
        else ""
    )
    trained_archs = {row[0] for row in trained}
    skipped = [a for a in ARCHITECTURES if a not in trained_archs]
    untrained = (
        f"Not trained here: {', '.join(skipped)} (at the epoch times above, 20 epochs of each "
        "would take 30-60 minutes on this shared 2-core CPU; `--arch all` does it)."
        if skipped
        else ""
    )
    markdown = f"""
Training on {len(train)} images of the grouped split (seed 0), batch {BATCH}, 224x224, SGD,
weights from scratch (`--weights none`). Epoch time = median of {args.steps} timed steps (after
one warm-up step) x {int(np.ceil(len(train) / BATCH))} steps; the CPU is shared with other
work, so treat these as rough. `--augment` adds the PIL augmentation and serving
preprocessing, measured apart: **{augmentation:.1f} s per epoch**.

{markdown_table(["architecture", "parameters", "s / step", "s / epoch (extrapolated)"], epoch_rows)}

Quantizations of the shipped model (`model/cervical_fracture.keras` re-exported), measured
side by side in this run: file size, single-image latency on 1 thread (ai-edge-litert,
median and 90th percentile of {args.repeats} invocations, preprocessing excluded), and
accuracy / sensitivity on the {len(validation)} validation images at the shipped threshold{seen}.

{
        markdown_table(
            [
                "quantization",
                "size",
                "median ms",
                "p90 ms",
                "val accuracy",
                "val sensitivity",
                "max abs diff vs none",
            ],
            quantized,
        )
    }

Validation figures (threshold 0.5, Keras model, held-out base slices) of the runs trained
here, as recorded in their model.json (`model` = the shipped recipe, `make train`; `custom` =
the original recipe, `training/train.py ROOT`; `inception_v3` = `--arch inception_v3
--epochs 4 --quantize dynamic`, a short run to exercise the path, not a tuned one). The last
column is the mean time per validation image while exporting, from separate runs under
different load: indicative only, unlike the side-by-side medians above. {untrained}

{
        markdown_table(
            [
                "architecture",
                "run",
                "optimizer",
                "augment",
                "best epoch",
                "val loss",
                "val accuracy",
                "val sensitivity",
                "val AUC",
                "exported as",
                ".tflite",
                "ms / image (1 thread, at export)",
            ],
            trained,
        )
    }
"""
    write_section("training", "Training: epoch time, trained runs, quantizations", markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
